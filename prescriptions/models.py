from django.conf import settings
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rtuportal.choices import StopReason


def _multiple_of_5(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Exact(Mod(field, 5), 0), name=name)


class Visit(models.Model):
    """A visit: the dose prescribed, the patient's state, and the opinions on record."""

    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("patient"),
        db_index=False,  # visit_patient_date leads with it
    )
    visit_date = models.DateField(_("visit date"))
    is_inclusion = models.BooleanField(_("inclusion visit"), default=False)
    protocol_version = models.CharField(_("protocol version"), max_length=4)
    daily_dose_mg = models.PositiveSmallIntegerField(_("daily dose (mg/day)"))
    dose_morning_mg = models.PositiveSmallIntegerField(_("morning (mg)"), default=0)
    dose_noon_mg = models.PositiveSmallIntegerField(_("noon (mg)"), default=0)
    dose_evening_mg = models.PositiveSmallIntegerField(_("evening (mg)"), default=0)
    dose_bedtime_mg = models.PositiveSmallIntegerField(_("bedtime (mg)"), default=0)
    alcohol_g_per_day = models.PositiveSmallIntegerField(_("alcohol consumption (g/day)"))
    craving = models.PositiveSmallIntegerField(_("craving (0-10)"))
    abstinent = models.BooleanField(_("abstinent"))
    second_opinion = models.BooleanField(_("second opinion obtained"), default=False)
    second_opinion_date = models.DateField(_("second opinion date"), null=True, blank=True)
    second_opinion_by = models.CharField(_("second opinion by"), max_length=200, blank=True)
    collegial_opinion = models.BooleanField(_("collegial opinion obtained"), default=False)
    collegial_opinion_date = models.DateField(_("collegial opinion date"), null=True, blank=True)
    collegial_opinion_by = models.CharField(_("collegial opinion by"), max_length=200, blank=True)
    multidisciplinary_care = models.BooleanField(_("multidisciplinary care"), default=False)
    multidisciplinary_care_date = models.DateField(
        _("multidisciplinary care since"), null=True, blank=True
    )
    multidisciplinary_care_by = models.CharField(
        _("multidisciplinary care team"), max_length=200, blank=True
    )
    note = models.TextField(_("note"), max_length=4000, blank=True)
    warnings_acknowledged = models.BooleanField(_("protocol warnings acknowledged"), default=False)
    version = models.PositiveIntegerField(default=1)  # optimistic locking
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["patient", "visit_date", "pk"]
        indexes = [models.Index(fields=["patient", "visit_date"], name="visit_patient_date")]
        constraints = [
            # Target of the dose steps' (visit, patient) foreign key (migration 0002).
            models.UniqueConstraint(fields=["id", "patient"], name="visit_id_patient"),
            _multiple_of_5("daily_dose_mg", "visit_dose_multiple_of_5"),
            models.CheckConstraint(condition=models.Q(daily_dose_mg__gte=5), name="visit_dose_min"),
            models.CheckConstraint(condition=models.Q(craving__lte=10), name="visit_craving_0_10"),
            models.CheckConstraint(
                condition=models.Q(alcohol_g_per_day__lte=1000), name="visit_alcohol_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.visit_date}"

    @property
    def intakes_mg(self) -> tuple[int, int, int, int]:
        return (self.dose_morning_mg, self.dose_noon_mg, self.dose_evening_mg, self.dose_bedtime_mg)


class StopOfTreatment(models.Model):
    """The stop of treatment, with its taper; a restart is recorded on the same row."""

    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="stops",
        verbose_name=_("patient"),
        db_index=False,  # stop_patient_date leads with it
    )
    stop_date = models.DateField(_("stop date"))
    reason = models.CharField(_("reason"), max_length=20, choices=StopReason.choices)
    note = models.TextField(_("note"), max_length=4000, blank=True)
    restarted_on = models.DateField(_("treatment restarted on"), null=True, blank=True)
    restart_note = models.TextField(_("restart note"), max_length=4000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stop of treatment")
        verbose_name_plural = _("stops of treatment")
        ordering = ["patient", "stop_date", "pk"]
        indexes = [models.Index(fields=["patient", "stop_date"], name="stop_patient_date")]
        constraints = [
            # Target of the dose steps' (stop, patient) foreign key (migration 0002).
            models.UniqueConstraint(fields=["id", "patient"], name="stop_id_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.stop_date}"


class DoseStep(models.Model):
    """One step of the titration log: from `start_date` the patient takes `daily_dose_mg`.

    Steps belong to the visit that planned them, or to the taper of a stop of treatment. The
    patient is repeated on the row so that the whole log of a patient is one indexed range.

    On PostgreSQL the database holds the step to its visit or stop *and to the same patient*
    with composite foreign keys (visit_id, patient_id) and (stop_id, patient_id), added by
    migration 0002 in place of Django's single-column ones: one check per row instead of two
    on import, and a step can never name another patient than its visit's.
    """

    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="dose_steps",
        db_index=False,  # step_patient_date leads with it
        db_constraint=False,  # held by the composite keys through the visit or stop
    )
    visit = models.ForeignKey(
        Visit,
        on_delete=models.CASCADE,
        related_name="steps",
        null=True,
        blank=True,
        db_constraint=False,  # composite (visit_id, patient_id) key, migration 0002
    )
    stop = models.ForeignKey(
        StopOfTreatment,
        on_delete=models.CASCADE,
        related_name="taper_steps",
        null=True,
        blank=True,
        db_index=False,  # step_stop, partial: most steps belong to a visit
        db_constraint=False,  # composite (stop_id, patient_id) key, migration 0002
    )
    start_date = models.DateField(_("from"))
    daily_dose_mg = models.PositiveSmallIntegerField(_("daily dose (mg/day)"))

    class Meta:
        verbose_name = _("dose step")
        verbose_name_plural = _("dose steps")
        ordering = ["patient", "start_date", "pk"]
        indexes = [
            models.Index(fields=["patient", "start_date"], name="step_patient_date"),
            models.Index(fields=["stop"], name="step_stop", condition=models.Q(stop__isnull=False)),
        ]
        constraints = [
            _multiple_of_5("daily_dose_mg", "step_dose_multiple_of_5"),
            models.CheckConstraint(
                condition=models.Q(visit__isnull=False) | models.Q(stop__isnull=False),
                name="step_belongs_to_visit_or_stop",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}: {self.daily_dose_mg} mg/day"
