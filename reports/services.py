"""Report writes: a request creates a pending row and enqueues the build in the same transaction."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from rtuportal import outbox

from .models import CohortReport

LANGUAGES = ("fr", "en")
BUILD_TASK = "reports.tasks.build_report"


class ReportError(ValueError):
    """A request the service refuses, with a message for the user."""


@transaction.atomic
def report_request(
    *,
    requested_by: User | None,
    date_from: date | None,
    date_to: date | None,
    language: str = "fr",
) -> CohortReport:
    """Create the report row and enqueue its build through the outbox (sent on commit)."""
    if date_from and date_to and date_from > date_to:
        raise ReportError(_("The start of the period must not be after its end."))
    if language not in LANGUAGES:
        raise ReportError(_("Unknown report language."))
    report = CohortReport(
        requested_by=requested_by, date_from=date_from, date_to=date_to, language=language
    )
    report.full_clean(exclude=["requested_by"])  # None: the monthly schedule or a command
    report.save()
    outbox.enqueue(BUILD_TASK, report.pk)
    return report


def report_in_progress(
    *, date_from: date | None, date_to: date | None, language: str = "fr"
) -> CohortReport | None:
    """The oldest report of the same period and language still pending or running, if any:
    a second agency user asking for it joins that build instead of starting another (a
    whole-cohort build takes a core of the database server for seconds)."""
    return (
        CohortReport.objects.defer("pdf", "summary")
        .filter(
            date_from=date_from,
            date_to=date_to,
            language=language,
            status__in=[CohortReport.Status.PENDING, CohortReport.Status.RUNNING],
        )
        .order_by("pk")
        .first()
    )


@transaction.atomic
def report_retry(*, report_id: int) -> CohortReport:
    """Put a failed report back in the queue: a new attempt on the same row."""
    updated = CohortReport.objects.filter(pk=report_id, status=CohortReport.Status.FAILED).update(
        status=CohortReport.Status.PENDING,
        progress=0,
        error="",
        started_at=None,
        finished_at=None,
    )
    if not updated:
        raise ReportError(_("Only a failed report can be built again."))
    outbox.enqueue(BUILD_TASK, report_id)
    return CohortReport.objects.get(pk=report_id)
