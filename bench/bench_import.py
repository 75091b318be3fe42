"""Time `manage.py import_cohort` on a generated legacy export (issue 6: >= 2,000 patients/s).

    python bench/bench_import.py [--patients 20000] [--visits 10] [--prescribers 500]
        [--database-url postgres://postgres@127.0.0.1:5432/rtu_importbench] [--file PATH]
        [--keep-data]

Writes a JSON Lines file in the format of DESIGN.md / docs/import-format.md (one patient per
line, `--visits` visits each with their dose steps, a stop for one patient in ten, an adverse
event for one in seven), then runs import_cohort in a child process against its own database
(created and migrated if missing, never the portal's) and prints patients/s. The imported rows
are deleted afterwards unless --keep-data, so the bench can be run again on the same database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TERMS = ("somnolence", "dizziness", "asthenia", "insomnia", "nausea", "headache")


def _rpps(first_ten: str) -> str:
    from accounts.validators import rpps_with_check_digit

    return rpps_with_check_digit(first_ten)


def write_file(path: Path, patients: int, visits: int, prescribers: int, seed: int = 1) -> None:
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    regions = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93"]
    doctors = [
        {
            "rpps": _rpps(f"4{seed % 10}{i:08d}"),
            "specialty": rng.choice(["general_practice", "addiction", "psychiatry", "other"]),
            "region": rng.choice(regions),
        }
        for i in range(prescribers)
    ]
    with path.open("w", encoding="utf-8") as out:
        for _ in range(patients):
            inclusion = date(2014, 3, 14) + timedelta(days=rng.randrange(700))
            alcohol = rng.randint(20, 160)
            craving = rng.randint(3, 9)
            day, dose, rows = inclusion, 15, []
            for index in range(visits):
                steps = [[day.isoformat(), dose]]
                for k in range(1, 4):
                    dose = min(dose + 10, 120)
                    steps.append([(day + timedelta(days=3 * k)).isoformat(), dose])
                rows.append(
                    {
                        "visit_date": day.isoformat(),
                        "daily_dose_mg": steps[0][1],
                        "alcohol_g_per_day": max(0, alcohol - 8 * index),
                        "craving": max(0, craving - index // 2),
                        "abstinent": alcohol - 8 * index <= 0,
                        "second_opinion": steps[0][1] >= 120,
                        "collegial_opinion": False,
                        "multidisciplinary_care": False,
                        "steps": steps,
                    }
                )
                day += timedelta(days=28)
            record = {
                "prescriber": rng.choice(doctors),
                "patient": {
                    "sex": rng.choice("MF"),
                    "birth_year": inclusion.year - rng.randint(25, 70),
                    "inclusion_date": inclusion.isoformat(),
                    "indication": rng.choice(["abstinence", "reduction"]),
                    "treatment_status": "initiation",
                    "current_dose_mg": None,
                    "alcohol_g_per_day": alcohol,
                    "craving": craving,
                    "abstinent": False,
                    "precautions": [],
                    "failed_treatments": ["acamprosate"],
                },
                "visits": rows,
                "stop": {"date": (day + timedelta(days=3)).isoformat(), "reason": "goal_reached"}
                if rng.random() < 0.1
                else None,
                "adverse_events": [
                    {
                        "onset_date": (inclusion + timedelta(days=10)).isoformat(),
                        "term": rng.choice(TERMS),
                        "serious": False,
                        "criteria": [],
                        "outcome": "recovered",
                        "causality": "possible",
                        "action": "none",
                    }
                ]
                if rng.random() < 0.14
                else [],
            }
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


def _ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _delete_imported() -> None:
    """Remove what the bench imported (its prescribers' patients and everything below)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_p AS SELECT p.id FROM patients_patient p "
            "JOIN accounts_user u ON u.id = p.prescriber_id "
            "WHERE u.email LIKE 'rpps4%%@import.rtu-baclofene.fr'"
        )
        for table in (
            "reports_patientfindings",
            "reports_patientsummary",
            "pharmacovigilance_adverseevent",
            "prescriptions_dosestep",
            "prescriptions_stopoftreatment",
            "prescriptions_visit",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE patient_id IN (SELECT id FROM bench_p)")  # noqa: S608
        cursor.execute("DELETE FROM patients_patient WHERE id IN (SELECT id FROM bench_p)")
        cursor.execute("DROP TABLE bench_p")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--visits", type=int, default=10)
    parser.add_argument("--prescribers", type=int, default=500)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/rtu_importbench"
    )
    parser.add_argument("--file", help="keep the generated file at this path")
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args()
    if args.database_url.startswith("postgres"):
        _ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rtuportal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.file) if args.file else Path(tmp) / "cohort.jsonl"
        started = time.monotonic()
        write_file(path, args.patients, args.visits, args.prescribers)
        print(
            f"wrote {args.patients} patients x {args.visits} visits "
            f"({path.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        # As deployed: the summaries job goes to the broker with the commit and a worker runs
        # it; here no worker listens on this bench-only Redis database, and the job is timed
        # below on its own. Without Redis, Celery runs it in the import's process (eager).
        env = {**os.environ, "DATABASE_URL": args.database_url}
        broker = _bench_broker()
        if broker:
            env["REDIS_URL"] = broker
        else:
            env.pop("REDIS_URL", None)
            print("Redis unreachable: the summaries job runs inside the import (eager)")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "import_cohort", str(path)],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
    print(done.stdout.strip() or done.stderr.strip()[-2000:])
    if done.returncode:
        sys.exit(done.returncode)
    print(
        f"import_cohort: {args.patients} patients in {seconds:.1f} s wall clock "
        f"(process start included): {args.patients / seconds:.0f} patients/s "
        f"(target >= 2000)"
    )
    if broker:
        from reports.summaries import summaries_refresh_missing

        started = time.monotonic()
        summarised = summaries_refresh_missing()
        print(
            f"report summaries of the imported patients (the worker's job after the commit): "
            f"{summarised} patients in {time.monotonic() - started:.1f} s"
        )
        _flush(broker)
    if not args.keep_data:
        _delete_imported()


BENCH_BROKER = "redis://127.0.0.1:6379/5"


def _bench_broker() -> str | None:
    import redis

    try:
        redis.Redis.from_url(BENCH_BROKER, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return BENCH_BROKER


def _flush(broker: str) -> None:
    import redis

    redis.Redis.from_url(broker).flushdb()


if __name__ == "__main__":
    main()
