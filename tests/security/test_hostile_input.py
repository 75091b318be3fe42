"""Hostile input through the real forms: markup is shown escaped (never executed) in pages, XML
and CSV; spreadsheet formulas are neutralised in CSV; SQL-like strings are stored verbatim;
oversized and NUL-carrying inputs are refused with a field error, never a 500."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from accounts.models import User
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions.models import Visit
from tests.conftest import PASSWORD
from tests.patients.prescriber_flow import include, visit_post
from tests.pharmacovigilance.helpers import report_data

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"
SQL = "Robert'); DROP TABLE patients_patient;--"
# A refused form comes back with its errors: 200, or 400/422 as some views answer.
FORM_ERROR = (200, 400, 422)
FORMULAS = ['=HYPERLINK("http://evil.example","clic")', "+1+1", "-2+3", "@SUM(A1:A9)"]


def assert_escaped(body: str, *payloads: str) -> None:
    for payload in payloads:
        assert payload not in body, f"raw markup in the page: {payload}"
    assert "&lt;script&gt;" in body or "&lt;img" in body, "the text is not shown at all"


def test_visit_note_markup_is_escaped_on_the_patient_page(alice_client, alice):
    patient = include(alice)
    note = f"{SCRIPT} {SQL}"[:80]
    response = alice_client.post(
        f"/patients/{patient.code}/visits/new/", visit_post(note=note), follow=True
    )
    assert response.status_code == 200
    visit = Visit.objects.get(patient=patient)
    assert visit.note == note  # stored verbatim
    body = alice_client.get(f"/patients/{patient.code}/").content.decode()
    assert_escaped(body, SCRIPT)
    assert Patient.objects.filter(pk=patient.pk).exists()  # the table is still there


@pytest.fixture
def hostile_case(alice_client, alice):
    patient = include(alice)
    description = f"{SCRIPT}\n{IMG}\n{SQL}"
    response = alice_client.post(
        f"/patients/{patient.code}/adverse-events/new/",
        report_data(
            onset_date="2014-05-10",
            term="other",
            reporter_term=FORMULAS[0],
            organ_class="general",
            description=description,
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = AdverseEvent.objects.get(patient=patient)
    assert case.description == description  # SQL-like text stored verbatim
    assert case.reporter_term == FORMULAS[0]
    return case


def test_adverse_event_text_is_escaped_in_the_case_page(hostile_case, agency_client, alice_client):
    for client in (agency_client, alice_client):
        body = client.get(f"/pharmacovigilance/{hostile_case.pk}/").content.decode()
        assert_escaped(body, SCRIPT, IMG)


def test_adverse_event_text_round_trips_through_e2b_xml(hostile_case, agency_client):
    response = agency_client.get(f"/pharmacovigilance/{hostile_case.pk}/e2b.xml")
    assert response.status_code == 200
    tree = ET.fromstring(response.content)  # well-formed despite the markup
    texts = [el.text or "" for el in tree.iter()] + [
        value for el in tree.iter() for value in el.attrib.values()
    ]
    assert not any(el.tag.endswith("script") or el.tag == "img" for el in tree.iter())
    assert any(SCRIPT in t for t in texts), "the narrative is in the export, as text"


def test_csv_cells_starting_with_a_formula_are_neutralised(hostile_case, agency_client, alice):
    from tests.pharmacovigilance.helpers import make_case

    patient = hostile_case.patient
    from pharmacovigilance.models import ReactionTerm

    other = ReactionTerm.objects.get(code="other")
    for formula in FORMULAS[1:]:
        make_case(patient, term=other, reporter_term=formula, organ_class="general")
    response = agency_client.get("/pharmacovigilance/cases.csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    for formula in FORMULAS:
        assert formula not in cells, f"formula left active: {formula}"
        assert "'" + formula in cells, f"formula missing from the export: {formula}"
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    # Negative numbers are data, not formulas: none of the numeric columns may start with "-".
    assert not [c for c in cells if c.startswith("-") and not c[1:].isdigit()]


def test_sign_up_names_with_markup_are_escaped_for_the_admin(client, admin_client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "mallory@example.fr",
            "first_name": SCRIPT[:150],
            "last_name": IMG,
            "rpps": "10000000009",
            "specialty": "addiction",
            "practice_setting": "csapa",
            "region": "84",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code in (200, 302)
    assert User.objects.filter(email="mallory@example.fr").exists()
    body = admin_client.get("/accounts/pending/").content.decode()
    assert_escaped(body, SCRIPT, IMG)
    body = admin_client.get("/admin/accounts/user/?q=mallory").content.decode()
    assert_escaped(body, SCRIPT, IMG)


def test_oversized_text_is_a_field_error_and_nothing_is_saved(alice_client, alice):
    patient = include(alice)
    response = alice_client.post(
        f"/patients/{patient.code}/adverse-events/new/",
        report_data(description="x" * 4001),
    )
    assert response.status_code in FORM_ERROR
    assert "4000" in response.content.decode() and "is-invalid" in response.content.decode()
    assert not AdverseEvent.objects.exists()
    response = alice_client.post(
        f"/patients/{patient.code}/visits/new/", visit_post(note="n" * 4001)
    )
    assert response.status_code in FORM_ERROR and "is-invalid" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_huge_request_body_is_refused_not_a_500(alice_client, alice):
    patient = include(alice)
    response = alice_client.post(
        f"/patients/{patient.code}/adverse-events/new/",
        report_data(description="x" * 3_000_000),
    )
    assert response.status_code == 400
    assert not AdverseEvent.objects.exists()


def test_nul_characters_are_a_field_error(alice_client, alice):
    """PostgreSQL refuses NUL in text: the form must catch it before the database does."""
    patient = include(alice)
    response = alice_client.post(
        f"/patients/{patient.code}/adverse-events/new/",
        report_data(description="before\x00after"),
    )
    assert response.status_code in FORM_ERROR and "is-invalid" in response.content.decode()
    assert not AdverseEvent.objects.exists()
