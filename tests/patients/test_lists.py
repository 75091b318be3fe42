"""Patient list, overdue computation, dashboard, patient page, and pinned query counts."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from prescriber_flow import include, visit_post

from patients.models import Patient
from prescriptions.models import DoseStep, Visit

pytestmark = pytest.mark.django_db


def test_overdue_28_days_after_the_last_visit(alice, alice_client):
    with time_machine.travel("2014-05-01 10:00:00+00:00", tick=False):
        patient = include(alice, inclusion_date=date(2014, 4, 1))
        url = reverse("patients:visit_new", args=[patient.code])
        alice_client.post(url, visit_post(visit_date="2014-04-02"))
    patient.refresh_from_db()
    assert patient.next_visit_due == date(2014, 4, 30)
    with time_machine.travel("2014-04-30 10:00:00+00:00", tick=False):
        alice_client.force_login(alice)  # sessions expire after 30 minutes of frozen time
        assert not patient.is_overdue(date(2014, 4, 30))
        body = alice_client.get("/patients/?status=overdue").content.decode()
        assert patient.code not in body
    with time_machine.travel("2014-05-01 10:00:00+00:00", tick=False):
        alice_client.force_login(alice)
        assert patient.is_overdue(date(2014, 5, 1))
        body = alice_client.get("/patients/?status=overdue").content.decode()
        assert patient.code in body and "row-overdue" in body
        dashboard = alice_client.get("/").content.decode()
        assert patient.code in dashboard


def test_filters_search_and_sort(alice, alice_client, frozen):
    stopped = include(alice)
    Patient.objects.filter(pk=stopped.pk).update(stopped_on=date(2014, 5, 1))
    titrating = include(alice)
    Patient.objects.filter(pk=titrating.pk).update(
        in_titration=True, last_visit_date=date(2014, 6, 1)
    )
    stable = include(alice)
    Patient.objects.filter(pk=stable.pk).update(last_visit_date=date(2014, 6, 1))

    def codes(query):
        return [
            row["patient"].code for row in alice_client.get("/patients/" + query).context["rows"]
        ]

    assert codes("?status=stopped") == [stopped.code]
    assert codes("?status=titration") == [titrating.code]
    assert set(codes("?status=stable")) == {stable.code}
    assert codes(f"?q={titrating.code[4:8].lower()}") == [titrating.code]
    assert codes("?sort=code") == sorted([stopped.code, titrating.code, stable.code])


def test_list_is_paginated(alice, alice_client, frozen):
    for _ in range(30):
        include(alice)
    page = alice_client.get("/patients/")
    assert len(page.context["rows"]) == 25
    assert len(alice_client.get("/patients/?page=2").context["rows"]) == 5


def _cohort(prescriber, patients: int, visits: int, steps: int):
    for _p in range(patients):
        patient = include(prescriber)
        for v in range(visits):
            visit = Visit.objects.create(
                patient=patient,
                visit_date=date(2014, 4, 1) + timedelta(days=28 * v),
                protocol_version="2014",
                daily_dose_mg=15,
                dose_morning_mg=15,
                alcohol_g_per_day=100,
                craving=5,
                abstinent=False,
            )
            visit.history.update(history_user=prescriber)
            DoseStep.objects.bulk_create(
                DoseStep(
                    patient=patient,
                    visit=visit,
                    daily_dose_mg=15 + 5 * (s > 0),
                    start_date=visit.visit_date + timedelta(days=2 * s),
                )
                for s in range(steps)
            )


@pytest.mark.parametrize("size", [1, 50])
def test_list_query_count_is_fixed(alice, alice_client, frozen, django_assert_num_queries, size):
    _cohort(alice, size, 1, 1)
    # 1 session, 2 user, 3 count for the paginator, 4 the page of patients,
    # 5-7 the session touched (first request of the minute: savepoint, update, release).
    with django_assert_num_queries(7):
        assert alice_client.get("/patients/").status_code == 200


def _page_of_one_patient(alice, client, assert_num_queries, size, url_name, queries):
    """GET a page of a patient with `size` visits of 3 steps each, in `queries` queries."""
    with time_machine.travel("2018-06-02 10:00:00+00:00", tick=False):
        _cohort(alice, 1, size, 3)
        patient = Patient.objects.get()
        with assert_num_queries(queries):
            response = client.get(reverse(url_name, args=[patient.code]))
        assert response.status_code == 200
        return response


@pytest.mark.parametrize("size", [1, 50])
def test_patient_page_query_count_is_fixed(alice, alice_client, django_assert_num_queries, size):
    # 1 session, 2 user, 3 patient, 4 visits, 5 steps, 6 stops, 7 adverse events,
    # 8-10 history of the patient, its visits and its stops (with their users),
    # 11-13 the session touched (first request of the minute: savepoint, update, release).
    response = _page_of_one_patient(
        alice, alice_client, django_assert_num_queries, size, "patients:detail", 13
    )
    assert len(response.context["visits"]) == size


@pytest.mark.parametrize("size", [1, 50])
def test_visit_form_query_count_is_fixed(alice, alice_client, django_assert_num_queries, size):
    # 1 session, 2 user, 3 patient, 4 visits, 5 steps, 6 stops (the last visit, whose
    # split into intakes the form proposes again, is among them),
    # 7-9 the session touched (first request of the minute: savepoint, update, release).
    response = _page_of_one_patient(
        alice, alice_client, django_assert_num_queries, size, "patients:visit_new", 9
    )
    assert response.context["form"].initial["visit_date"] == date(2018, 6, 2)


def test_dashboard_query_count_and_taper_proposal(alice, alice_client, django_assert_num_queries):
    with time_machine.travel("2017-08-01 10:00:00+00:00", tick=False):
        patient = include(
            alice,
            inclusion_date=date(2017, 5, 2),
            treatment_status="pretreated",
            pretreatment_dose_mg=110,
        )
        response = alice_client.get("/")
        proposal = response.context["proposals"][0]
        assert proposal["patient"] == patient
        assert proposal["plan"][-1][1] == 80
        assert "80" in response.content.decode()


def test_patient_page_shows_chart_history_and_compliance(alice, alice_client, frozen):
    patient = include(alice, precautions=["epilepsy_history"], birth_year=1947)
    url = reverse("patients:visit_new", args=[patient.code])
    alice_client.post(url, visit_post(steps=[("2014-04-02", 30)], acknowledge_warnings="on"))
    body = alice_client.get(reverse("patients:detail", args=[patient.code])).content.decode()
    assert "<svg" in body and "<polyline" in body
    for threshold in ("80", "120", "180", "300"):
        assert f">{threshold}</text>" in body
    assert "STEP_TOO_LARGE" in body and "STEP_TOO_SOON" in body
    assert "alice@example.fr" in body
    assert "style=" not in body and "<script>" not in body
    assert "65" in body  # age-over-65 precaution badge


@pytest.mark.parametrize("size", [1, 30])
def test_dashboard_query_count_is_fixed(alice, alice_client, django_assert_num_queries, size):
    with time_machine.travel("2017-08-01 10:00:00+00:00", tick=False):
        for _ in range(size):
            include(
                alice,
                inclusion_date=date(2017, 5, 2),
                treatment_status="pretreated",
                pretreatment_dose_mg=110,
            )
        alice_client.force_login(alice)
        # 1 session, 2 user, 3 overdue visits, 4 patients above the watch threshold,
        # 5 patients above the cap, 6 opinions recorded for them (taper proposals),
        # 7 the counts, 8-10 the session touched (first request of the minute).
        with django_assert_num_queries(10):
            response = alice_client.get("/")
        assert len(response.context["proposals"]) == min(size, 20)  # the 20 highest doses
