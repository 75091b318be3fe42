"""manage.py seed_demo [--patients N] [--seed S]: demo logins and a calibrated cohort."""

import time

from django.core.management.base import BaseCommand, CommandError

from patients.models import Patient
from reports import demo


class Command(BaseCommand):
    help = (
        "Create the demo accounts (prescriber, agency and admin with TOTP) and a synthetic "
        "cohort calibrated on the ANSM 2015 interim summary, plus a current caseload for the "
        "demo prescriber (patients included in the last months). Idempotent: existing accounts are "
        "kept, and no cohort is added to a database that already holds patients."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=demo.DEFAULT_PATIENTS)
        parser.add_argument("--prescribers", type=int, default=demo.DEFAULT_PRESCRIBERS)
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument(
            "--no-caseload",
            action="store_true",
            dest="skip_caseload",
            help="Only the calibrated cohort: no current patients for the demo prescriber.",
        )

    def handle(self, *args, patients, prescribers, seed, skip_caseload, **options):
        if patients < 0 or prescribers < 1:
            raise CommandError("--patients must be >= 0 and --prescribers >= 1.")
        accounts = demo.ensure_demo_accounts()
        if patients:
            existing = Patient.objects.count()
            if existing:
                self.stdout.write(
                    f"The database already holds {existing} patients: no demo cohort added."
                )
            else:
                started = time.monotonic()
                counts = demo.seed_cohort(
                    patients=patients,
                    prescribers=prescribers,
                    seed=seed,
                    log=lambda message: self.stdout.write(f"  {message}"),
                )
                self.stdout.write(
                    self.style.SUCCESS(
                        "Demo cohort: {patients} patients, {visits} visits, {steps} dose steps, "
                        "{stops} stops, {adverse_events} adverse events".format(**counts)
                        + f" in {time.monotonic() - started:.1f} s (seed {seed})."
                    )
                )
                if not skip_caseload:
                    demo.seed_demo_caseload(
                        seed=seed, log=lambda message: self.stdout.write(f"  {message}")
                    )
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for account in accounts:
            line = f"  {account.role:<10} {account.email}"
            if account.totp_secret:
                line += f"  TOTP secret: {account.totp_secret}"
            if not account.created:
                line += "  (already existed)"
            self.stdout.write(line)
