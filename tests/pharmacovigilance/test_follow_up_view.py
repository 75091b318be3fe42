"""The follow-up form of an existing case."""

from django.urls import reverse

from pharmacovigilance.models import FollowUpReport
from tests.pharmacovigilance.helpers import frozen, make_case


def url(case):
    return reverse("patient_adverse_events:follow_up", args=[case.patient.code, case.pk])


def test_follow_up_form_is_prefilled(alice_client, patient, today):
    case = make_case(patient, outcome="recovering")
    response = alice_client.get(url(case))
    assert response.status_code == 200
    assert response.context["form"].initial["outcome"] == "recovering"


def test_follow_up_updates_the_case_and_keeps_its_history(alice_client, patient, today):
    case = make_case(patient, outcome="recovering")
    data = {"information": "Recovered after reduction to 40 mg/day.", "outcome": "recovered",
            "serious": "no", "causality": "probable", "action_taken": "dose_reduced",
            "dechallenge": "positive", "rechallenge": "unknown"}  # fmt: skip
    with frozen():
        response = alice_client.post(url(case), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.outcome, case.causality, case.dechallenge, case.version) == (
        "recovered",
        "probable",
        "positive",
        2,
    )
    assert FollowUpReport.objects.get().information.startswith("Recovered")
    assert case.history.count() == 2
    page = alice_client.get(reverse("pharmacovigilance:detail", args=[case.pk])).content.decode()
    assert "Recovered after reduction" in page


def test_follow_up_bad_input(alice_client, patient, today):
    case = make_case(patient)
    data = {"information": "", "outcome": "fatal", "serious": "no", "causality": "possible",
            "action_taken": "none", "dechallenge": "unknown", "rechallenge": "unknown"}  # fmt: skip
    response = alice_client.post(url(case), data)
    assert response.status_code == 400
    assert "information" in response.context["form"].errors
    data["information"] = "Patient died."
    response = alice_client.post(url(case), data)
    assert response.status_code == 400
    assert "outcome" in response.context["form"].errors
    assert not FollowUpReport.objects.exists()
    case.refresh_from_db()
    assert case.version == 1


def test_follow_up_access(client, bob_client, agency_client, patient, today):
    case = make_case(patient)
    assert client.get(url(case)).status_code == 302
    assert bob_client.get(url(case)).status_code == 404
    assert agency_client.get(url(case)).status_code == 403
