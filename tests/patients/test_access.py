"""Access matrix: a prescriber sees only their own patients; agency reads; admins transfer."""

import pytest
from django.urls import reverse
from prescriber_flow import include, visit_post

from patients.models import Patient
from prescriptions.models import StopOfTreatment, Visit

pytestmark = pytest.mark.django_db


def urls(code):
    return {
        "detail": reverse("patients:detail", args=[code]),
        "visit_new": reverse("patients:visit_new", args=[code]),
        "visit_check": reverse("patients:visit_check", args=[code]),
        "visit_plan": reverse("patients:visit_plan", args=[code]),
        "stop": reverse("patients:stop", args=[code]),
        "stop_check": reverse("patients:stop_check", args=[code]),
        "restart": reverse("patients:restart", args=[code]),
    }


@pytest.mark.parametrize("name", ["detail", "visit_new", "stop", "restart"])
def test_alice_gets_404_on_bobs_patient_pages(alice_client, bob_patient, name):
    assert alice_client.get(urls(bob_patient.code)[name]).status_code == 404


@pytest.mark.parametrize("name", ["visit_new", "visit_check", "visit_plan", "stop", "stop_check"])
def test_alice_cannot_write_to_bobs_patient(alice_client, bob_patient, name):
    response = alice_client.post(urls(bob_patient.code)[name], visit_post())
    assert response.status_code == 404
    assert not Visit.objects.exists() and not StopOfTreatment.objects.exists()


def test_alice_cannot_correct_bobs_visit(alice_client, bob_client, bob_patient):
    bob_client.post(urls(bob_patient.code)["visit_new"], visit_post())
    visit = Visit.objects.get()
    url = reverse("patients:visit_edit", args=[bob_patient.code, visit.pk])
    assert alice_client.get(url).status_code == 404
    assert alice_client.post(url, visit_post(alcohol_g_per_day="1")).status_code == 404
    visit.refresh_from_db()
    assert visit.alcohol_g_per_day == 110


def test_unknown_code_is_404(alice_client, frozen):
    assert alice_client.get("/patients/BAC-XXXX-XXXX/").status_code == 404


def test_list_shows_only_own_patients(alice_client, alice, bob_patient):
    mine = include(alice)
    body = alice_client.get("/patients/").content.decode()
    assert mine.code in body and bob_patient.code not in body


@pytest.mark.parametrize("name", ["detail", "visit_new", "stop"])
def test_anonymous_goes_to_login(client, bob_patient, name):
    response = client.get(urls(bob_patient.code)[name])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_agency_reads_but_never_writes(agency_client, bob_patient):
    page = agency_client.get(urls(bob_patient.code)["detail"])
    assert page.status_code == 200
    assert "Enregistrer une visite" not in page.content.decode()
    assert bob_patient.code in agency_client.get("/patients/").content.decode()
    for name in ("visit_new", "stop", "restart"):
        assert agency_client.get(urls(bob_patient.code)[name]).status_code == 403
    assert agency_client.post(urls(bob_patient.code)["visit_new"], visit_post()).status_code == 403
    assert not Visit.objects.exists()


def test_admin_transfers_a_departing_prescribers_patients(admin_client, alice, bob, bob_patient):
    assert admin_client.get("/patients/transfer/").status_code == 200
    response = admin_client.post(
        "/patients/transfer/",
        {"from_prescriber": bob.pk, "to_prescriber": alice.pk, "reason": "retirement"},
    )
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert patient.prescriber == alice
    latest = patient.history.latest()
    assert "retirement" in latest.history_change_reason
    assert latest.history_user.email == "admin@ansm.example.fr"


def test_prescriber_cannot_transfer(alice_client, alice, bob, bob_patient):
    response = alice_client.post(
        "/patients/transfer/",
        {"from_prescriber": bob.pk, "to_prescriber": alice.pk, "reason": "mine now"},
    )
    assert response.status_code == 403
    assert Patient.objects.get().prescriber == bob
