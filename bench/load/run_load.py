"""Load test of the portal (issue 7, "Load"): gunicorn on 127.0.0.1, PostgreSQL, Celery.

    .venv/bin/python bench/load/run_load.py [--patients 300000] [--duration 60] [--rate 150]
        [--workers 4] [--threads 2] [--saturation 20] [--hello 20] [--no-results]

1. Database `rtu_load` (created if missing, never another one): migrate, then
   `manage.py seed_demo --patients N` if it holds no patient (a database already seeded is
   reused as it is; the exact patient count is reported).
2. bench/load/prepare.py: a known password on 50 seeded prescribers, each with a pool of
   patients on whom a visit today at the current dose passes the protocol; 2 agency accounts
   with a TOTP secret.
3. gunicorn (DEBUG=0) on 127.0.0.1:8100 and a Celery worker on Redis db 3.
4. The load (bench/load/client.py, one process, one thread per user): 50 prescribers log in
   through the login form, then loop list -> patient page -> visit form -> visit saved (POST,
   302) -> patient page, paced to `--rate` requests/s overall; 2 agency users log in with the
   second factor, request the whole-cohort report, poll its progress every 2 s until done,
   read it (--report-pause s), then request another (at most --reports each); a request for
   a period already being built joins that build. `--duration` s measured after a warm-up.
   Then `--saturation` s with no think time (the most the server answers).
5. Every visit answered 302 is looked up in the database (and no other visit of today exists
   for those patients).
6. The same gunicorn settings serving bench/load/hello_wsgi.py, the same client (paced, then
   saturated): the framework-free floor, and the ratios.
7. bench/results.md (unless --no-results).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import client  # noqa: E402

VENV = ROOT / ".venv" / "bin"
PY = str(VENV / "python")
DB_NAME = "rtu_load"
NICE_WORKER = int(os.environ.get("RTU_LOAD_NICE_WORKER", "1"))  # as docker-compose.yml runs it
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/3"
HOST, PORT, HELLO_PORT = "127.0.0.1", 8100, 8101


def _nice_session(pid: int, nice: int = 10) -> None:
    """With the kernel's autogroups, a process in its own session shares the CPU with the
    other sessions as a group, whatever its nice level: the worker's session gets the group
    nice level too (what cpu_shares does for the worker in docker-compose.yml)."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:  # no autogroups on this kernel: the process nice level is enough
        pass


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def server_env() -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, DEBUG="0")
    env.pop("RTU_HTTPS", None)
    return env


