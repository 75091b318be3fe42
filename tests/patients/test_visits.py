"""Follow-up visits: /patients/<code>/visits/new/ and corrections, with the rules wired in."""

import json
from datetime import date

import pytest
from django.urls import reverse
from prescriber_flow import include, visit_post

from prescriptions.models import DoseStep, Visit

pytestmark = pytest.mark.django_db


def new_url(patient):
    return reverse("patients:visit_new", args=[patient.code])


def test_happy_path_with_titration_steps(alice_client, alice_patient):
    steps = [("2014-04-03", 20), ("2014-04-05", 25), ("2014-04-08", 30)]
    response = alice_client.post(new_url(alice_patient), visit_post(steps=steps))
    assert response.status_code == 302, response.context["form"].errors
    visit = Visit.objects.get()
    assert visit.is_inclusion and visit.protocol_version == "2014"
    assert [(s.start_date, s.daily_dose_mg) for s in visit.steps.all()] == [
        (date(2014, 4, 1), 15),
        (date(2014, 4, 3), 20),
        (date(2014, 4, 5), 25),
        (date(2014, 4, 8), 30),
    ]
    alice_patient.refresh_from_db()
    assert alice_patient.latest_dose_mg == 30
    assert alice_patient.in_titration
    assert alice_patient.last_visit_date == date(2014, 4, 1)
    assert visit.history.get().history_user.email == "alice@example.fr"


@pytest.mark.parametrize(
    "steps", [[], [("2014-04-03", 20), ("2014-04-05", 25), ("2014-04-08", 30)]]
)
def test_visit_save_query_count_is_fixed(
    alice_client, alice_patient, django_assert_num_queries, steps
):
    alice_client.get(new_url(alice_patient))  # the session is touched on this one
    # 1 session, 2 user, 3 patient; in the transaction: 4 savepoint, 5 patient locked,
    # 6-8 its visits, steps and stops, 9 the visit, 10 its history row, 11 the steps (one
    # INSERT whatever their number), 12 the list columns of the patient (from the log in
    # hand, not read again), 13 the patient's report summary marked stale (one upsert; a
    # worker recomputes it after the commit: reports.summaries), 14 release. No constraint
    # round trip (see services._clean).
    with django_assert_num_queries(14, info="visit save"):
        response = alice_client.post(new_url(alice_patient), visit_post(steps=steps))
    assert response.status_code == 302
    assert DoseStep.objects.filter(patient=alice_patient).count() == 1 + len(steps)
    alice_patient.refresh_from_db()
    assert alice_patient.latest_dose_mg == (steps[-1][1] if steps else 15)
    assert alice_patient.in_titration == bool(steps)


def test_dose_not_multiple_of_5(alice_client, alice_patient):
    response = alice_client.post(
        new_url(alice_patient), visit_post(daily_dose_mg="17", dose_bedtime_mg="2")
    )
    assert "daily_dose_mg" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_intakes_must_sum_to_the_daily_dose(alice_client, alice_patient):
    response = alice_client.post(new_url(alice_patient), visit_post(dose_noon_mg="0"))
    errors = response.context["form"].errors
    assert "10" in errors["dose_morning_mg"][0] and "15" in errors["dose_morning_mg"][0]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("visit_date", ["2014-03-31", "2014-06-03"])
def test_visit_before_inclusion_or_in_future(alice_client, alice_patient, visit_date):
    response = alice_client.post(new_url(alice_patient), visit_post(visit_date=visit_date))
    assert "visit_date" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_visit_before_previous_visit(alice_client, alice_patient):
    alice_client.post(new_url(alice_patient), visit_post(visit_date="2014-04-10"))
    response = alice_client.post(new_url(alice_patient), visit_post(visit_date="2014-04-05"))
    assert "10/04/2014" in response.context["form"].errors["visit_date"][0]
    assert Visit.objects.count() == 1


