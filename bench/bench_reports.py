"""Time the cohort report on a large synthetic cohort in PostgreSQL (issue 6 measures).

    python bench/bench_reports.py [--patients 300000] [--seed 2014]
        [--database-url postgres://postgres@127.0.0.1:5432/rtu_bench] [--follow-ups 10,22]

Uses its own database (created if missing, never the portal's): migrates it, seeds the cohort
with reports.demo.seed_cohort when the database holds a different number of patients (about 10
visits per patient with the default --follow-ups), then measures in a fresh child process:
statistics time, PDF time and peak memory (ru_maxrss) of the report job (reports.tasks.build),
and compares the statistics with a bare `SELECT count(*)` over visits and dose steps. Also
times the same report for a period holding about 6,000 patients.
Targets: statistics <= 20 s, PDF <= 5 s, peak memory <= 400 MB; 6,000 patients <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rtuportal.settings")
    import django

    django.setup()


def _ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _peak_kb() -> int:
    """VmHWM: the peak resident set of this process's memory (unlike ru_maxrss, it is not
    inherited across exec from a parent that has just seeded 300,000 patients)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(database_url: str) -> None:
    """Child process: one report job from a clean process, so its peak is the job's."""
    _setup(database_url)
    from datetime import date

    from django.db import connection

    from patients.models import Patient
    from reports import tasks
    from reports.models import CohortReport
    from reports.statistics import cohort_summary

    baseline_kb = _peak_kb()
    report = CohortReport.objects.create()
    started = time.monotonic()
    tasks.build(report.pk, worker="bench")
    total = time.monotonic() - started
    report.refresh_from_db()
    peak_kb = _peak_kb()

    with connection.cursor() as cursor:
        started = time.monotonic()
        cursor.execute("SELECT count(*) FROM prescriptions_visit")
        visits = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM prescriptions_dosestep")
        steps = cursor.fetchone()[0]
        scan = time.monotonic() - started

    # A period holding about 6,000 patients: the first inclusion days of the cohort.
    days = list(
        Patient.objects.order_by("inclusion_date").values_list("inclusion_date", flat=True)[
            5999:6000
        ]
    )
    small_from, small_to = date(2014, 3, 14), days[0] if days else None
    started = time.monotonic()
    small = cohort_summary(small_from, small_to)
    small_seconds = time.monotonic() - started

    print(
        json.dumps(
            {
                "status": report.status,
                "error": report.error,
                "patients": report.summary["patients"] if report.summary else None,
                "visits": visits,
                "steps": steps,
                "statistics_seconds": report.statistics_seconds,
                "pdf_seconds": report.pdf_seconds,
                "job_seconds": total,
                "baseline_mb": baseline_kb / 1024,
                "peak_mb": peak_kb / 1024,
                "scan_seconds": scan,
                "small_patients": small["patients"],
                "small_seconds": small_seconds,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=300_000)
    parser.add_argument("--prescribers", type=int, default=6_000)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--follow-ups", default="10,22")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rtu_bench")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        measure(args.database_url)
        return
    if not args.database_url.startswith("postgres"):
        sys.exit("The bench runs on PostgreSQL (--database-url postgres://…).")

    _ensure_database(args.database_url)
    _setup(args.database_url)
    from django.core.management import call_command

    from patients.models import Patient
    from reports import demo

    call_command("migrate", verbosity=0)
    have = Patient.objects.count()
    if have != args.patients:
        if have:
            sys.exit(
                f"{args.database_url} holds {have} patients, not {args.patients}: drop it "
                "(dropdb) or pass the same --patients."
            )
        low, high = (int(x) for x in args.follow_ups.split(","))
        demo.ensure_demo_accounts()
        started = time.monotonic()
        counts = demo.seed_cohort(
            patients=args.patients,
            prescribers=args.prescribers,
            seed=args.seed,
            follow_up_visits=(low, high),
            log=lambda m: print("  seed:", m, flush=True),
        )
        seconds = time.monotonic() - started
        print(
            f"seeded {counts} in {seconds:.0f} s ({counts['patients'] / seconds:.0f} patients/s)",
            flush=True,
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    child = subprocess.run(
        [sys.executable, __file__, "--measure-only", "--database-url", args.database_url],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    ratio = result["statistics_seconds"] / result["scan_seconds"]
    print(
        f"cohort: {result['patients']:,} patients, {result['visits']:,} visits, "
        f"{result['steps']:,} dose steps ({result['status']} {result['error']})"
    )
    print(f"statistics: {result['statistics_seconds']:.2f} s (target <= 20 s)")
    print(f"PDF:        {result['pdf_seconds']:.2f} s (target <= 5 s)")
    print(
        f"job peak memory: {result['peak_mb']:.0f} MB (process at start "
        f"{result['baseline_mb']:.0f} MB; target <= 400 MB)"
    )
    print(
        f"bare scan (count(*) visits + steps): {result['scan_seconds']:.2f} s; "
        f"statistics / scan = {ratio:.1f}x"
    )
    print(
        f"{result['small_patients']:,}-patient period: {result['small_seconds']:.2f} s "
        "(target <= 1 s)"
    )


if __name__ == "__main__":
    main()
