"""Django side of the load test, run in its own process with DATABASE_URL set (run_load.py).

    python bench/load/prepare.py accounts --prescribers 50 --pool 80 --agency 2 > accounts.json

Sets a known password on `--prescribers` seeded prescribers (chosen deterministically among
those owning at least `--pool` patients on whom a visit dated today at the current dose is
accepted by the protocol: not stopped, last visit before today, no blocking finding), creates
the agency accounts with a TOTP secret, and prints JSON: the logins and each prescriber's pool
of patients with the visit to post (dose, intakes, alcohol, craving, abstinent).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PASSWORD = "Load-Test-Baclofen-2014!"  # loopback-only benchmark accounts
AGENCY_SECRETS = ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "KRSXG5DSNFXGOIDBNZSCA5DFON2GK4TB"]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rtuportal.settings")
    import django

    django.setup()


def _intakes(dose: int) -> dict[str, int]:
    part = (dose // 15) * 5
    return {
        "dose_morning_mg": part,
        "dose_noon_mg": part,
        "dose_evening_mg": dose - 2 * part,
        "dose_bedtime_mg": 0,
    }


def accounts(prescribers: int, pool: int, agency: int) -> dict:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.db import transaction
    from django.db.models import Count, Q
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import account_create
    from patients.models import Patient
    from prescriptions import services

    today = timezone.localdate()
    eligible = Q(
        patients__stopped_on__isnull=True,
        patients__latest_dose_mg__isnull=False,
        patients__latest_dose_mg__lte=80,
        patients__last_visit_date__lt=today,
    )
    # Deterministic spread over the cohort: prescribers by id, every k-th one that has enough
    # eligible patients (the big and the small practices both appear).
    candidates = list(
        User.objects.filter(role="prescriber", is_active=True)
        .annotate(n=Count("patients", filter=eligible))
        .filter(n__gte=pool)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(candidates) < prescribers:
        raise SystemExit(f"only {len(candidates)} prescribers own {pool} eligible patients")
    step = len(candidates) / prescribers
    chosen = [candidates[int(i * step)] for i in range(prescribers)]

    result: dict = {"password": PASSWORD, "today": today.isoformat(), "prescribers": []}
    refused = 0
    for user in User.objects.filter(pk__in=chosen).order_by("pk"):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        patients = []
        queryset = Patient.objects.filter(
            prescriber=user,
            stopped_on__isnull=True,
            latest_dose_mg__isnull=False,
            latest_dose_mg__lte=80,
            last_visit_date__lt=today,
        ).order_by("code")
        for patient in queryset.iterator():
            dose = patient.latest_dose_mg
            assessment = services.visit_assess(
                patient=patient, visit_date=today, daily_dose_mg=dose, steps=[], opinions={}
            )
            if assessment.blocking:
                refused += 1
                continue
            patients.append(
                {
                    "code": patient.code,
                    "daily_dose_mg": dose,
                    **_intakes(dose),
                    "alcohol_g_per_day": min(patient.alcohol_g_per_day, 1000),
                    "craving": patient.craving,
                    "abstinent": "yes" if patient.abstinent else "no",
                    "warnings": len(assessment.warnings),
                }
            )
            if len(patients) >= pool:
                break
        result["prescribers"].append({"email": user.email, "patients": patients})
    result["refused_by_protocol"] = refused

    result["agency"] = []
    for i in range(agency):
        email = f"load-agency-{i + 1}@bench.rtu-baclofene.fr"
        secret = AGENCY_SECRETS[i % len(AGENCY_SECRETS)]
        user = User.objects.filter(email=email).first()
        with transaction.atomic():
            if user is None:
                user = account_create(email=email, password=PASSWORD, role="agency")
            else:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
            TOTP.activate(user, secret)
        result["agency"].append({"email": email, "totp_secret": secret})
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accounts")
    acc.add_argument("--prescribers", type=int, default=50)
    acc.add_argument("--pool", type=int, default=80)
    acc.add_argument("--agency", type=int, default=2)
    args = parser.parse_args()
    _setup()
    if args.command == "accounts":
        json.dump(accounts(args.prescribers, args.pool, args.agency), sys.stdout)


if __name__ == "__main__":
    main()