def test_blocking_finding_refuses_with_the_remedy(alice_client, alice):
    patient = include(alice, treatment_status="pretreated", pretreatment_dose_mg=110)
    data = visit_post(
        daily_dose_mg="120",
        dose_morning_mg="40",
        dose_noon_mg="40",
        dose_evening_mg="40",
        acknowledge_warnings="on",
    )
    response = alice_client.post(new_url(patient), data)
    assert response.status_code == 422
    text = " ".join(response.context["form"].non_field_errors())
    assert "120 mg/j" in text and "deuxième avis" in text
    assert not Visit.objects.exists() and not DoseStep.objects.exists()
    # With the second opinion recorded (date and who), the same dose is saved.
    data.update(
        second_opinion="on",
        second_opinion_date="2014-03-28",
        second_opinion_by="Dr Martin, CSAPA Lyon",
    )
    assert alice_client.post(new_url(patient), data).status_code == 302
    assert Visit.objects.get().second_opinion


def test_opinion_needs_date_and_who(alice_client, alice_patient):
    response = alice_client.post(new_url(alice_patient), visit_post(second_opinion="on"))
    errors = response.context["form"].errors
    assert "second_opinion_date" in errors and "second_opinion_by" in errors
    assert not Visit.objects.exists()


def test_warning_needs_acknowledgement(alice_client, alice_patient):
    # 15 -> 30 mg/day in one step: STEP_TOO_LARGE (warning).
    data = visit_post(steps=[("2014-04-04", 30)])
    response = alice_client.post(new_url(alice_patient), data)
    assert "acknowledge_warnings" in response.context["form"].errors
    assert "15" in response.content.decode()
    assert not Visit.objects.exists()
    data["acknowledge_warnings"] = "on"
    assert alice_client.post(new_url(alice_patient), data).status_code == 302
    assert Visit.objects.get().warnings_acknowledged


def test_steps_must_follow_each_other(alice_client, alice_patient):
    data = visit_post(steps=[("2014-04-05", 20), ("2014-04-03", 25)])
    response = alice_client.post(new_url(alice_patient), data)
    assert response.context["step_errors"]
    assert not Visit.objects.exists()


def record(client, patient, **kwargs):
    response = client.post(new_url(patient), visit_post(**kwargs))
    assert response.status_code == 302, response.context["form"].errors
    return Visit.objects.filter(patient=patient).latest("visit_date")


def edit_data(visit, **overrides):
    data = visit_post(
        visit_date=visit.visit_date.isoformat(), daily_dose_mg=str(visit.daily_dose_mg)
    )
    data.update(version=str(visit.version), reason="typo in consumption", visit_id=str(visit.pk))
    data.update(overrides)
    return data


def test_correction_with_reason_keeps_history(alice_client, alice_patient):
    visit = record(alice_client, alice_patient)
    url = reverse("patients:visit_edit", args=[alice_patient.code, visit.pk])
    assert alice_client.get(url).status_code == 200
    response = alice_client.post(url, edit_data(visit, alcohol_g_per_day="80"))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.alcohol_g_per_day == 80 and visit.version == 2
    records = list(visit.history.order_by("history_id"))
    assert [r.alcohol_g_per_day for r in records] == [110, 80]
    assert "typo in consumption" in records[-1].history_change_reason
    page = alice_client.get(reverse("patients:detail", args=[alice_patient.code]))
    assert "typo in consumption" in page.content.decode()


def test_correction_requires_a_reason(alice_client, alice_patient):
    visit = record(alice_client, alice_patient)
    url = reverse("patients:visit_edit", args=[alice_patient.code, visit.pk])
    response = alice_client.post(url, edit_data(visit, reason="", alcohol_g_per_day="80"))
    assert "reason" in response.context["form"].errors
    visit.refresh_from_db()
    assert visit.alcohol_g_per_day == 110


def test_concurrent_edit_gets_a_conflict(alice_client, alice_patient):
    visit = record(alice_client, alice_patient)
    url = reverse("patients:visit_edit", args=[alice_patient.code, visit.pk])
    first_tab = edit_data(visit, alcohol_g_per_day="80")
    second_tab = edit_data(visit, alcohol_g_per_day="90")  # opened on the same version
    assert alice_client.post(url, first_tab).status_code == 302
    response = alice_client.post(url, second_tab)
    assert response.status_code == 409
    assert response.context["form"].non_field_errors()
    visit.refresh_from_db()
    assert visit.alcohol_g_per_day == 80 and visit.version == 2


