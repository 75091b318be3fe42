"""Production settings: `check --deploy` clean, cookies, HTTPS redirect and security headers.

The production values are read from the real settings module started with RTU_HTTPS=1 in a
subprocess (not copied here), then applied with override_settings to real responses.
"""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
PRODUCTION_NAMES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "DEBUG",
]


def production_env() -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="0",
        RTU_HTTPS="1",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS="rtu.example.fr",
        DJANGO_SETTINGS_MODULE="rtuportal.settings",
    )
    return env


@pytest.fixture(scope="module")
def production_settings() -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {PRODUCTION_NAMES!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = json.loads(out.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


def test_check_deploy_is_clean_with_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_with_the_development_secret_key():
    env = production_env()
    env.pop("SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_values_are_the_strict_ones(production_settings):
    assert production_settings["DEBUG"] is False
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31_536_000


def https_client(**kwargs) -> Client:
    return Client(HTTP_X_FORWARDED_PROTO="https", **kwargs)


def test_session_and_csrf_cookies_are_secure_httponly_samesite(production_settings, alice):
    with override_settings(**production_settings):
        client = https_client()
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        csrf = page.cookies[settings.CSRF_COOKIE_NAME]
        response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
        assert response.status_code == 302
        session = response.cookies[settings.SESSION_COOKIE_NAME]
    for cookie in (csrf, session):
        assert cookie["secure"] is True, cookie.key
        assert cookie["httponly"] is True, cookie.key
        assert cookie["samesite"] == "Lax", cookie.key
    # The session does not outlive the browser nor 30 idle minutes.
    assert session["max-age"] in ("", 1800) or int(session["max-age"]) <= 1800


def test_plain_http_is_redirected_to_https_except_health(production_settings):
    with override_settings(**production_settings):
        client = Client()
        response = client.get("/accounts/login/")
        assert response.status_code == 301
        assert response["Location"].startswith("https://")
        # The load balancer's probe speaks plain HTTP on the private network.
        assert client.get("/health/").status_code in (200, 503)


PAGES = ["/accounts/login/", "/accounts/signup/", "/", "/health/", "/no-such-page/"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_kind_of_response(production_settings, alice, path):
    with override_settings(**production_settings):
        client = https_client()
        client.force_login(alice)
        response = client.get(path)
    headers = response.headers
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    if "text/html" in headers.get("Content-Type", ""):
        csp = {
            d.split()[0]: d.split()[1:]
            for d in headers["Content-Security-Policy"].split(";")
            if d.strip()
        }
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"], "no inline or remote script may run"
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]


def test_no_inline_script_in_the_pages_the_csp_would_block(alice_client, agency_client):
    """An inline <script> would be blocked by the CSP and silently break the page."""
    import re

    for client, path in [
        (alice_client, "/"),
        (alice_client, "/patients/"),
        (alice_client, "/patients/new/"),
        (agency_client, "/"),
        (Client(), "/accounts/login/"),
        (Client(), "/accounts/signup/"),
    ]:
        body = client.get(path).content.decode()
        inline = [m for m in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body)]
        handlers = re.findall(r"\son(click|change|submit|load)=", body)
        assert not inline and not handlers, (path, inline, handlers)
