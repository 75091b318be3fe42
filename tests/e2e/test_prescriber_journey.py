"""A prescriber as a new user, in French and in English, in one continuous journey.

Log in (French by default, then the navbar language switch) → include a patient with the keyboard
alone (the drinks/day conversion shown as they type) → initiation visit: the planner fills a month
of titration, a step typed by hand raises a live protocol warning (htmx), acknowledged → follow-up
visit → a serious convulsion reported with the keyboard alone (search-as-you-type term,
hospitalisation criterion) and the regional pharmacovigilance centre e-mailed → stop with a taper
plan → the patient page shows the stop, the adverse event and the dose chart.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from pharmacovigilance.models import AdverseEvent, CRPVRegion
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from tests.conftest import PASSWORD

from .keyboard import (
    choose_radio,
    pick_option,
    skip_to_content,
    submit_with_enter,
    tab_to,
    tick,
    type_date,
    type_in,
)

pytestmark = pytest.mark.e2e

LANGUAGES = ["fr", "en"]

# What the user reads and clicks, per language (the translations are part of what is tested).
WORDS = {
    "fr": {
        "include": "Inclure un patient",
        "grams": "= 90 g/j",
        "plan_titration": "Planifier la titration",
        "compliant": "conforme",
        "warning": "Avertissement",
        "refused": "Refusé",
        "save_visit": "Enregistrer la visite",
        "record_visit": "Enregistrer une visite",
        "report_ae": "Déclarer un effet indésirable",
        "convulsion": "Convulsions",
        "alerted": "Le centre régional de pharmacovigilance est alerté",
        "back_to_patient": "Retour à la fiche du patient",
        "serious": "grave",
        "stop": "Arrêter le traitement",
        "plan_taper": "Planifier la diminution",
        "record_stop": "Enregistrer l'arrêt",
        "stopped": "Arrêté le",
        "stopped_reason": "Effet indésirable",
        "foreign_unit": "mg/day",
    },
    "en": {
        "include": "Include a patient",
        "grams": "= 90 g/day",
        "plan_titration": "Plan the titration",
        "compliant": "compliant",
        "warning": "Warning",
        "refused": "Refused",
        "save_visit": "Save the visit",
        "record_visit": "Record a visit",
        "report_ae": "Report an adverse event",
        "convulsion": "Convulsion",
        "alerted": "The regional pharmacovigilance centre is alerted",
        "back_to_patient": "Back to the patient page",
        "serious": "serious",
        "stop": "Stop the treatment",
        "plan_taper": "Plan the taper",
        "record_stop": "Record the stop",
        "stopped": "Stopped on",
        "stopped_reason": "Adverse event",
        "foreign_unit": "mg/j",
    },
}


def settle(page) -> None:
    """Leave the button just clicked, and let Bootstrap's colour transitions end before axe."""
    page.mouse.move(0, 0)
    page.locator("main h1").click()
    page.wait_for_timeout(400)


def include_with_the_keyboard(p, words: dict, inclusion) -> None:
    """The inclusion form, from the skip link to Enter on the submit button, no mouse."""
    page = p.page
    skip_to_content(page)
    # The contraindications come first: Tab goes past them, none is ticked.
    choose_radio(page, "sex", "M")
    type_in(page, "birth_year", "1970")
    type_date(page, "inclusion_date", inclusion)
    choose_radio(page, "indication", "reduction")
    choose_radio(page, "treatment_status", "initiation")
    tick(page, "failed_treatments", "acamprosate")
    type_in(page, "alcohol_drinks_per_day", "9")
    expect(page.locator(".js-conversion")).to_have_text(words["grams"])
    type_in(page, "craving", "7")
    choose_radio(page, "abstinent", "no")
    choose_radio(page, "psychosocial_care", "yes")
    tick(page, "precautions", "epilepsy_history")
    tick(page, "informed_of_rtu")
    p.check("inclusion-filled-with-the-keyboard")
    submit_with_enter(page)


