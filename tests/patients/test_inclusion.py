"""Inclusion: /patients/new/ — happy path, contraindications, every validation error."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from prescriber_flow import inclusion_post

from patients.codes import ALPHABET
from patients.models import Patient
from rtuportal.choices import Contraindication, Precaution

URL = "/patients/new/"
pytestmark = pytest.mark.django_db


def test_happy_path_generates_a_code_and_opens_the_first_visit(alice_client, alice, frozen):
    response = alice_client.post(URL, inclusion_post(precautions=["epilepsy_history"]))
    patient = Patient.objects.get()
    assert re.fullmatch(rf"BAC-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", patient.code)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:visit_new", args=[patient.code])
    assert patient.prescriber == alice
    assert patient.protocol_version == "2014"
    assert patient.failed_treatments == ["acamprosate", "naltrexone"]
    assert patient.precautions == ["epilepsy_history"]
    assert patient.history.get().history_type == "+"
    page = alice_client.get(reverse("patients:detail", args=[patient.code])).content.decode()
    with translation.override("fr"):
        assert escape(str(Precaution.EPILEPSY_HISTORY.label)) in page
    assert "badge-precaution" in page


def test_form_is_in_french_by_default(alice_client, frozen):
    body = alice_client.get(URL).content.decode()
    assert "Inclure un patient" in body
    assert 'name="birth_year"' in body and 'name="treatment_status"' in body


def test_drinks_per_day_are_converted_to_grams(alice_client, frozen):
    alice_client.post(URL, inclusion_post(alcohol_g_per_day=None, alcohol_drinks_per_day="8.5"))
    assert Patient.objects.get().alcohol_g_per_day == 85


def test_pretreated_patient_keeps_the_current_dose(alice_client, frozen):
    alice_client.post(URL, inclusion_post(treatment_status="pretreated", current_dose_mg="90"))
    patient = Patient.objects.get()
    assert patient.pretreatment_dose_mg == 90
    assert patient.latest_dose_mg == 90


@pytest.mark.parametrize("code", Contraindication.values)
def test_each_contraindication_refuses_and_saves_nothing(alice_client, frozen, code):
    response = alice_client.post(URL, inclusion_post(contraindications=[code]))
    assert response.status_code == 200
    with translation.override("fr"):
        assert escape(str(Contraindication(code).label)) in response.content.decode()
    assert "pas inclus" in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"birth_year": "1997"}, "birth_year", "18 ans ou plus"),  # 17 in 2014
        ({"birth_year": "1913"}, "birth_year", "100 ans au plus"),  # 101 in 2014
        ({"inclusion_date": "2014-06-03"}, "inclusion_date", "dans le futur"),
        ({"inclusion_date": "2014-03-13"}, "inclusion_date", "14/03/2014"),
        ({"alcohol_g_per_day": "-1"}, "alcohol_g_per_day", "entre 0 et 1000"),
        ({"alcohol_g_per_day": "1001"}, "alcohol_g_per_day", "entre 0 et 1000"),
        ({"craving": "11"}, "craving", "de 0"),
        ({"craving": "-1"}, "craving", "de 0"),
        ({"informed_of_rtu": None}, "informed_of_rtu", "informé"),
        ({"treatment_status": "pretreated"}, "current_dose_mg", "dose quotidienne"),
        (
            {"treatment_status": "pretreated", "current_dose_mg": "42"},
            "current_dose_mg",
            "multiple positif de 5",
        ),
        ({"alcohol_g_per_day": None}, "alcohol_g_per_day", "verres standard"),
    ],
)
def test_validation_errors_write_nothing(alice_client, frozen, overrides, field, message):
    response = alice_client.post(URL, inclusion_post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(message in e for e in errors[field]), errors[field]
    assert not Patient.objects.exists()


def test_2021_requires_reduction_and_high_risk_drinking(alice_client):
    import time_machine

    with time_machine.travel("2022-03-01 10:00:00+00:00", tick=False):
        response = alice_client.post(
            URL,
            inclusion_post(
                inclusion_date="2022-02-01",
                indication="abstinence",
                sex="F",
                alcohol_g_per_day="40",
            ),
        )
        errors = response.context["form"].errors
        assert "réduction" in " ".join(errors["indication"])
        assert "40 g/j" in " ".join(errors["alcohol_g_per_day"])
        assert not Patient.objects.exists()
        alice_client.post(
            URL, inclusion_post(inclusion_date="2022-02-01", sex="F", alcohol_g_per_day="41")
        )
        assert Patient.objects.get().protocol_version == "2021"


def test_2014_allows_abstinence(alice_client, frozen):
    alice_client.post(URL, inclusion_post(indication="abstinence", alcohol_g_per_day="0"))
    assert Patient.objects.get().indication == "abstinence"


def test_anonymous_goes_to_login(client, frozen):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_agency_cannot_include(agency_client, frozen):
    assert agency_client.post(URL, inclusion_post()).status_code == 403
    assert not Patient.objects.exists()
