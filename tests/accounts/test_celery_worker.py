"""A real Celery worker against Redis runs a task end to end (CI; skipped without Redis)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def test_real_worker_runs_a_task_end_to_end():
    url = redis_url()
    require_service("Redis", redis_available(url))
    from celery import Celery

    queue = f"ci-ping-{os.getpid()}"
    env = {**os.environ, "REDIS_URL": url}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rtuportal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        client = Celery(broker=url, backend=url)
        result = client.send_task("rtuportal.tasks.ping", args=[41], queue=queue)
        assert result.get(timeout=60) == 42
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
