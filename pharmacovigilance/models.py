from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rtuportal.choices import (
    ActionTaken,
    Causality,
    OrganClass,
    Outcome,
    Region,
    SeriousnessCriterion,
)

# Transmission deadlines to the CRPV, counted from the day the portal received the report.
SERIOUS_DEADLINE_DAYS = 15
NON_SERIOUS_DEADLINE_DAYS = 90


class DoseBand(models.TextChoices):
    """Daily dose at onset, in the bands of the dose-dependent risk question (2017 cap)."""

    UP_TO_80 = "le80", _("≤ 80 mg/day")
    FROM_81_TO_120 = "81_120", _("81–120 mg/day")
    FROM_121_TO_180 = "121_180", _("121–180 mg/day")
    OVER_180 = "gt180", _("> 180 mg/day")
    UNKNOWN = "unknown", _("Unknown dose")


# Upper bound (inclusive) of each band; the last band has none.
DOSE_BAND_BOUNDS: tuple[tuple[str, int | None], ...] = (
    (DoseBand.UP_TO_80, 80),
    (DoseBand.FROM_81_TO_120, 120),
    (DoseBand.FROM_121_TO_180, 180),
    (DoseBand.OVER_180, None),
)


def dose_band_of(dose_mg: int | None) -> str:
    if dose_mg is None:
        return DoseBand.UNKNOWN
    for band, upper in DOSE_BAND_BOUNDS:
        if upper is None or dose_mg <= upper:
            return band
    return DoseBand.OVER_180


class ReactionTerm(models.Model):
    """A reaction of the portal's curated vocabulary (not MedDRA), editable by admins."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_fr = models.CharField(_("French label"), max_length=120)
    label_en = models.CharField(_("English label"), max_length=120)
    organ_class = models.CharField(
        _("system organ class"), max_length=20, choices=OrganClass.choices
    )
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reaction term")
        verbose_name_plural = _("reaction terms")
        ordering = ["label_fr"]

    def __str__(self) -> str:
        return self.label

    # The catch-all term: the reporter's own words are then required and kept.
    OTHER = "other"

    @property
    def is_other(self) -> bool:
        return self.code == self.OTHER

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "fr").startswith("en") else self.label_fr


class CRPV(models.Model):
    """A regional pharmacovigilance centre and the regions whose cases it receives."""

    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    email = models.EmailField(_("e-mail"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("regional pharmacovigilance centre")
        verbose_name_plural = _("regional pharmacovigilance centres")
        ordering = ["city"]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


class CRPVRegion(models.Model):
    """Routing: each region's cases go to exactly one CRPV."""

    region = models.CharField(_("region"), max_length=2, choices=Region.choices, unique=True)
    crpv = models.ForeignKey(CRPV, on_delete=models.PROTECT, related_name="regions")

    class Meta:
        verbose_name = _("region covered")
        verbose_name_plural = _("regions covered")
        ordering = ["region"]

    def __str__(self) -> str:
        return f"{self.get_region_display()} → {self.crpv}"


class AgencyProfile(models.Model):
    """Agency staff attached to a CRPV see only the cases routed to that centre."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agency_profile",
        verbose_name=_("account"),
    )
    crpv = models.ForeignKey(
        CRPV,
        on_delete=models.PROTECT,
        related_name="staff",
        null=True,
        blank=True,
        verbose_name=_("CRPV"),
        help_text=_("Leave empty for agency staff who follow every case."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency profile")
        verbose_name_plural = _("agency profiles")

    def __str__(self) -> str:
        return str(self.user)


class AdverseEvent(models.Model):
    """A case: one suspected adverse reaction of a patient, with its follow-up history."""

    class Dechallenge(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown / not applicable")
        POSITIVE = "positive", _("Positive (reaction abated)")
        NEGATIVE = "negative", _("Negative (reaction persisted)")

    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="adverse_events",
        verbose_name=_("patient"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    onset_date = models.DateField(_("onset date"))
    term = models.ForeignKey(
        ReactionTerm, on_delete=models.PROTECT, related_name="cases", verbose_name=_("reaction")
    )
    reporter_term = models.CharField(
        _("reaction in the reporter's words"), max_length=200, blank=True
    )
    organ_class = models.CharField(
        _("system organ class"), max_length=20, choices=OrganClass.choices
    )
    description = models.TextField(_("description"), max_length=4000, blank=True)
    serious = models.BooleanField(_("serious"))
    seriousness_criteria = models.JSONField(_("seriousness criteria"), default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices)
    causality = models.CharField(_("causality"), max_length=10, choices=Causality.choices)
    action_taken = models.CharField(
        _("action taken with baclofen"), max_length=20, choices=ActionTaken.choices
    )
    dechallenge = models.CharField(
        _("dechallenge"), max_length=10, choices=Dechallenge.choices, default=Dechallenge.UNKNOWN
    )
    rechallenge = models.CharField(
        _("rechallenge"), max_length=10, choices=Dechallenge.choices, default=Dechallenge.UNKNOWN
    )
    # Derived from the titration log at the onset date, never typed.
    dose_at_onset_mg = models.PositiveSmallIntegerField(
        _("daily dose at onset (mg/day)"), null=True, blank=True
    )
    protocol_version = models.CharField(_("protocol version at onset"), max_length=4, blank=True)
    crpv = models.ForeignKey(
        CRPV,
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
        verbose_name=_("CRPV"),
    )
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("transmission due on"))
    notified_at = models.DateTimeField(_("CRPV notified at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(fields=["patient", "onset_date"], name="ae_patient_onset"),
            models.Index(fields=["received_on"], name="ae_received"),
            models.Index(fields=["crpv", "received_on"], name="ae_crpv_received"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.term_id} ({self.patient_id})"

    @staticmethod
    def deadline_for(*, serious: bool, received_on) -> "models.DateField":
        days = SERIOUS_DEADLINE_DAYS if serious else NON_SERIOUS_DEADLINE_DAYS
        return received_on + timedelta(days=days)

    def is_overdue(self, today) -> bool:
        return self.notified_at is None and self.due_on < today

    @property
    def criteria_labels(self) -> list[str]:
        labels = dict(SeriousnessCriterion.choices)
        return [str(labels.get(code, code)) for code in self.seriousness_criteria]

    def dose_band(self) -> str:
        return dose_band_of(self.dose_at_onset_mg)

    @property
    def reaction_label(self) -> str:
        """The term as shown to people: the reporter's words for the catch-all term."""
        if self.reporter_term and self.term.is_other:
            return self.reporter_term
        return self.term.label


class FollowUpReport(models.Model):
    """New information on a case (outcome change, details); the case keeps every version."""

    case = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="follow_ups")
    received_on = models.DateField(_("received on"))
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices)
    information = models.TextField(_("new information"), max_length=4000)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up report")
        verbose_name_plural = _("follow-up reports")
        ordering = ["case", "received_on", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.received_on}"
