import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the e2e tests set the last
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql-ish://nowhere"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1/x"}, "PostgreSQL or SQLite"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must start with redis://"),
        ({"RTU_REQUIRE_2FA": "agency,nurse"}, "RTU_REQUIRE_2FA lists unknown roles"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"RTU_HTTPS": "1"}, "SECRET_KEY must be set"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(env, message):
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_production_like_environment():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        RTU_HTTPS="1",
        SECRET_KEY="x7!kP2q9#Lm4vR8zT1wY6bN3cF5hJ0dS-unit-test-key-42-aB9$eQ3&uI8*oP",
        ALLOWED_HOSTS="rtu.example.fr",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "WARNINGS" not in result.stderr


@pytest.mark.django_db
def test_health_reports_database_and_broker(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True and body["broker"]["ok"] is True


@pytest.mark.django_db
def test_health_is_503_and_names_the_broker_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False


def test_database_errors_answer_a_clear_503_page(rf):
    """The 500 handler turns a database outage into a 503 page that tells the user to retry."""
    from django.db import OperationalError
    from django.utils import translation

    from rtuportal.views import server_error

    request = rf.get("/patients/")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        with translation.override("fr"):  # what LanguageMiddleware activates by default
            page = server_error(request)
    assert page.status_code == 503
    assert "momentanément indisponible" in page.content.decode()
    assert page["Retry-After"] == "30"
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500


def test_empty_variables_mean_the_local_defaults():
    result = run_manage("check", DATABASE_URL="", EMAIL_URL="", REDIS_URL="")
    assert result.returncode == 0, result.stderr
