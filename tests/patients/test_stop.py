"""Stop of treatment with its taper, and restart."""

import json
from datetime import date

import pytest
from django.urls import reverse
from prescriber_flow import steps_post, visit_post

from patients.models import Patient
from prescriptions.models import StopOfTreatment, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_40(alice_client, alice_patient):
    """alice's patient titrated up to 40 mg/day in April 2014."""
    steps = [("2014-04-03", 20), ("2014-04-05", 25), ("2014-04-07", 30), ("2014-04-09", 40)]
    url = reverse("patients:visit_new", args=[alice_patient.code])
    assert alice_client.post(url, visit_post(steps=steps)).status_code == 302
    return alice_patient


def stop_post(*, taper=(), **overrides):
    data = {"stop_date": "2014-05-20", "reason": "goal_reached", "note": ""}
    data.update(overrides)
    data.update(steps_post(taper, prefix="taper"))
    return data


def test_stop_with_taper_then_restart(alice_client, on_40):
    url = reverse("patients:stop", args=[on_40.code])
    assert alice_client.get(url).status_code == 200
    taper = [("2014-05-10", 30), ("2014-05-12", 20), ("2014-05-14", 10)]
    response = alice_client.post(url, stop_post(taper=taper))
    assert response.status_code == 302, response.context["form"].errors
    stop = StopOfTreatment.objects.get()
    assert [s.daily_dose_mg for s in stop.taper_steps.all()] == [30, 20, 10]
    on_40.refresh_from_db()
    assert on_40.stopped_on == date(2014, 5, 20) and on_40.is_stopped
    # No new visit while stopped: the visit page sends to the restart page, a POST is refused.
    new_visit = reverse("patients:visit_new", args=[on_40.code])
    assert alice_client.get(new_visit)["Location"] == reverse("patients:restart", args=[on_40.code])
    response = alice_client.post(new_visit, visit_post(visit_date="2014-05-25"))
    assert response.status_code == 422 and Visit.objects.count() == 1
    # Restart, recorded as such, then a visit starting from a first dose.
    restart = reverse("patients:restart", args=[on_40.code])
    response = alice_client.post(restart, {"restarted_on": "2014-05-30", "note": "relapse"})
    assert response.status_code == 302
    stop.refresh_from_db()
    assert stop.restarted_on == date(2014, 5, 30)
    assert alice_client.post(new_visit, visit_post(visit_date="2014-05-31")).status_code == 302
    assert Patient.objects.get().history.filter(history_change_reason__contains="30/05/2014")


def test_taper_too_fast_needs_acknowledgement(alice_client, on_40):
    url = reverse("patients:stop", args=[on_40.code])
    response = alice_client.post(url, stop_post(taper=[("2014-05-10", 10)]))
    assert "acknowledge_warnings" in response.context["form"].errors
    assert not StopOfTreatment.objects.exists()
    response = alice_client.post(
        url, stop_post(taper=[("2014-05-10", 10)], acknowledge_warnings="on")
    )
    assert response.status_code == 302


def test_abrupt_stop_warns(alice_client, on_40):
    url = reverse("patients:stop", args=[on_40.code])
    response = alice_client.post(url, stop_post())
    assert "acknowledge_warnings" in response.context["form"].errors
    assert "40" in " ".join(response.context["assessment"].warnings)
    assert not StopOfTreatment.objects.exists()


def test_taper_steps_must_lower_the_dose(alice_client, on_40):
    url = reverse("patients:stop", args=[on_40.code])
    response = alice_client.post(
        url, stop_post(taper=[("2014-05-10", 50)], acknowledge_warnings="on")
    )
    assert response.context["step_errors"]
    assert not StopOfTreatment.objects.exists()


def test_stop_before_last_visit_is_refused(alice_client, on_40):
    url = reverse("patients:stop", args=[on_40.code])
    response = alice_client.post(url, stop_post(stop_date="2014-03-30"))
    assert "stop_date" in response.context["form"].errors
    assert not StopOfTreatment.objects.exists()


def test_plan_the_taper(alice_client, on_40):
    url = reverse("patients:stop_plan", args=[on_40.code])
    response = alice_client.post(url, stop_post(taper_start="2014-05-10"))
    plan = json.loads(response["HX-Trigger"])["stepsPlanned"]
    assert plan["prefix"] == "taper"
    assert plan["steps"] == [["2014-05-12", 25], ["2014-05-14", 10], ["2014-05-16", 5]]
    assert plan["stop_date"] == "2014-05-18"


def test_restart_needs_a_reason(alice_client, on_40):
    alice_client.post(
        reverse("patients:stop", args=[on_40.code]), stop_post(acknowledge_warnings="on")
    )
    response = alice_client.post(
        reverse("patients:restart", args=[on_40.code]), {"restarted_on": "2014-05-30", "note": ""}
    )
    assert response.status_code == 422
    assert StopOfTreatment.objects.get().restarted_on is None
