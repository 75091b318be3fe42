from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rtuportal.choices import Indication, Sex, TreatmentStatus

# RTU prescriptions last at most one month: a visit is overdue 28 days after the last one.
VISIT_INTERVAL_DAYS = 28


class Patient(models.Model):
    """A patient known only by a generated pseudonymous code (no name, no birth date)."""

    code = models.CharField(_("patient code"), max_length=13, unique=True)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patients",
        verbose_name=_("prescriber"),
        db_index=False,  # patient_prescriber_visit leads with it
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    inclusion_date = models.DateField(_("inclusion date"))
    protocol_version = models.CharField(_("protocol version at inclusion"), max_length=4)
    indication = models.CharField(_("indication"), max_length=12, choices=Indication.choices)
    treatment_status = models.CharField(
        _("treatment status"), max_length=12, choices=TreatmentStatus.choices
    )
    pretreatment_dose_mg = models.PositiveSmallIntegerField(
        _("daily dose before inclusion (mg/day)"), null=True, blank=True
    )
    failed_treatments = models.JSONField(_("treatments tried and failed"), default=list, blank=True)
    precautions = models.JSONField(_("precautions"), default=list, blank=True)
    alcohol_g_per_day = models.PositiveSmallIntegerField(_("alcohol consumption (g/day)"))
    craving = models.PositiveSmallIntegerField(_("craving (0-10)"))
    abstinent = models.BooleanField(_("abstinent"))
    psychosocial_care = models.BooleanField(_("psycho-social care in place"), default=True)
    informed_of_rtu = models.BooleanField(_("patient informed of the RTU conditions"), default=True)

    # Kept up to date by the services in the same transaction as the visit/stop they follow,
    # so that lists of 300,000 patients filter and sort on indexed columns.
    latest_dose_mg = models.PositiveSmallIntegerField(_("current daily dose (mg/day)"), null=True)
    last_visit_date = models.DateField(_("last visit"), null=True)
    in_titration = models.BooleanField(_("in titration"), default=False)
    stopped_on = models.DateField(_("treatment stopped on"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["-inclusion_date", "code"]
        indexes = [
            models.Index(fields=["prescriber", "last_visit_date"], name="patient_prescriber_visit"),
            models.Index(fields=["inclusion_date"], name="patient_inclusion_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(craving__lte=10), name="patient_craving_0_10"
            ),
            models.CheckConstraint(
                condition=models.Q(alcohol_g_per_day__lte=1000), name="patient_alcohol_max"
            ),
            models.CheckConstraint(
                condition=models.Q(sex__in=["M", "F"]), name="patient_sex_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(indication__in=["abstinence", "reduction"]),
                name="patient_indication_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(treatment_status__in=["initiation", "pretreated"]),
                name="patient_treatment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def age_on(self, on: date) -> int:
        return on.year - self.birth_year

    @property
    def age_at_inclusion(self) -> int:
        return self.age_on(self.inclusion_date)

    @property
    def is_stopped(self) -> bool:
        return self.stopped_on is not None

    @property
    def next_visit_due(self) -> date:
        return (self.last_visit_date or self.inclusion_date) + timedelta(days=VISIT_INTERVAL_DAYS)

    def is_overdue(self, today: date) -> bool:
        return not self.is_stopped and self.next_visit_due < today
