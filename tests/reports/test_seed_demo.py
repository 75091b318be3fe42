"""seed_demo: demo logins (idempotent) and the default cohort reproducing the 2015 summary."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from accounts.models import User
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from reports import demo
from reports.models import PatientSummary
from reports.presentation import PUBLISHED, lookup
from reports.statistics import cohort_summary

pytestmark = pytest.mark.django_db

MEANS = {
    "mean_age": 1.0,
    "consumption_change_g_per_day.initiation": 3.0,
    "consumption_change_g_per_day.pretreated": 3.0,
}


def test_zero_patients_creates_only_the_accounts_and_twice_changes_nothing(capsys):
    call_command("seed_demo", "--patients", "0")
    call_command("seed_demo", "--patients", "0")
    out = capsys.readouterr().out
    emails = [email for email, _role, _secret in demo.DEMO_ACCOUNTS]
    assert User.objects.filter(email__in=emails).count() == 3
    assert Patient.objects.count() == 0
    for email, role, secret in demo.DEMO_ACCOUNTS:
        user = User.objects.get(email=email)
        assert user.role == role and user.check_password(demo.DEMO_PASSWORD)
        assert Authenticator.objects.filter(user=user).count() == (1 if secret else 0)
        assert email in out
        if secret:
            assert secret in out


def test_default_cohort_reproduces_the_2015_summary():
    call_command("seed_demo")
    # The calibrated cohort's period: the demo prescriber's current caseload is not in it.
    summary = cohort_summary(demo.FIRST_INCLUSION, demo.CALIBRATED_UNTIL)
    for key, published in PUBLISHED.items():
        computed = lookup(summary, key)
        tolerance = MEANS.get(key, 0 if key in ("patients", "prescribers") else 2.0)
        assert abs(computed - published) <= tolerance, (key, computed, published)
    # Every patient has a report summary, and the report reads from them what it computes
    # from the clinical tables.
    assert PatientSummary.objects.count() == Patient.objects.count()
    whole = cohort_summary()
    PatientSummary.objects.all().delete()
    assert cohort_summary() == whole
    # Titrations planned by prescriptions.rules: no protocol finding anywhere.
    for version in summary["protocol_findings"]:
        assert sum(version["findings"].values()) == 0, version
    # Denormalised columns agree with the rows they summarise.
    calibrated = Patient.objects.filter(inclusion_date__lte=demo.LAST_INCLUSION)
    stopped = calibrated.filter(stopped_on__isnull=False)
    assert (
        stopped.count()
        == StopOfTreatment.objects.filter(patient__in=calibrated).count()
        == summary["stopped"]
    )
    assert not stopped.filter(latest_dose_mg__isnull=False).exists()
    sample = calibrated.order_by("code")[:50]
    for patient in sample:
        last = Visit.objects.filter(patient=patient).order_by("-visit_date").first()
        assert patient.last_visit_date == last.visit_date
        assert (
            Visit.objects.filter(
                patient=patient, is_inclusion=True, visit_date=patient.inclusion_date
            ).count()
            == 1
        )
        if not patient.stopped_on:
            step = DoseStep.objects.filter(patient=patient).order_by("-start_date", "-pk").first()
            assert patient.latest_dose_mg == step.daily_dose_mg
    for event in AdverseEvent.objects.all()[:50]:
        days = 15 if event.serious else 90
        assert (event.due_on - event.received_on).days == days


def _fingerprint():
    return list(
        Patient.objects.order_by("code").values_list(
            "code", "sex", "birth_year", "inclusion_date", "alcohol_g_per_day", "latest_dose_mg"
        )
    )


def _wipe():
    AdverseEvent.objects.all().delete()
    DoseStep.objects.all().delete()
    StopOfTreatment.objects.all().delete()
    Visit.objects.all().delete()
    Patient.objects.all().delete()


def test_same_seed_same_cohort():
    demo.ensure_demo_accounts()
    demo.seed_cohort(patients=300, prescribers=40, seed=7)
    first = _fingerprint()
    _wipe()
    demo.seed_cohort(patients=300, prescribers=40, seed=7)
    assert _fingerprint() == first
    _wipe()
    demo.seed_cohort(patients=300, prescribers=40, seed=8)
    assert _fingerprint() != first


def test_demo_looks_alive():
    """Cases routed and transmitted, intakes split, a current caseload for the demo prescriber."""
    from django.utils import timezone

    from prescriptions import timeline

    call_command("seed_demo", "--patients", "600", "--prescribers", "60")
    today = timezone.localdate()
    # Every case has its CRPV; the cohort's cases were transmitted within their deadline.
    assert not AdverseEvent.objects.filter(crpv__isnull=True).exists()
    old = AdverseEvent.objects.filter(received_on__lte=demo.CALIBRATED_UNTIL)
    assert old.exists() and not old.filter(notified_at__isnull=True).exists()
    for case in old:
        assert case.received_on < timezone.localdate(case.notified_at) <= case.due_on
    recent = AdverseEvent.objects.filter(received_on__gt=demo.CALIBRATED_UNTIL)
    assert recent.filter(notified_at__isnull=True).count() == 3
    assert not any(case.is_overdue(today) for case in recent)
    # Intakes add up to the daily dose, in 2 to 4 intakes of multiples of 5 mg.
    for visit in Visit.objects.all():
        intakes = [i for i in visit.intakes_mg if i]
        assert sum(intakes) == visit.daily_dose_mg, visit
        if visit.daily_dose_mg >= 10:
            assert 2 <= len(intakes) <= 4 and all(i % 5 == 0 for i in intakes), visit
    # The demo prescriber: a readable caseload, mostly current.
    prescriber = User.objects.get(email=demo.DEMO_ACCOUNTS[0][0])
    mine = Patient.objects.filter(prescriber=prescriber)
    current = mine.filter(inclusion_date__gt=demo.CALIBRATED_UNTIL)
    assert 20 <= mine.count() <= 40 and current.count() == len(demo.CASELOAD)
    assert all(p.protocol_version == "2021" for p in current)
    assert current.filter(inclusion_date__gte=today - timedelta(days=14)).exists()
    assert current.filter(in_titration=True).count() >= 3
    overdue = [p for p in current if p.is_overdue(today)]
    assert 1 <= len(overdue) <= 2
    assert current.filter(stopped_on__isnull=False).count() == 1
    high = current.get(latest_dose_mg__gt=80)
    assert Visit.objects.filter(patient=high, multidisciplinary_care=True).exists()
    # Planned by the rules: the replayed history has no finding; summary columns agree.
    for patient in current:
        visits = list(patient.visits.all())
        steps = list(DoseStep.objects.filter(patient=patient))
        stops = list(patient.stops.all())
        replayed = timeline.replay(patient=patient, visits=visits, steps=steps, stops=stops)
        assert not [r for r in replayed if r.check and r.check.findings], patient
        assert patient.last_visit_date == max(v.visit_date for v in visits)