def test_visits_are_never_deleted(alice_client, alice_patient):
    visit = record(alice_client, alice_patient)
    url = reverse("patients:visit_edit", args=[alice_patient.code, visit.pk])
    assert alice_client.delete(url).status_code in (405, 200)  # no delete route
    assert Visit.objects.filter(pk=visit.pk).exists()


def test_live_check_shows_findings_per_step(alice_client, alice_patient):
    url = reverse("patients:visit_check", args=[alice_patient.code])
    response = alice_client.post(
        url, visit_post(steps=[("2014-04-02", 30)]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    rows = response.context["assessment"].rows
    assert [r[2].codes for r in rows] == [(), ("STEP_TOO_LARGE", "STEP_TOO_SOON")]
    assert not Visit.objects.exists()


def planned_steps(response) -> dict:
    return json.loads(response["HX-Trigger"])["stepsPlanned"]


def test_plan_the_titration_fills_clean_steps(alice_client, alice_patient):
    url = reverse("patients:visit_plan", args=[alice_patient.code])
    plan = planned_steps(alice_client.post(url, visit_post(target_dose_mg="60")))
    assert plan["error"] == ""
    assert plan["steps"][0] == ["2014-04-03", 20] and plan["steps"][-1][1] == 60
    steps = [(on, dose) for on, dose in plan["steps"]]
    assert alice_client.post(new_url(alice_patient), visit_post(steps=steps)).status_code == 302


def test_plan_the_titration_explains_an_unreachable_target(alice_client, alice_patient):
    url = reverse("patients:visit_plan", args=[alice_patient.code])
    plan = planned_steps(alice_client.post(url, visit_post(target_dose_mg="150")))
    assert plan["steps"] == [] and "120" in plan["error"]


def test_later_visit_checks_against_the_log(alice_client, alice_patient):
    record(alice_client, alice_patient, steps=[("2014-04-03", 20), ("2014-04-05", 25)])
    # 25 -> 60 at the next visit: a step too large (warning, not acknowledged).
    data = visit_post(
        visit_date="2014-04-28",
        daily_dose_mg="60",
        dose_morning_mg="20",
        dose_noon_mg="20",
        dose_evening_mg="20",
    )
    response = alice_client.post(new_url(alice_patient), data)
    assert "acknowledge_warnings" in response.context["form"].errors
    assert Visit.objects.count() == 1


def test_next_visit_form_keeps_the_split_when_the_dose_is_unchanged(alice_client, alice_patient):
    alice_client.post(
        new_url(alice_patient),
        visit_post(
            dose_morning_mg="10", dose_noon_mg="0", dose_evening_mg="0", dose_bedtime_mg="5"
        ),
    )
    form = alice_client.get(new_url(alice_patient)).context["form"]
    assert form["daily_dose_mg"].value() == 15
    assert [form[f"dose_{t}_mg"].value() for t in ("morning", "noon", "evening", "bedtime")] == [
        10,
        0,
        0,
        5,
    ]


def test_next_visit_form_does_not_reuse_the_split_of_another_dose(alice_client, alice_patient):
    alice_client.post(new_url(alice_patient), visit_post(steps=[("2014-04-03", 20)]))
    form = alice_client.get(new_url(alice_patient)).context["form"]
    assert form["daily_dose_mg"].value() == 20
    assert form["dose_morning_mg"].value() in (None, 0, "")


def test_a_bad_step_is_refused_with_its_error_in_its_row(alice_client, alice_patient):
    steps = [("2014-04-03", 20), ("2014-13-45", "<b>25</b>")]
    response = alice_client.post(new_url(alice_patient), visit_post(steps=steps))
    assert response.status_code == 422
    assert not Visit.objects.exists()
    html = response.content.decode()
    rows = html.split('<tr data-step-row="steps">')[1:]
    assert len(rows) >= 2
    first, second = rows[0].split("</tr>")[0], rows[1].split("</tr>")[0]
    assert "text-danger" not in first
    assert 'for="id_steps-1-start_date"' in second and 'name="steps-1-start_date"' in second
    assert '<span class="js-row-number">2</span>' in second
    assert second.count('<p class="text-danger small mb-0">') == 2  # the date and the dose
    assert 'value="&lt;b&gt;25&lt;/b&gt;"' in second and "<b>25</b>" not in html
