"""Report pages: agency and admin only, request -> build -> read -> download."""

import pytest
from django.urls import reverse

from reports.models import CohortReport
from rtuportal.models import OutboxMessage
from tests.reports.cohort import build

pytestmark = pytest.mark.django_db

PER_REPORT = ("detail", "progress", "pdf", "json", "csv", "retry")


@pytest.fixture
def done_report(agency):
    build()
    from reports import tasks
    from reports.services import report_request

    report = report_request(requested_by=agency, date_from=None, date_to=None)
    tasks.build(report.pk)  # eager mode already built it on commit in most setups
    report.refresh_from_db()
    assert report.status == "done"
    return report


def _urls(report_id):
    yield reverse("reports:list")
    for name in PER_REPORT:
        yield reverse(f"reports:{name}", args=[report_id])


def test_anonymous_goes_to_login(client, done_report):
    for url in _urls(done_report.pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


def test_prescribers_get_403_everywhere(alice_client, done_report):
    for url in _urls(done_report.pk):
        assert alice_client.get(url).status_code == 403, url
        assert alice_client.post(url).status_code == 403, url


def test_agency_requests_the_whole_cohort_and_downloads_it(
    agency_client, agency, django_capture_on_commit_callbacks
):
    build()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends on commit
        response = agency_client.post(reverse("reports:list"), {"preset": "all", "language": "fr"})
    report = CohortReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert report.requested_by == agency
    assert OutboxMessage.objects.filter(
        task_name="reports.tasks.build_report", args=[report.pk]
    ).exists()
    report.refresh_from_db()
    assert report.status == "done"  # eager Celery: built when the request committed
    page = agency_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "5" in html and reverse("reports:pdf", args=[report.pk]) in html
    assert "<svg" in html and "style=" not in html.split("<main", 1)[1].split("<svg", 1)[0]
    pdf = agency_client.get(reverse("reports:pdf", args=[report.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    data = agency_client.get(reverse("reports:json", args=[report.pk])).json()
    assert data["patients"] == 5
    csv = agency_client.get(reverse("reports:csv", args=[report.pk])).content.decode()
    assert "patients,5" in csv and "men_pct" in csv


def test_year_preset_sets_the_period(admin_client):
    admin_client.post(reverse("reports:list"), {"preset": "year-2014", "language": "en"})
    report = CohortReport.objects.get()
    assert (str(report.date_from), str(report.date_to), report.language) == (
        "2014-01-01",
        "2014-12-31",
        "en",
    )


def test_a_second_request_of_a_period_being_built_joins_that_build(
    agency_client, agency, admin_client
):
    running = CohortReport.objects.create(requested_by=agency, status="running", progress=30)
    response = admin_client.post(reverse("reports:list"), {"preset": "all", "language": "fr"})
    assert response["Location"] == reverse("reports:detail", args=[running.pk])
    assert CohortReport.objects.count() == 1
    assert not OutboxMessage.objects.filter(task_name="reports.tasks.build_report").exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "déjà en cours de production" in page
    # Another period, or another language, is another build.
    admin_client.post(reverse("reports:list"), {"preset": "all", "language": "en"})
    admin_client.post(reverse("reports:list"), {"preset": "year-2014", "language": "fr"})
    assert CohortReport.objects.count() == 3
    # Once the first is done, the same period is built anew (the data may have changed).
    CohortReport.objects.filter(pk=running.pk).update(status="done", progress=100)
    agency_client.post(reverse("reports:list"), {"preset": "all", "language": "fr"})
    assert CohortReport.objects.count() == 4


def test_bad_period_is_refused_and_nothing_written(agency_client):
    response = agency_client.post(
        reverse("reports:list"),
        {"preset": "custom", "date_from": "2015-01-01", "date_to": "2014-01-01", "language": "fr"},
    )
    assert response.status_code == 400
    assert CohortReport.objects.count() == 0
    response = agency_client.post(reverse("reports:list"), {"preset": "custom", "language": "fr"})
    assert response.status_code == 400
    assert CohortReport.objects.count() == 0


def test_progress_fragment_polls_then_refreshes(agency_client, agency):
    report = CohortReport.objects.create(requested_by=agency, status="running", progress=60)
    url = reverse("reports:progress", args=[report.pk])
    fragment = agency_client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    assert 'value="60"' in fragment.content.decode()
    assert "HX-Refresh" not in fragment
    CohortReport.objects.filter(pk=report.pk).update(status="done", progress=100)
    assert agency_client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"


def test_downloads_of_an_unfinished_report_are_404(agency_client, agency):
    report = CohortReport.objects.create(requested_by=agency)
    for name in ("pdf", "json", "csv"):
        assert agency_client.get(reverse(f"reports:{name}", args=[report.pk])).status_code == 404


def test_list_query_count_is_pinned(agency_client, agency, django_assert_num_queries):
    for _ in range(5):
        CohortReport.objects.create(requested_by=agency)
    agency_client.get(reverse("reports:list"))  # warm the session and the MFA lookups
    with django_assert_num_queries(5):
        # 1 session, 2 user, 3 user's TOTP device (second-factor middleware),
        # 4 count for the paginator, 5 the page of reports joined to their requester.
        # (No session write: the warm-up request touched it less than a minute ago.)
        agency_client.get(reverse("reports:list"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_built_inline_is_announced_as_ready(agency_client, monkeypatch):
    """Without a broker (the embedded set-up) the report is built when the request commits:
    the page then says it is ready, not that it is being built."""
    from rtuportal.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    build()
    response = agency_client.post(
        reverse("reports:list"), {"preset": "all", "language": "fr"}, follow=True
    )
    assert CohortReport.objects.get().status == "done"
    html = response.content.decode()
    assert "Le rapport est prêt." in html and "en cours de production" not in html
