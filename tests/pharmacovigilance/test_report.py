"""Reporting an adverse event from the patient's page: form, validation, derived fields."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from pharmacovigilance.models import AdverseEvent
from rtuportal.choices import OrganClass
from rtuportal.models import OutboxMessage
from tests.pharmacovigilance.helpers import report_data

URL = "/patients/BAC-A001-0001/adverse-events/new/"


def test_url_names_are_the_contract(patient):
    assert reverse("patient_adverse_events:new", args=[patient.code]) == URL
    assert reverse("pharmacovigilance:list") == "/pharmacovigilance/"
    assert reverse("pharmacovigilance:detail", args=[7]) == "/pharmacovigilance/7/"
    assert reverse("pharmacovigilance:e2b", args=[7]) == "/pharmacovigilance/7/e2b.xml"


def test_form_shows_the_vocabulary_grouped_and_the_search_box(alice_client, patient, today):
    response = alice_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="term"' in html and 'value="convulsion"' in html
    assert "<optgroup" in html  # organ classes group the terms when JavaScript is off
    assert reverse("pharmacovigilance:term_search") in html
    assert "<script>" not in html and 'style="' not in html  # strict CSP


def test_report_non_serious_case(alice_client, patient, today):
    response = alice_client.post(URL, report_data())
    case = AdverseEvent.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("pharmacovigilance:detail", args=[case.pk])
    assert case.patient == patient and case.reported_by == patient.prescriber
    assert case.term.code == "somnolence" and case.organ_class == "nervous_system"
    assert case.serious is False and case.seriousness_criteria == []
    assert (case.outcome, case.causality, case.action_taken) == (
        "recovered",
        "possible",
        "dose_reduced",
    )
    assert case.dechallenge == "positive"
    # Derived, not typed: 60 mg/day since 1 May, protocol of 2014.
    assert case.dose_at_onset_mg == 60
    assert case.protocol_version == "2014"
    assert case.crpv.city == "Lyon"  # alice practises in Auvergne-Rhône-Alpes (84)
    assert case.received_on == today
    assert case.due_on == date(2014, 8, 31)  # 90 days
    assert case.history.count() == 1
    assert mail.outbox == [] and not OutboxMessage.objects.exists()


def test_typed_dose_is_ignored(alice_client, patient, today):
    alice_client.post(URL, report_data(dose_at_onset_mg="300", protocol_version="2021"))
    case = AdverseEvent.objects.get()
    assert (case.dose_at_onset_mg, case.protocol_version) == (60, "2014")


def test_serious_convulsion_alerts_the_crpv_once(
    alice_client, patient, today, django_capture_on_commit_callbacks
):
    data = report_data(
        term="convulsion", serious="yes", seriousness_criteria=["hospitalisation"],
        outcome="recovering", causality="probable", action_taken="stopped",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(URL, data)
    assert response.status_code == 302
    case = AdverseEvent.objects.get()
    assert case.due_on == date(2014, 6, 17)  # 15 days
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [
        "crpv-lyon@pharmacovigilance.example.fr",
        "pharmacovigilance@ansm.example.fr",
    ]
    assert "BAC-A001-0001" in message.body
    assert f"/pharmacovigilance/{case.pk}/" in message.body
    assert "alice" not in message.body.lower()  # no identity beyond the patient code
    assert "Convulsions" in message.subject
    case.refresh_from_db()
    assert case.notified_at is not None


def test_other_term_keeps_the_reporters_words(alice_client, patient, today):
    alice_client.post(
        URL, report_data(term="other", reporter_term="Hoquet persistant", organ_class="respiratory")
    )
    case = AdverseEvent.objects.get()
    assert case.reporter_term == "Hoquet persistant"
    assert case.organ_class == "respiratory"
    assert case.reaction_label == "Hoquet persistant"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"onset_date": "2014-06-03"}, "onset_date", "ne peut pas être dans le futur"),
        ({"onset_date": "2014-04-01"}, "onset_date", "avant l’inclusion du patient"),
        ({"serious": "yes"}, "seriousness_criteria", "au moins un critère de gravité"),
        (
            {"serious": "yes", "seriousness_criteria": ["hospitalisation"], "outcome": "fatal"},
            "outcome",
            "critère de gravité « décès »",
        ),
        ({"term": "other"}, "reporter_term", "avec vos propres mots"),
        ({"seriousness_criteria": ["death"]}, "seriousness_criteria", "cas grave"),
        ({"onset_date": ""}, "onset_date", "obligatoire"),
        ({"term": "made_up"}, "term", "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_written(
    alice_client, patient, today, overrides, field, message
):
    response = alice_client.post(URL, report_data(**overrides))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert message in response.content.decode().replace("&#x27;", "'").replace("&amp;", "&")
    assert not AdverseEvent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_english_messages(alice_client, patient, today, settings):
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = alice_client.post(URL, report_data(serious="yes"))
    assert "A serious case needs at least one seriousness criterion." in response.content.decode()


def test_anonymous_is_sent_to_login(client, patient):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_agency_cannot_report(agency_client, patient):
    assert agency_client.get(URL).status_code == 403
    assert agency_client.post(URL, report_data()).status_code == 403
    assert not AdverseEvent.objects.exists()


def test_bob_cannot_report_on_alices_patient(bob_client, patient, today):
    assert bob_client.get(URL).status_code == 404
    assert bob_client.post(URL, report_data()).status_code == 404
    assert not AdverseEvent.objects.exists()


def test_term_search_returns_matching_options(alice_client, patient):
    url = reverse("pharmacovigilance:term_search")
    html = alice_client.get(url, {"q": "convul"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="convulsion" selected' in html
    with translation.override("fr"):
        assert f"Convulsions — {OrganClass.NERVOUS_SYSTEM.label}" in html
    assert 'value="somnolence"' not in html
    assert 'value="other"' in html  # the catch-all is always offered, last


def test_term_search_in_english(alice_client, patient, settings):
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = alice_client.get(
        reverse("pharmacovigilance:term_search"), {"q": "ringing"}
    ).content.decode()
    assert 'value="tinnitus"' not in html  # matches labels, not synonyms
    html = alice_client.get(
        reverse("pharmacovigilance:term_search"), {"q": "tinn"}
    ).content.decode()
    assert "Tinnitus — Ear and labyrinth disorders" in html