def report_with_the_keyboard(p, words: dict, onset) -> None:
    """The adverse-event form with the keyboard alone: type "conv" in the search box, Tab to the
    reaction list the server narrowed (htmx), check the suggestion is chosen, and so on."""
    page = p.page
    skip_to_content(page)
    type_date(page, "onset_date", onset)
    options = page.locator("select[name=term] option")
    vocabulary = options.count()
    tab_to(page, id="term-search")
    page.keyboard.type("conv")
    # The server narrows the list to the matches (and "other", always last) as they type.
    expect(options.first).to_contain_text(words["convulsion"])
    assert options.count() < vocabulary // 4, options.all_inner_texts()
    pick_option(page, "term", "convulsion")
    # "Other" is not chosen: its own-words block stays hidden and out of the Tab order.
    expect(page.locator(".pv-other-term")).to_be_hidden()
    type_in(page, "description", "Crise convulsive généralisée, hospitalisation 48 h.")
    choose_radio(page, "serious", "yes")
    expect(page.locator(".pv-criteria")).to_be_visible()
    tick(page, "seriousness_criteria", "hospitalisation")
    pick_option(page, "outcome", "recovering")
    pick_option(page, "causality", "probable")
    pick_option(page, "action_taken", "stopped")
    pick_option(page, "dechallenge", "positive")
    p.check("adverse-event-filled-with-the-keyboard")
    submit_with_enter(page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_prescriber_includes_titrates_reports_a_serious_event_and_stops(portal, alice, lang):
    words = WORDS[lang]
    today = timezone.localdate()
    inclusion = today - timedelta(days=40)
    follow_up = today - timedelta(days=12)
    onset = today - timedelta(days=5)
    p = portal("alice")
    page = p.page

    p.goto("/accounts/login/")
    assert p.language() == "fr", "French is the default whatever the browser says"
    p.switch_language(lang)
    p.login(alice.email, PASSWORD)
    assert alice.email in page.locator("header").inner_text()

    # Inclusion, keyboard only, with the standard drinks conversion shown live.
    p.goto("/patients/new/")
    assert p.language() == lang
    assert p.heading() == words["include"]
    p.check("inclusion-form")
    include_with_the_keyboard(p, words, inclusion)
    patient = Patient.objects.get()
    assert (patient.alcohol_g_per_day, patient.birth_year, patient.inclusion_date) == (
        90,
        1970,
        inclusion,
    )
    assert patient.precautions == ["epilepsy_history"]
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
    page.get_by_role("button", name=words["plan_titration"]).click()
    expect(page.locator("input[name='steps-0-start_date']")).not_to_have_value("")
    page.locator("#findings td", has_text=words["compliant"]).first.wait_for()
    findings = page.locator("#findings")
    expect(findings).not_to_contain_text(words["warning"])
    expect(findings).not_to_contain_text(words["refused"])
    # The prescriber types a first step that jumps too far: flagged as they type (htmx).
    step = page.locator("input[name='steps-0-daily_dose_mg']")
    step.click()
    step.press("Control+A")
    step.press_sequentially("45", delay=80)
    expect(findings).to_contain_text(words["warning"])
    expect(findings).not_to_contain_text(words["refused"])
    settle(page)
    p.check("visit-form-live-warning")
    # Saving without the acknowledgement is refused; ticked, the visit is saved as it is.
    with page.expect_navigation():
        page.get_by_role("button", name=words["save_visit"]).click()
    assert Visit.objects.count() == 0
    assert page.locator("input[name=acknowledge_warnings]").get_attribute("aria-invalid") == "true"
    p.check("visit-form-warning-not-acknowledged")
    page.check("input[name=acknowledge_warnings]")
    with page.expect_navigation():
        page.get_by_role("button", name=words["save_visit"]).click()
    initiation = Visit.objects.get()
    assert initiation.warnings_acknowledged
    steps = DoseStep.objects.filter(visit=initiation).order_by("start_date")
    doses = [step.daily_dose_mg for step in steps]
    assert doses[:2] == [15, 45] and doses[-1] == 40, doses  # the visit's dose, then the steps
    p.check("patient-page-after-initiation")
    assert page.locator(".chart svg polyline").count() >= 2

    # Follow-up visit at the target dose.
    page.get_by_role("link", name=words["record_visit"]).first.click()
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
    page.locator("#findings td", has_text=words["compliant"]).first.wait_for()
    settle(page)
    p.check("follow-up-visit-form")
    with page.expect_navigation():
        page.get_by_role("button", name=words["save_visit"]).click()
    assert Visit.objects.count() == 2, p.text()[:2000]
    p.check("patient-page-after-follow-up")

    # A serious convulsion, reported from the patient page with the keyboard alone.
    page.get_by_role("link", name=words["report_ae"]).first.click()
    page.wait_for_url(f"**/patients/{patient.code}/adverse-events/new/")
    p.check("adverse-event-form")
    report_with_the_keyboard(p, words, onset)
    case = AdverseEvent.objects.get()
    assert (case.term.code, case.serious, case.seriousness_criteria) == (
        "convulsion",
        True,
        ["hospitalisation"],
    )
    assert (case.outcome, case.causality, case.action_taken, case.dechallenge) == (
        "recovering",
        "probable",
        "stopped",
        "positive",
    )
    assert case.dose_at_onset_mg == 40, "the dose at onset comes from the titration log"
    assert words["alerted"] in page.locator(".alert-success").inner_text()
    assert patient.code in p.text()
    p.check("case-page")

    # The CRPV of the prescriber's region got the alert (Celery runs in-process here).
    crpv = CRPVRegion.objects.get(region=alice.prescriber_profile.region).crpv
    alerts = [m for m in mail.outbox if crpv.email in m.to]
    assert len(alerts) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert patient.code in alerts[0].body and f"/pharmacovigilance/{case.pk}/" in alerts[0].body
    case.refresh_from_db()
    assert case.notified_at is not None and case.crpv == crpv

    page.get_by_role("link", name=words["back_to_patient"]).click()
    page.wait_for_url(f"**/patients/{patient.code}/")
    events = page.locator("section[aria-labelledby=ae-title]")
    expect(events).to_contain_text(words["convulsion"])
    expect(events).to_contain_text(words["serious"])
    p.check("patient-page-after-adverse-event")

    # Stop with a planned taper, for the adverse event.
    page.get_by_role("link", name=words["stop"]).click()
    page.wait_for_load_state()
    page.fill("input[name=taper_start]", today.isoformat())
    page.get_by_role("button", name=words["plan_taper"]).click()
    expect(page.locator("input[name='taper-0-start_date']")).not_to_have_value("")
    page.select_option("select[name=reason]", "adverse_event")
    page.locator("#findings td").first.wait_for()
    settle(page)
    p.check("stop-form-planned")
    with page.expect_navigation():
        page.get_by_role("button", name=words["record_stop"]).click()
    stop = StopOfTreatment.objects.get()
    assert stop.reason == "adverse_event" and stop.taper_steps.count() >= 2

    # The patient page tells the whole story: the stop, the adverse event, the dose chart.
    assert page.url.endswith(f"/patients/{patient.code}/")
    text = p.text()
    assert words["stopped"] in text and words["stopped_reason"] in text
    expect(events).to_contain_text(words["convulsion"])
    assert page.locator(".chart svg polyline").count() >= 2
    assert page.get_by_role("link", name=words["record_visit"]).count() == 0
    # Nothing in the other language, not even the change history or the chart's tooltips.
    assert words["foreign_unit"] not in page.content()
    p.check("patient-page-stopped")
