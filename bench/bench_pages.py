"""Single-threaded CPU cost of the pages in the load mix, in-process (django.test.Client).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rtu_load \
        .venv/bin/python bench/bench_pages.py -n 100 [--caseload 300] [--profile /tmp/p.prof]

Logs in (force_login) a prescriber of the load database whose caseload is the closest to
`--caseload` patients, picks one of their patients on whom a visit today at the current dose is
accepted by the protocol, warms up, then times N requests of each page of the load mix:
the patient list, the patient page, the visit form (GET) and the visit save (POST; every save
runs inside a transaction rolled back afterwards, so the database is left as it was).
Prints mean and median ms per page, and the CPU each request costs the app and its PostgreSQL
backend (from /proc: the figure that bounds requests per second on a shared machine, where
wall-clock times move with the neighbours). With --profile, also writes a cProfile dump of the timed
loop (open it with `python -m pstats` or snakeviz).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "load"))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rtu_load")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
os.environ["DEBUG"] = "0"
os.environ.pop("RTU_HTTPS", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rtuportal.settings")


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--caseload", type=int, default=300, help="prescriber's patient count")
    parser.add_argument("--pages", default="list,detail,form,save")
    parser.add_argument("--profile", help="write a cProfile dump of the timed loop here")
    parser.add_argument(
        "--queries", action="store_true", help="print the SQL of one request of each page"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from client import form_fields
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone
    from prepare import _intakes

    from accounts.models import User
    from patients.models import Patient
    from prescriptions import services

    today = timezone.localdate()
    users = (
        User.objects.filter(role="prescriber", is_active=True)
        .annotate(n=Count("patients"))
        .filter(n__gte=80)
        .values_list("pk", "n")
    )
    pk, caseload = min(users, key=lambda row: (abs(row[1] - args.caseload), row[0]))
    user = User.objects.get(pk=pk)
    patient = None
    for candidate in Patient.objects.filter(
        prescriber=user,
        stopped_on__isnull=True,
        latest_dose_mg__isnull=False,
        latest_dose_mg__lte=80,
        last_visit_date__lt=today,
    ).order_by("code")[:50]:
        assessment = services.visit_assess(
            patient=candidate,
            visit_date=today,
            daily_dose_mg=candidate.latest_dose_mg,
            steps=[],
            opinions={},
        )
        if not assessment.blocking:
            patient = candidate
            break
    if patient is None:
        raise SystemExit(f"no patient of prescriber {pk} accepts a visit today")
    code = patient.code
    dose = patient.latest_dose_mg

    client = Client()
    client.force_login(user)
    form_html = client.get(f"/patients/{code}/visits/new/").content.decode()
    post = form_fields(form_html, "visit_date")
    post.update(
        visit_date=today.isoformat(),
        daily_dose_mg=dose,
        **_intakes(dose),
        alcohol_g_per_day=min(patient.alcohol_g_per_day, 1000),
        craving=patient.craving,
        abstinent="yes" if patient.abstinent else "no",
        acknowledge_warnings="on",
    )

    def save():
        try:
            with transaction.atomic():
                # Form-encoded, as a browser (and bench/load/client.py) posts this form.
                response = client.post(
                    f"/patients/{code}/visits/new/",
                    urlencode(post, doseq=True),
                    content_type="application/x-www-form-urlencoded",
                )
                raise Rollback(response)
        except Rollback as exc:
            return exc.args[0]

    pages = {
        "list": (lambda: client.get("/patients/"), 200),
        "detail": (lambda: client.get(f"/patients/{code}/"), 200),
        "form": (lambda: client.get(f"/patients/{code}/visits/new/"), 200),
        "save": (save, 302),
    }
    chosen = [p for p in args.pages.split(",") if p]
    print(
        f"prescriber {pk} ({caseload} patients), patient {code}, dose {dose} mg; "
        f"n={args.n}, warm-up {args.warmup}, vendor {connection.vendor}"
    )
    for name in chosen:
        call, expected = pages[name]
        for _ in range(args.warmup):
            response = call()
            if response.status_code != expected:
                raise SystemExit(f"{name}: {response.status_code}, expected {expected}")
    if args.queries:
        from django.test.utils import CaptureQueriesContext

        for name in chosen:
            with CaptureQueriesContext(connection) as captured:
                pages[name][0]()
            print(f"--- {name}: {len(captured.captured_queries)} queries")
            for query in captured.captured_queries:
                # A statement prepared on the server (reports.summaries) logs no text.
                sql = query["sql"] or "(prepared statement)"
                print(f"  {query['time']:>6} {sql[:300]}")
    profiler = cProfile.Profile() if args.profile else None
    backend = _backend_cpu(connection)
    for name in chosen:
        call, _expected = pages[name]
        times = []
        app_cpu = db_cpu = 0.0
        for _ in range(args.n):
            started = time.perf_counter()
            cpu_started = time.process_time()
            db_started = backend()
            if profiler:
                profiler.enable()
            call()
            if profiler:
                profiler.disable()
            times.append((time.perf_counter() - started) * 1000)
            app_cpu += time.process_time() - cpu_started
            db_cpu += backend() - db_started
        print(
            f"{name:8} mean {statistics.mean(times):7.2f} ms  "
            f"median {statistics.median(times):7.2f} ms  min {min(times):7.2f} ms  "
            f"cpu app {app_cpu * 1000 / args.n:6.2f} ms  db {db_cpu * 1000 / args.n:5.2f} ms"
        )
    if profiler:
        profiler.dump_stats(args.profile)
        print(f"profile written to {args.profile}")


def _backend_cpu(connection):
    """A function giving the CPU seconds used so far by this connection's PostgreSQL backend.

    CPU time, unlike wall-clock time, hardly moves with the neighbours on a shared machine: the
    sum of the app's and the backend's CPU per request is what bounds the requests per second
    two cores can serve. Reads /proc, so only for a local server (0 otherwise, and on SQLite).
    """
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return lambda: 0.0
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return read


if __name__ == "__main__":
    main()
