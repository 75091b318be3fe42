from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CohortReport(models.Model):
    """One request for the cohort summary of a period, built by a Celery task from its id."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=5, default="fr")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    summary = models.JSONField(_("summary"), null=True, blank=True)
    pdf = models.BinaryField(_("PDF"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    statistics_seconds = models.FloatField(null=True, blank=True)
    pdf_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("cohort report")
        verbose_name_plural = _("cohort reports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="report_progress_max"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.date_from}–{self.date_to} ({self.status})"


class PatientSummary(models.Model):
    """A patient's figures for the cohort report, as of every fact on record (derived data).

    A write that changes a patient's figures (visits, steps, stops, adverse events) marks the
    row `stale` in its transaction (reports.summaries.summaries_mark_stale); a worker recomputes
    the stale rows in batches a few seconds later (summaries_refresh_stale), and the seed and
    the import write them in bulk, so that the whole-cohort report reads one narrow row per
    patient instead of the three million visits. A stale row is never read: the report computes
    that patient from the clinical tables, with the same figures. `facts_until` is the date of
    the patient's latest fact: the row answers for any report whose period ends on or after it.
    A patient without a row, or whose facts go past the period's end, is computed from the
    clinical tables too (reports.statistics).

    Flags are 0/1 integers so that the report's SQL sums them alike on PostgreSQL and SQLite.
    `last_follow_up` packs the last follow-up visit's values (reports.statistics._PACK_*).
    Not in the history: every value is recomputed from rows that are.
    """

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    facts_until = models.DateField(null=True)
    last_follow_up = models.IntegerField(null=True)
    stopped = models.PositiveSmallIntegerField(default=0)
    ae_any = models.PositiveSmallIntegerField(default=0)
    ae_related = models.PositiveSmallIntegerField(default=0)
    ae_serious = models.PositiveSmallIntegerField(default=0)
    ae_serious_related = models.PositiveSmallIntegerField(default=0)
    highest_dose_mg = models.PositiveSmallIntegerField(null=True)
    stale = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = _("patient summary")
        verbose_name_plural = _("patient summaries")
        indexes = [
            # The refresher's queue: the few stale rows, found without reading the others.
            models.Index(fields=["patient"], condition=models.Q(stale=True), name="summary_stale")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} until {self.facts_until}"


class PatientFindings(models.Model):
    """The protocol findings of one patient's steps dated in one protocol version (derived).

    One row per patient and version with at least one step ('' = before the RTU); written with
    the patient's PatientSummary. A column per finding code of prescriptions.rules (a test holds
    them equal).
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    version = models.CharField(max_length=4, blank=True)
    steps = models.PositiveIntegerField()
    blocking_steps = models.PositiveIntegerField()
    blocked = models.PositiveSmallIntegerField()
    n_before_protocol = models.PositiveIntegerField()
    n_invalid_dose = models.PositiveIntegerField()
    n_max_dose_exceeded = models.PositiveIntegerField()
    n_second_opinion_required = models.PositiveIntegerField()
    n_collegial_opinion_required = models.PositiveIntegerField()
    n_multidisciplinary_care_required = models.PositiveIntegerField()
    n_starting_dose_too_high = models.PositiveIntegerField()
    n_step_too_large = models.PositiveIntegerField()
    n_step_too_soon = models.PositiveIntegerField()
    n_taper_too_fast = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("patient findings")
        verbose_name_plural = _("patient findings")
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="findings_patient_version")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.version or 'before RTU'}"
