"""Celery tasks building cohort reports (one row each, claimed atomically)."""

from __future__ import annotations

import logging
import os
import time
from datetime import date, timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import CohortReport
from .pdf import render_pdf
from .statistics import cohort_summary

logger = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 540
TIME_LIMIT = 600
# A running report whose worker died (acks_late redelivers the task) is rebuilt once its
# start is older than the hard time limit: no live worker can still be building it.
STALE_AFTER = timedelta(seconds=TIME_LIMIT + 60)
MAX_TRANSIENT_RETRIES = 3


def claim(report_id: int, *, worker: str) -> bool:
    """Take the report for this worker; False when another delivery has it or it is done."""
    now = timezone.now()
    claimable = Q(status=CohortReport.Status.PENDING) | Q(
        status=CohortReport.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    return bool(
        CohortReport.objects.filter(claimable, pk=report_id).update(
            status=CohortReport.Status.RUNNING,
            started_at=now,
            finished_at=None,
            progress=5,
            attempts=F("attempts") + 1,
            worker=worker[:200],
            error="",
        )
    )


def _progress(report_id: int, progress: int, **fields) -> None:
    CohortReport.objects.filter(pk=report_id).update(progress=progress, **fields)


def background_priority() -> int | None:
    """Let the pages go first while a report is built on the portal's machine.

    The report's queries are the heaviest the database runs: with parallel workers and at the
    pages' priority they took both cores of a 2-core machine for seconds, and the pages' p95 went
    from 60 ms to a second while a report built (bench/results.md). So the report's session runs
    without parallel workers, and its backend process, when PostgreSQL runs on this machine (the
    embedded and single-host set-ups), at nice RTU_REPORT_NICE: the report then takes the CPU
    the pages leave. Best effort: a database on another host is left as it is (it has its own
    cores). Returns the backend's pid when it was reniced.
    """
    nice = settings.RTU_REPORT_NICE
    if connection.vendor != "postgresql" or not nice:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return None  # another host: that pid is not a process of this machine
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if b"postgres" not in cmdline.read():
                return None  # another pid namespace (a container): not our backend
        before = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, max(nice, before))
    except OSError:  # no /proc, or not ours to renice
        return None
    _reniced[pid] = before
    logger.info("report session: backend %s at nice %s, no parallel workers", pid, nice)
    return pid


_reniced: dict[int, int] = {}  # backend pid -> its nice level before background_priority


def end_background_priority() -> None:
    """Give the session back as it was, for what runs next on this connection (a page, when
    tasks run inline): closed when possible (the niced backend ends with it), else reset."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    if not connection.in_atomic_block:
        _reniced.clear()
        connection.close()
        return
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    if pid in _reniced:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, _reniced.pop(pid))
        except OSError:  # lowering a nice level needs the privilege that raised it
            pass


def build(report_id: int, *, worker: str = "inline") -> bool:
    """Build one report (statistics, then PDF); the task and `cohort_report` both call this.

    Returns True when this call built it. A failure is stored on the row in words the page
    shows; transient database errors put the row back to pending and are raised for a retry.
    """
    if not claim(report_id, worker=worker):
        logger.info("report %s not claimed (done, failed or taken)", report_id)
        return False
    report = CohortReport.objects.get(pk=report_id)
    try:
        background_priority()
        started = time.monotonic()
        summary = cohort_summary(report.date_from, report.date_to)
        statistics_seconds = time.monotonic() - started
        _progress(report_id, 60, summary=summary, statistics_seconds=statistics_seconds)
        started = time.monotonic()
        pdf = render_pdf(summary, language=report.language)
        _progress(
            report_id,
            100,
            pdf=pdf,
            pdf_seconds=time.monotonic() - started,
            status=CohortReport.Status.DONE,
            finished_at=timezone.now(),
        )
    except OperationalError:
        _progress(report_id, 0, status=CohortReport.Status.PENDING, started_at=None)
        raise
    except SoftTimeLimitExceeded:
        _fail(report_id, "The report took longer than the time limit and was stopped.")
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        _fail(report_id, f"{type(exc).__name__}: {exc}")
    finally:
        try:
            end_background_priority()
        except DatabaseError:  # the database went away: the session went with it
            logger.warning("report %s: session not reset", report_id, exc_info=True)
    return True


def _fail(report_id: int, message: str) -> None:
    CohortReport.objects.filter(pk=report_id).update(
        status=CohortReport.Status.FAILED, error=message[:2000], finished_at=timezone.now()
    )


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def build_report(self, report_id: int) -> bool:
    try:
        return build(report_id, worker=self.request.hostname or "celery")
    except OperationalError as exc:
        if self.request.retries >= MAX_TRANSIENT_RETRIES:
            _fail(report_id, f"Database unavailable: {exc}")
            return False
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


@shared_task(ignore_result=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def build_previous_month_report() -> int | None:
    """On the 1st: the report of the previous month, built here, and a link e-mailed."""
    from .services import report_request

    date_from, date_to = previous_month(timezone.localdate())
    if CohortReport.objects.filter(
        date_from=date_from, date_to=date_to, requested_by=None
    ).exists():
        return None  # a second delivery of the beat message: already done
    with transaction.atomic():
        report = report_request(
            requested_by=None, date_from=date_from, date_to=date_to, language="fr"
        )
    build(report.pk, worker="beat")  # no-op when the outbox delivery already built it
    report.refresh_from_db()
    link = settings.RTU_SITE_URL.rstrip("/") + reverse("reports:detail", args=[report.pk])
    with translation.override("fr"):
        body = render_to_string(
            "reports/email/monthly.txt",
            {"report": report, "link": link, "date_from": date_from, "date_to": date_to},
        )
        subject = translation.gettext("RTU baclofen: cohort report of the previous month")
    send_mail(subject, body, None, [settings.RTU_AGENCY_EMAIL])
    return report.pk


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def requeue_stale_reports() -> int:
    """Send again the reports whose worker died, without waiting for the broker's redelivery.

    A report left `running` past STALE_AFTER (its worker was killed) or left `pending` for as
    long (its message was lost) is sent to the queue again; the claim makes it built once.
    """
    from rtuportal.outbox import enqueue

    cutoff = timezone.now() - STALE_AFTER
    stale = list(
        CohortReport.objects.filter(
            Q(status=CohortReport.Status.RUNNING, started_at__lt=cutoff)
            | Q(status=CohortReport.Status.PENDING, created_at__lt=cutoff)
        ).values_list("pk", flat=True)[:100]
    )
    with transaction.atomic():
        for report_id in stale:
            enqueue("reports.tasks.build_report", report_id)
    return len(stale)


@shared_task(ignore_result=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def refresh_missing_summaries() -> int:
    """The report summaries of the patients who have none (after an import; beat, as a sweep)."""
    from .summaries import summaries_refresh_missing

    return summaries_refresh_missing()


@shared_task(ignore_result=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def refresh_stale_summaries() -> int:
    """The report summaries of the patients written since their last refresh (queued a few
    seconds after a write, at most one pending; beat, every minute, as a sweep)."""
    from django.core.cache import cache

    from .summaries import REFRESH_QUEUED_KEY, summaries_refresh_stale

    try:
        # Before reading the stale rows: a write committed from now on queues the next job.
        cache.delete(REFRESH_QUEUED_KEY)
    except Exception as exc:  # noqa: BLE001 - the cache's key expires by itself
        logger.warning("refresh key not cleared: %s", exc)
    return summaries_refresh_stale()
