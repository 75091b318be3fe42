"""The agency journey in Chromium, in French and in English: second factor, a cohort report
requested and followed to the end, its PDF downloaded and read, a serious case opened and its
E2B(R3) file downloaded."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from reports.models import CohortReport
from tests.conftest import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.e2e

PDF_WORDS = {"fr": ["baclofène", "Patients"], "en": ["baclofen", "Patients"]}


@pytest.fixture
def serious_case(alice):
    from pharmacovigilance.models import ReactionTerm
    from pharmacovigilance.services import adverse_event_report
    from tests.factories import PatientFactory, VisitFactory

    patient = PatientFactory(prescriber=alice, inclusion_date=date(2024, 3, 4))
    VisitFactory(patient=patient, protocol_version="2021")
    return adverse_event_report(
        patient=patient,
        reported_by=alice,
        onset_date=date(2024, 3, 20),
        term=ReactionTerm.objects.get(code="convulsion"),
        serious=True,
        seriousness_criteria=["hospitalisation"],
        outcome="recovering",
        causality="probable",
        action_taken="stopped",
        description="Crise convulsive généralisée",
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_agency_requests_a_report_downloads_the_pdf_and_an_e2b_case(
    portal, agency, serious_case, lang, tmp_path
):
    from pypdf import PdfReader

    user = portal("agency")
    user.goto("/accounts/login/")
    user.switch_language(lang)
    user.login(agency.email, PASSWORD, totp_secret=TOTP_SECRET)
    user.check("home")
    page = user.page

    # Cohort report: ask, follow the progress, download the PDF.
    page.locator("header nav a[href='/reports/']").click()
    page.wait_for_url("**/reports/")
    user.check("reports")
    page.select_option("main select[name=preset]", "all")
    page.select_option("main select[name=language]", lang)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    report = CohortReport.objects.get()
    page.locator("a[href$='/pdf/']").wait_for(timeout=60_000)  # shown once it is done
    user.check("report-done")
    with page.expect_download() as download_info:
        page.locator("a[href$='/pdf/']").click()
    pdf_path = tmp_path / "report.pdf"
    download_info.value.save_as(pdf_path)
    report.refresh_from_db()
    assert (report.status, report.language) == ("done", lang)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    for word in PDF_WORDS[lang]:
        assert word.lower() in text.lower(), f"{word!r} not in the PDF text: {text[:600]}"

    # Pharmacovigilance: the serious case in the list, its page, its E2B file.
    page.locator("header nav a[href='/pharmacovigilance/']").click()
    page.wait_for_url("**/pharmacovigilance/")
    row = page.locator("tr", has_text=serious_case.patient.code)
    assert row.count() == 1
    user.check("case-list")
    with page.expect_navigation():
        row.locator(f"a[href='/pharmacovigilance/{serious_case.pk}/']").click()
    assert "Crise convulsive" in user.text()
    user.check("case-detail")
    with page.expect_download() as download_info:
        page.locator("a[href$='e2b.xml']").click()
    xml_path = tmp_path / "case.xml"
    download_info.value.save_as(xml_path)
    tree = ET.parse(xml_path)
    texts = " ".join(el.text or "" for el in tree.iter())
    assert serious_case.patient.code in texts
    assert "Crise convulsive" in texts
