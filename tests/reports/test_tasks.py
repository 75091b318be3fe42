"""The build task: atomic claim, second delivery ignored, failure stored, retry, monthly job."""

import time
from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from reports import tasks
from reports.models import CohortReport
from reports.services import report_request
from tests.conftest import require_service
from tests.reports.cohort import build

pytestmark = pytest.mark.django_db


def _pending(agency=None):
    # Created directly: no outbox message, so nothing builds it behind the test's back.
    return CohortReport.objects.create(requested_by=agency)


def test_build_then_second_delivery_does_nothing(agency):
    build()
    report = _pending(agency)
    assert tasks.build_report.apply(args=[report.pk]).get() is True
    report.refresh_from_db()
    assert (report.status, report.progress, report.attempts) == ("done", 100, 1)
    assert report.summary["patients"] == 5
    assert bytes(report.pdf).startswith(b"%PDF")
    assert report.statistics_seconds is not None and report.pdf_seconds is not None
    assert tasks.build_report.apply(args=[report.pk]).get() is False
    report.refresh_from_db()
    assert report.attempts == 1


def test_a_running_report_is_taken_again_only_when_stale(agency):
    report = CohortReport.objects.create(
        requested_by=agency, status="running", started_at=timezone.now()
    )
    assert tasks.claim(report.pk, worker="w2") is False
    CohortReport.objects.filter(pk=report.pk).update(
        started_at=timezone.now() - tasks.STALE_AFTER - timedelta(seconds=1)
    )
    assert tasks.claim(report.pk, worker="w2") is True
    report.refresh_from_db()
    assert (report.worker, report.attempts) == ("w2", 1)


def test_failure_is_recorded_and_retry_builds_it(
    agency, agency_client, monkeypatch, django_capture_on_commit_callbacks
):
    build()
    report = _pending(agency)

    def broken(*args, **kwargs):
        raise ValueError("division by zero in the organ class table")

    monkeypatch.setattr(tasks, "cohort_summary", broken)
    tasks.build(report.pk)
    report.refresh_from_db()
    assert report.status == "failed"
    assert "division by zero in the organ class table" in report.error
    page = agency_client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "division by zero" in page and reverse("reports:retry", args=[report.pk]) in page

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends on commit
        response = agency_client.post(reverse("reports:retry", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.attempts, report.error) == ("done", 2, "")


def test_retry_of_a_done_report_is_refused(agency, agency_client):
    report = CohortReport.objects.create(requested_by=agency, status="done")
    agency_client.post(reverse("reports:retry", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == "done" and report.attempts == 0


def test_a_request_is_queued_through_the_outbox(agency, django_capture_on_commit_callbacks):
    from rtuportal.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=False):
        report = report_request(requested_by=agency, date_from=None, date_to=None)
    message = OutboxMessage.objects.get()
    assert (message.task_name, message.args, message.sent_at) == (
        "reports.tasks.build_report",
        [report.pk],
        None,
    )


@time_machine.travel(date(2014, 8, 1))
def test_monthly_report_is_built_and_mailed(agency):
    build()
    report_id = tasks.build_previous_month_report.apply().get()
    report = CohortReport.objects.get(pk=report_id)
    assert (report.date_from, report.date_to, report.status) == (
        date(2014, 7, 1),
        date(2014, 7, 31),
        "done",
    )
    assert report.summary["patients"] == 1  # D, included on 1 July 2014
    [message] = mail.outbox
    assert message.to == [settings.RTU_AGENCY_EMAIL]
    assert f"/reports/{report.pk}/" in message.body
    assert tasks.build_previous_month_report.apply().get() is None  # second delivery


def test_previous_month_bounds():
    assert tasks.previous_month(date(2015, 1, 1)) == (date(2014, 12, 1), date(2014, 12, 31))
    assert tasks.previous_month(date(2016, 3, 1)) == (date(2016, 2, 1), date(2016, 2, 29))


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_builds_the_report(agency):
    require_service("Redis and a Celery worker", not settings.CELERY_TASK_ALWAYS_EAGER)
    build()
    report = report_request(requested_by=agency, date_from=None, date_to=None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.status in ("done", "failed"):
            break
        time.sleep(0.5)
    assert report.status == "done", report.error
    assert report.worker and report.worker != "inline"


def test_beat_requeues_reports_whose_worker_died(agency, django_capture_on_commit_callbacks):
    build()
    dead = CohortReport.objects.create(
        requested_by=agency,
        status="running",
        started_at=timezone.now() - tasks.STALE_AFTER - timedelta(seconds=1),
    )
    alive = CohortReport.objects.create(
        requested_by=agency, status="running", started_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stale_reports() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.attempts) == ("done", 1)
    assert alive.status == "running"
    # Nothing stale any more: a second beat run sends nothing.
    assert tasks.requeue_stale_reports() == 0


def test_a_report_is_built_at_background_priority(settings):
    """The report's database session runs without parallel workers and, PostgreSQL being on
    this machine, its backend at the configured nice level; 0 leaves the session alone."""
    import os

    from django.db import connection

    from reports.tasks import background_priority
    from tests.conftest import require_service

    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    settings.RTU_REPORT_NICE = 0
    assert background_priority() is None
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] != "0"
    settings.RTU_REPORT_NICE = 10
    try:
        pid = background_priority()
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            assert cursor.fetchone()[0] == "0"
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == pid
        assert os.getpriority(os.PRIO_PROCESS, pid) >= 10
        # What runs next on this connection (a page, when tasks run inline) runs as before.
        tasks.end_background_priority()
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            assert cursor.fetchone()[0] != "0"
        assert os.getpriority(os.PRIO_PROCESS, pid) == 0
    finally:  # the connection serves the next tests: give it back as it was
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")
            cursor.execute("SELECT pg_backend_pid()")
            os.setpriority(os.PRIO_PROCESS, cursor.fetchone()[0], 0)
