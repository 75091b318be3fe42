"""A worker killed (SIGKILL) in the middle of a report: another worker rebuilds it and the report
ends `done`, once. Real Celery workers on Redis against the PostgreSQL test database (CI)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from reports.models import CohortReport
from reports.services import report_request
from rtuportal.models import OutboxMessage
from tests.conftest import require_service

from .conftest import ROOT, postgres_in_use, redis_available, redis_url
from .test_broker_down import broker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def start_worker(name: str, log: Path, **knobs: str) -> subprocess.Popen:
    s = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        f"/{s['NAME']}",
        "REDIS_URL": redis_url(),
        "FAULT_VISIBILITY_TIMEOUT": "4",
        "FAULT_STALE_AFTER": "2",
        **knobs,
    }
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.faults.worker_app",
            "worker",
            "-n",
            f"{name}@%h",
            "--pool=solo",
            "-c",
            "1",
            "-Q",
            "celery",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(predicate, timeout: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    tail = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_report_survives_a_worker_killed_mid_build():
    require_service("PostgreSQL (DATABASE_URL)", postgres_in_use())
    require_service("Redis", redis_available())
    redis.Redis.from_url(redis_url()).delete("celery", "unacked", "unacked_index")
    logs_dir = Path(tempfile.mkdtemp(prefix="rtu-workers-"))
    first_log, second_log = logs_dir / "first.log", logs_dir / "second.log"
    first = start_worker("first", first_log, FAULT_SLOW_PDF="120")
    second = None
    try:
        with broker(redis_url()):
            report = report_request(requested_by=None, date_from=None, date_to=None)
        assert OutboxMessage.objects.get().sent_at is not None

        def running_on_first():
            report.refresh_from_db()
            return report.status == "running" and report.worker.startswith("first@")

        wait_for(running_on_first, 90, "the first worker to start the report", [first_log])
        time.sleep(1)  # statistics done, now in the (slowed) PDF step
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        report.refresh_from_db()
        assert report.status == "running" and not report.pdf

        second = start_worker("second", second_log)

        def finished():
            report.refresh_from_db()
            return report.status in ("done", "failed")

        wait_for(finished, 120, "another worker to rebuild the report", [first_log, second_log])
        assert report.status == "done", report.error
        assert report.worker.startswith("second@")
        assert report.attempts == 2
        assert bytes(report.pdf).startswith(b"%PDF")
        assert report.summary
        done_at = report.finished_at

        # Once: a late redelivery of the same task does not build it again.
        time.sleep(6)  # longer than the visibility timeout
        report.refresh_from_db()
        assert (report.status, report.attempts, report.finished_at) == ("done", 2, done_at)
        assert CohortReport.objects.count() == 1
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        if second is not None:
            stop(second)
