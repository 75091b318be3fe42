"""Helpers of the fault tests: services on this machine, a portal server in a subprocess."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = 1  # nothing listens on tcpmux


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"


def redis_available(url: str | None = None) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url or redis_url(), socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def postgres_in_use() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def fetch(url: str, *, headers: dict | None = None, timeout: float = 20):
    """(status, headers, body) without raising on HTTP errors."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@contextmanager
def portal_server(env: dict[str, str]) -> Iterator[str]:
    """gunicorn serving the portal on a free loopback port with `env`; yields its base URL."""
    port = free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME"}
    }
    full_env.update({"DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", **env})
    # Logs go to a file: a pipe nobody reads fills up and blocks the server mid-traceback.
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "rtuportal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = Path(log.name).read_text(errors="replace")
                    raise RuntimeError(f"gunicorn did not start:\n{output}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)
