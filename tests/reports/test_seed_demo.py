"""seed_demo: demo logins (idempotent) and the default cohort reproducing the 2015 summary."""

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from accounts.models import User
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from reports import demo
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
    summary = cohort_summary()
    for key, published in PUBLISHED.items():
        computed = lookup(summary, key)
        tolerance = MEANS.get(key, 0 if key in ("patients", "prescribers") else 2.0)
        assert abs(computed - published) <= tolerance, (key, computed, published)
    # Titrations planned by prescriptions.rules: no protocol finding anywhere.
    for version in summary["protocol_findings"]:
        assert sum(version["findings"].values()) == 0, version
    # Denormalised columns agree with the rows they summarise.
    stopped = Patient.objects.filter(stopped_on__isnull=False)
    assert stopped.count() == StopOfTreatment.objects.count() == summary["stopped"]
    assert not stopped.filter(latest_dose_mg__isnull=False).exists()
    sample = Patient.objects.order_by("code")[:50]
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
