"""A prescriber as a new user: include, titrate for a month, follow up, see the chart, stop."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def settle(page) -> None:
    """Leave the button just clicked, and let Bootstrap's colour transitions end before axe."""
    page.mouse.move(0, 0)
    page.locator("main h1").click()
    page.wait_for_timeout(400)


def test_prescriber_includes_titrates_follows_up_and_stops(portal, alice):
    today = timezone.localdate()
    inclusion = today - timedelta(days=40)
    follow_up = today - timedelta(days=12)
    p = portal("alice")
    p.login(alice.email, PASSWORD)
    page = p.page

    # Inclusion (French by default), with the standard drinks conversion shown live.
    p.goto("/patients/new/")
    assert p.language() == "fr"
    p.check("inclusion-form")
    page.check("input[name=sex][value=M]")
    page.fill("input[name=birth_year]", "1970")
    page.fill("input[name=inclusion_date]", inclusion.isoformat())
    page.check("input[name=indication][value=reduction]")
    page.check("input[name=treatment_status][value=initiation]")
    page.check("input[name=failed_treatments][value=acamprosate]")
    page.fill("input[name=alcohol_drinks_per_day]", "9")
    assert "90 g/j" in page.locator(".js-conversion").inner_text()
    page.fill("input[name=craving]", "7")
    page.check("input[name=abstinent][value=no]")
    page.check("input[name=psychosocial_care][value=yes]")
    page.check("input[name=precautions][value=epilepsy_history]")
    page.check("input[name=informed_of_rtu]")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    patient = Patient.objects.get()
    assert patient.alcohol_g_per_day == 90
    assert patient.code in p.text()
    p.check("initiation-visit-form")

    # Initiation visit: the planner fills a month of titration, the rules judge it live.
    assert page.input_value("input[name=visit_date]") == inclusion.isoformat()
    page.fill("input[name=daily_dose_mg]", "15")
    page.fill("input[name=dose_morning_mg]", "5")
    page.fill("input[name=dose_noon_mg]", "5")
    page.fill("input[name=dose_evening_mg]", "5")
    page.fill("input[name=alcohol_g_per_day]", "90")
    page.fill("input[name=craving]", "7")
    page.check("input[name=abstinent][value=no]")
    page.fill("input[name=target_dose_mg]", "40")
    page.get_by_role("button", name="Planifier la titration").click()
    expect(page.locator("input[name='steps-0-start_date']")).not_to_have_value("")
    page.locator("#findings td", has_text="conforme").first.wait_for()
    page.wait_for_timeout(500)  # let the live check of the filled rows land
    assert "Refusé" not in page.locator("#findings").inner_text()
    # A step typed by hand that jumps too far is flagged as the prescriber types.
    page.fill("input[name='steps-0-daily_dose_mg']", "45")
    page.locator("input[name='steps-0-daily_dose_mg']").dispatch_event("change")
    page.locator("#findings", has_text="Avertissement").wait_for()
    settle(page)
    p.check("visit-form-live-warning")
    page.fill("input[name='steps-0-daily_dose_mg']", "20")
    page.locator("input[name='steps-0-daily_dose_mg']").dispatch_event("change")
    page.locator("#findings", has_text="Avertissement").wait_for(state="detached")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la visite").click()
    assert Visit.objects.count() == 1
    assert DoseStep.objects.filter(visit__isnull=False).count() > 3
    p.check("patient-page-after-initiation")
    assert page.locator(".chart svg polyline").count() >= 2

    # Follow-up visit at the target dose.
    page.get_by_role("link", name="Enregistrer une visite").first.click()
    page.wait_for_load_state()
    page.fill("input[name=visit_date]", follow_up.isoformat())
    page.fill("input[name=daily_dose_mg]", "40")
    page.fill("input[name=dose_morning_mg]", "15")
    page.fill("input[name=dose_noon_mg]", "10")
    page.fill("input[name=dose_evening_mg]", "15")
    page.fill("input[name=dose_bedtime_mg]", "0")
    page.fill("input[name=alcohol_g_per_day]", "40")
    page.fill("input[name=craving]", "4")
    page.check("input[name=abstinent][value=no]")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la visite").click()
    assert Visit.objects.count() == 2, p.text()[:2000]
    p.check("patient-page-after-follow-up")

    # Stop with a planned taper.
    page.get_by_role("link", name="Arrêter le traitement").click()
    page.wait_for_load_state()
    page.fill("input[name=taper_start]", today.isoformat())
    page.get_by_role("button", name="Planifier la diminution").click()
    expect(page.locator("input[name='taper-0-start_date']")).not_to_have_value("")
    page.select_option("select[name=reason]", "goal_reached")
    settle(page)
    p.check("stop-form-planned")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer l'arrêt").click()
    stop = StopOfTreatment.objects.get()
    assert stop.taper_steps.count() >= 2
    p.check("patient-page-stopped")
    assert "Arrêté le" in p.text()
