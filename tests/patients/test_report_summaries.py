"""The report summary of a patient (reports.models.PatientSummary, PatientFindings) follows every
write a prescriber makes in the browser: each write leaves the row stale (the report then
computes the patient from the clinical tables), the refresher a worker runs after the commit
recomputes it, and then the stored rows equal a recomputation from the clinical tables; at
every point the whole-cohort report equals the report computed from the clinical tables
alone."""

from datetime import date

import pytest
from django.urls import reverse
from prescriber_flow import steps_post, visit_post

from pharmacovigilance import services as cases
from prescriptions.models import Visit
from reports.models import PatientFindings, PatientSummary
from reports.statistics import cohort_summary
from reports.summaries import summaries_refresh, summaries_refresh_stale
from tests.pharmacovigilance.helpers import make_case

pytestmark = pytest.mark.django_db


def _stored(patient) -> tuple:
    summary = PatientSummary.objects.filter(patient=patient).values().first()
    findings = list(PatientFindings.objects.filter(patient=patient).values().order_by("version"))
    for row in findings:
        row.pop("id")
    return summary, findings


def _live_report() -> dict:
    """The whole-cohort report from the clinical tables alone (no summary row read)."""
    kept = list(PatientSummary.objects.values_list("patient_id", "stale"))
    PatientSummary.objects.update(stale=True)
    report = cohort_summary()
    for patient_id, stale in kept:
        PatientSummary.objects.filter(patient_id=patient_id).update(stale=stale)
    return report


def _assert_current(patient) -> tuple:
    """The write left the patient's row stale, and the report did not read it; the refresher
    then wrote the rows a fresh recomputation writes, and the report reads them."""
    assert PatientSummary.objects.get(patient=patient).stale
    live = _live_report()
    assert cohort_summary() == live
    assert summaries_refresh_stale() == 1
    assert summaries_refresh_stale() == 0
    kept = _stored(patient)
    assert kept[0]["stale"] is False
    assert cohort_summary() == live
    summaries_refresh(patient_ids=[patient.pk])
    assert _stored(patient) == kept
    PatientSummary.objects.all().delete()  # cascades to nothing; findings are read with it
    assert cohort_summary() == live
    summaries_refresh()
    return kept


def test_every_write_keeps_the_patient_summary_current(alice, alice_client, alice_patient):
    code = alice_patient.code
    assert _stored(alice_patient) == (None, [])

    steps = [("2014-04-03", 20), ("2014-04-05", 25), ("2014-04-07", 30), ("2014-04-09", 40)]
    url = reverse("patients:visit_new", args=[code])
    assert alice_client.post(url, visit_post(steps=steps)).status_code == 302
    summary, findings = _assert_current(alice_patient)
    assert summary["highest_dose_mg"] == 40 and summary["last_follow_up"] is None
    assert summary["facts_until"] == date(2014, 4, 9)
    assert [(f["version"], f["steps"]) for f in findings] == [("2014", 5)]

    data = visit_post(visit_date="2014-05-02", daily_dose_mg="40", alcohol_g_per_day="30")
    data.update(dose_morning_mg="10", dose_noon_mg="10", dose_evening_mg="10", dose_bedtime_mg="10")
    assert alice_client.post(url, data).status_code == 302
    summary, _ = _assert_current(alice_patient)
    assert summary["last_follow_up"] == 30 * 1000 + 6 * 10 + 0

    follow_up = Visit.objects.get(patient=alice_patient, visit_date=date(2014, 5, 2))
    edit = reverse("patients:visit_edit", args=[code, follow_up.pk])
    data.update(
        version=str(follow_up.version), reason="typo", visit_id=str(follow_up.pk), craving="2"
    )
    data["alcohol_g_per_day"] = "0"
    data["abstinent"] = "yes"
    assert alice_client.post(edit, data).status_code == 302
    summary, _ = _assert_current(alice_patient)
    assert summary["last_follow_up"] == 0 * 1000 + 2 * 10 + 1

    case = make_case(alice_patient, outcome="recovering", causality="unlikely", action_taken="none")
    summary, _ = _assert_current(alice_patient)
    assert (summary["ae_any"], summary["ae_related"], summary["ae_serious"]) == (1, 0, 0)

    cases.adverse_event_follow_up(
        case=case,
        reported_by=alice,
        information="Hospitalised overnight.",
        outcome="recovered",
        serious=True,
        seriousness_criteria=["hospitalisation"],
        causality="probable",
        today=date(2014, 6, 2),
    )
    summary, _ = _assert_current(alice_patient)
    assert (summary["ae_related"], summary["ae_serious"], summary["ae_serious_related"]) == (
        1,
        1,
        1,
    )

    taper = [("2014-05-10", 30), ("2014-05-12", 20), ("2014-05-14", 10)]
    stop = {"stop_date": "2014-05-20", "reason": "goal_reached", "note": ""}
    stop.update(steps_post(taper, prefix="taper"))
    assert alice_client.post(reverse("patients:stop", args=[code]), stop).status_code == 302
    summary, findings = _assert_current(alice_patient)
    assert summary["stopped"] == 1 and summary["facts_until"] == date(2014, 5, 20)
    assert [(f["version"], f["steps"]) for f in findings] == [("2014", 9)]


def test_the_refresh_follows_the_commit_of_a_save(
    alice_client, alice_patient, django_capture_on_commit_callbacks
):
    """Tasks in-process (no broker): the row is recomputed as soon as the save commits."""
    url = reverse("patients:visit_new", args=[alice_patient.code])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert alice_client.post(url, visit_post(steps=[("2014-04-03", 20)])).status_code == 302
    assert [c.__name__ for c in callbacks] == ["request_stale_refresh"]
    summary, findings = _stored(alice_patient)
    assert summary["stale"] is False and summary["highest_dose_mg"] == 20
    assert [(f["version"], f["steps"]) for f in findings] == [("2014", 2)]