def psql(sql: str, params=None, dbname: str = DB_NAME):
    import psycopg

    with psycopg.connect(f"postgres://postgres@127.0.0.1:5432/{dbname}", autocommit=True) as c:
        cursor = c.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def prepare_database(patients: int) -> int:
    if not psql("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME], dbname="postgres"):
        log(f"createdb {DB_NAME}")
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    env = server_env()
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    count = psql("SELECT count(*) FROM patients_patient")[0][0]
    if count == 0:
        log(f"seed_demo --patients {patients} (300,000 take about 5 minutes)")
        started = time.monotonic()
        subprocess.run(
            [PY, "manage.py", "seed_demo", "--patients", str(patients)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        log(f"seeded in {time.monotonic() - started:.0f} s")
        psql("VACUUM ANALYZE")
        count = psql("SELECT count(*) FROM patients_patient")[0][0]
    elif count != patients:
        log(f"{DB_NAME} already holds {count} patients (not {patients}): used as it is")
    if psql("SHOW autovacuum")[0][0] == "off":
        # This machine's server runs without autovacuum: the tables each run writes (a summary
        # row and a patient row updated twice per saved visit) would bloat from run to run.
        log("autovacuum is off on this server: VACUUM ANALYZE before the run, as it would do")
        psql("VACUUM ANALYZE")
    # A report left running when an earlier run stopped its worker would be joined by this
    # run's agency users (same period) and never built: mark it failed, so they ask anew.
    psql(
        "UPDATE reports_cohortreport SET status = 'failed', error = 'load run stopped' "
        "WHERE status IN ('pending', 'running')"
    )
    return count


def prepare_accounts(prescribers: int, pool: int, agency: int) -> dict:
    out = subprocess.run(
        [PY, "bench/load/prepare.py", "accounts", "--prescribers", str(prescribers)]
        + ["--pool", str(pool), "--agency", str(agency)],
        cwd=ROOT,
        env=server_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


class Servers:
    def __init__(self, app: str, port: int, workers: int, threads: int, celery: bool) -> None:
        self.command = [
            str(VENV / "gunicorn"),
            app,
            "-b",
            f"{HOST}:{port}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
        self.port, self.celery, self.procs = port, celery, []

    def __enter__(self):
        logs = Path("/tmp") / "rtu_load_logs"
        logs.mkdir(exist_ok=True)
        env = server_env()
        self.procs.append(
            subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdout=open(logs / f"gunicorn-{self.port}.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        if self.celery:
            self.procs.append(
                subprocess.Popen(
                    ["nice", "-n", "10"] * NICE_WORKER
                    + [str(VENV / "celery"), "-A", "rtuportal", "worker", "-c", "1", "-l", "info"]
                    + ["-n", f"load-{os.getpid()}@%h", "-Q", "celery"],
                    cwd=ROOT,
                    env=env,
                    stdout=open(logs / "celery.log", "w"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            if NICE_WORKER:
                _nice_session(self.procs[-1].pid)
        deadline = time.monotonic() + 60
        path = "/health/" if self.celery else "/"
        while True:
            try:
                urllib.request.urlopen(f"http://{HOST}:{self.port}{path}", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer") from None
                time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def verify_visits(saved: list[tuple[str, str]], accounts: dict) -> dict:
    codes = [code for code, _ in saved]
    found = psql(
        "SELECT p.code, v.visit_date::text, count(*) FROM prescriptions_visit v "
        "JOIN patients_patient p ON p.id = v.patient_id "
        "WHERE p.code = ANY(%s) AND v.visit_date = %s GROUP BY 1, 2",
        [codes, accounts["today"]],
    )
    pool = [p["code"] for a in accounts["prescribers"] for p in a["patients"]]
    today_in_pool = psql(
        "SELECT count(*) FROM prescriptions_visit v JOIN patients_patient p "
        "ON p.id = v.patient_id WHERE p.code = ANY(%s) AND v.visit_date = %s",
        [pool, accounts["today"]],
    )[0][0]
    found_pairs = {(c, d) for c, d, n in found}
    return {
        "saved_302": len(saved),
        "distinct": len(set(saved)),
        "in_database": len(found_pairs & set(saved)),
        "missing": sorted(set(saved) - found_pairs)[:10],
        "duplicates": sum(n - 1 for _, _, n in found),
        "visits_today_in_pool": today_in_pool,
    }


def pg_stats() -> dict:
    row = psql(
        "SELECT xact_commit, xact_rollback, blks_hit, blks_read FROM pg_stat_database "
        "WHERE datname = %s",
        [DB_NAME],
    )[0]
    return dict(zip(["commits", "rollbacks", "blks_hit", "blks_read"], row, strict=True))


def fmt_table(summary: dict) -> str:
    lines = [
        "| page | requests | median ms | p95 ms | max ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for page, s in summary["pages"].items():
        lines.append(
            f"| {page} | {s['count']} | {s['median_ms']:.0f} | {s['p95_ms']:.0f} | "
            f"{s['max_ms']:.0f} | {s['errors']} |"
        )
    return "\n".join(lines)


def print_summary(title: str, summary: dict) -> None:
    print(
        f"\n== {title}: {summary['requests']} requests in {summary['window_seconds']:.1f} s = "
        f"{summary['requests_per_second']:.1f} req/s, errors {summary['errors_total']}"
    )
    print(fmt_table(summary))
    print(
        "   every 5 s (requests, p95 ms): "
        + ", ".join(f"{b['requests']}/{b['p95_ms']:.0f}" for b in summary.get("timeline", []))
    )
    for report in summary.get("reports", []):
        print("   report:", report)
    for error in summary["error_samples"][:5]:
        print("   error:", error)


def machine() -> dict:
    model = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        platform.processor(),
    )
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if "MemTotal" in line)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    pg = psql("SHOW server_version", dbname="postgres")[0][0]  # before rtu_load exists
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem / 1024 / 1024, 1),
        "commit": commit,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "postgres": pg,
        "load_before": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=300_000)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--rate", type=float, default=150, help="offered req/s (0: no pause)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--agency", type=int, default=2)
    parser.add_argument("--reports", type=int, default=3, help="reports per agency user")
    parser.add_argument(
        "--report-pause",
        type=float,
        default=60,
        help="s an agency user spends reading a report before asking for the next",
    )
    parser.add_argument("--pool", type=int, default=80, help="patients per prescriber")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--saturation", type=float, default=20, help="s without pause (0: skip)")
    parser.add_argument("--hello", type=float, default=20, help="s of each hello run (0: skip)")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()

    info = machine()
    count = prepare_database(args.patients)
    log(f"{DB_NAME}: {count} patients")
    log("accounts and patient pools")
    accounts = prepare_accounts(args.users, args.pool, args.agency)
    gunicorn_opts = dict(workers=args.workers, threads=args.threads)
    results: dict = {"machine": info, "patients": count, "args": vars(args)}

    with Servers("rtuportal.wsgi", PORT, celery=True, **gunicorn_opts) as servers:
        results["gunicorn"] = shlex.join(servers.command)
        before = pg_stats()
        log(f"portal, paced at {args.rate} req/s: {args.duration} s")
        rec = client.run(
            host=HOST,
            port=PORT,
            accounts=accounts,
            duration=args.duration,
            rate=args.rate,
            warmup=args.warmup,
            max_reports=args.reports,
            report_pause=args.report_pause,
        )
        results["paced"] = client.summarize(rec)
        results["paced"]["pg"] = {k: v - before[k] for k, v in pg_stats().items()}
        print_summary(f"portal paced at {args.rate} req/s", results["paced"])
        saved = list(rec.saved_visits)
        if args.saturation:
            log(f"portal, no pause: {args.saturation} s")
            done = {code for code, _ in saved}
            rest = dict(accounts)
            rest["prescribers"] = [
                {**a, "patients": [x for x in a["patients"] if x["code"] not in done]}
                for a in accounts["prescribers"]
            ]
            rec = client.run(
                host=HOST,
                port=PORT,
                accounts=rest,
                duration=args.saturation,
                rate=0,
                warmup=3,
                max_reports=1,
            )
            results["saturated"] = client.summarize(rec)
            print_summary("portal without pause", results["saturated"])
            saved += rec.saved_visits
    results["visits"] = verify_visits(saved, accounts)
    print("\n== saved visits:", json.dumps(results["visits"]))

    if args.hello:
        with Servers(
            "bench.load.hello_wsgi:application", HELLO_PORT, celery=False, **gunicorn_opts
        ):
            log(f"hello, paced at {args.rate} req/s: {args.hello} s")
            rec = client.run(
                host=HOST,
                port=HELLO_PORT,
                accounts=accounts,
                duration=args.hello,
                rate=args.rate,
                warmup=2,
                hello=True,
            )
            results["hello_paced"] = client.summarize(rec)
            print_summary("hello paced", results["hello_paced"])
            log(f"hello, no pause: {args.hello} s")
            rec = client.run(
                host=HOST,
                port=HELLO_PORT,
                accounts=accounts,
                duration=args.hello,
                rate=0,
                warmup=2,
                hello=True,
            )
            results["hello_saturated"] = client.summarize(rec)
            print_summary("hello without pause", results["hello_saturated"])
    results["load_after"] = os.getloadavg()
    Path("/tmp/rtu_load_logs/results.json").write_text(json.dumps(results, indent=2, default=str))
    ok = report(results, args)
    if not args.no_results:
        Path(args.results).write_text(markdown(results))
        log(f"written {args.results}")
    return 0 if ok else 1


def report(results: dict, args) -> bool:
    paced = results["paced"]
    visits = results["visits"]
    ok = (
        paced["errors_total"] == 0
        and visits["in_database"] == visits["saved_302"] == visits["visits_today_in_pool"]
        and visits["duplicates"] == 0
    )
    for key in ("saturated",):
        if key in results:
            ok = ok and results[key]["errors_total"] == 0
    if "hello_saturated" in results and "saturated" in results:
        h, s = results["hello_saturated"], results["saturated"]
        print(
            f"\nratio hello/portal, req/s without pause: "
            f"{h['requests_per_second']:.0f} / {s['requests_per_second']:.0f} = "
            f"{h['requests_per_second'] / s['requests_per_second']:.1f}x"
        )
    print("RESULT:", "OK (no error, every saved visit found)" if ok else "ERRORS or visits missing")
    return ok


def _ms(summary: dict, page: str, key: str) -> str:
    s = summary["pages"].get(page)
    return f"{s[key]:.0f}" if s else "—"


def markdown(r: dict) -> str:
    m, a, p = r["machine"], r["args"], r["paced"]
    v = r["visits"]
    cmd = "python bench/load/run_load.py " + " ".join(
        f"--{k} {a[k]}"
        for k in ("patients", "duration", "rate", "workers", "threads", "saturation", "hello")
    )
    out = [
        "# Load test (bench/load/run_load.py)",
        "",
        f"- Date: {m['date']}; commit {m['commit']}; Python {m['python']}; PostgreSQL "
        f"{m['postgres']}.",
        f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM; load average before "
        f"the run {m['load_before'][0]:.1f} (other engineers' jobs share the cores).",
        f"- The client (one process, {a['users'] + a['agency']} threads) runs on the same 2 cores "
        "as gunicorn, the Celery worker, PostgreSQL and Redis: every figure below includes that.",
        f"- Database `rtu_load`: **{r['patients']:,} patients** seeded by `manage.py seed_demo`.",
        f"- Server: `{r['gunicorn']}` (DEBUG=0), one Celery worker (`-c 1`), Redis db 3, "
        "all on 127.0.0.1.",
        f"- Command: `{cmd}`",
        "",
        f"## Portal, paced at {a['rate']:.0f} requests/s offered ({a['users']} prescribers, "
        f"{a['agency']} agency users), {p['window_seconds']:.0f} s measured",
        "",
        f"**{p['requests_per_second']:.1f} requests/s**, {p['requests']} requests, "
        f"**errors: {p['errors_total']}**; all pages median {p['all_ms']['median']:.0f} ms, "
        f"p95 {p['all_ms']['p95']:.0f} ms.",
        "",
        fmt_table(p),
        "",
        "Reports (whole cohort) requested by the agency users during the run: "
        + ", ".join(
            f"{x['status']}" + (f" in {x['seconds']:.0f} s" if x["seconds"] else "")
            for x in p["reports"]
        )
        + ".",
        "",
    ]
    if "saturated" in r:
        s = r["saturated"]
        out += [
            f"## Portal without pause ({s['window_seconds']:.0f} s): the most it answers",
            "",
            f"**{s['requests_per_second']:.1f} requests/s**, errors: {s['errors_total']}.",
            "",
            fmt_table(s),
            "",
        ]
    out += [
        "## Saved visits",
        "",
        f"{v['saved_302']} visits answered 302 (saved), {v['in_database']} found in the "
        f"database, {v['duplicates']} duplicates, {v['visits_today_in_pool']} visits dated "
        "today on the pool's patients (must equal the saved count).",
        "",
    ]
    if "hello_saturated" in r:
        hp, hs = r["hello_paced"], r["hello_saturated"]
        out += [
            "## Floor: bare WSGI hello (bench/load/hello_wsgi.py), same gunicorn, same client",
            "",
            "| run | req/s | median ms | p95 ms | errors |",
            "|---|---|---|---|---|",
            f"| hello paced at {a['rate']:.0f} | {hp['requests_per_second']:.1f} | "
            f"{hp['all_ms']['median']:.1f} | {hp['all_ms']['p95']:.1f} | {hp['errors_total']} |",
            f"| hello without pause | {hs['requests_per_second']:.1f} | "
            f"{hs['all_ms']['median']:.1f} | {hs['all_ms']['p95']:.1f} | {hs['errors_total']} |",
        ]
        if "saturated" in r:
            s = r["saturated"]
            out += [
                f"| portal without pause | {s['requests_per_second']:.1f} | "
                f"{s['all_ms']['median']:.1f} | {s['all_ms']['p95']:.1f} | "
                f"{s['errors_total']} |",
                "",
                f"Ratio hello / portal, requests/s without pause: "
                f"**{hs['requests_per_second'] / s['requests_per_second']:.1f}×**; median "
                f"latency paced, portal / hello: "
                f"{p['all_ms']['median'] / max(hp['all_ms']['median'], 0.01):.0f}×.",
            ]
        out.append("")
    targets = [
        ("patient page p95 ≤ 250 ms", float(_ms(p, "patient_page", "p95_ms")) <= 250),
        ("visit save p95 ≤ 250 ms", float(_ms(p, "visit_save", "p95_ms")) <= 250),
        ("≥ 150 requests/s overall", p["requests_per_second"] >= 150),
        ("0 errors", p["errors_total"] == 0),
        (
            "every saved visit in the database",
            v["in_database"] == v["saved_302"] == v["visits_today_in_pool"],
        ),
    ]
    out += ["## Targets", ""] + [
        f"- {name}: **{'met' if okay else 'NOT met'}**" for name, okay in targets
    ]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
