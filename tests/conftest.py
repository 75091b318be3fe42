"""The small cast every test shares: alice and bob (prescribers), agency staff, an admin, an
inactive and a pending account. Agency and admin have a TOTP device, so they may reach pages."""

import os
import time

import pytest
from django.test import Client

from accounts.services import account_create
from accounts.validators import rpps_with_check_digit

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def totp_now(secret: str = TOTP_SECRET, *, margin: float = 5.0) -> str:
    """The current TOTP code, taken at least `margin` seconds before its 30 s period ends.

    A code read in the last instants of its period may reach the server in the next one and be
    refused (the portal accepts no clock tolerance); waiting for the next period removes that race.
    """
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


PASSWORD = "Corr3ct-Horse-Battery!"


def require_service(name: str, available: bool) -> None:
    """Skip a test needing a real service, unless CI demands every service (then fail)."""
    if available:
        return
    if os.environ.get("RTU_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required (RTU_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{name} not available")


def other_connection():
    """A second PostgreSQL connection (autocommit) to the test database, beside Django's: to
    see what another session may do while a test's transaction is open."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def _make(
    email: str,
    role: str,
    *,
    approved: bool = True,
    region: str = "84",
    n: int = 1,
    specialty: str = "addiction",
    totp: bool = False,
):
    user = account_create(
        email=email,
        password=PASSWORD,
        role=role,
        rpps=rpps_with_check_digit(f"10{n:08d}") if role == "prescriber" else None,
        specialty=specialty,
        region=region,
        approved=approved,
        first_name=email.split("@")[0].capitalize(),
        last_name="Test",
    )
    if totp:
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def alice(db):
    return _make("alice@example.fr", "prescriber", region="84", n=1)


@pytest.fixture
def bob(db):
    return _make("bob@example.fr", "prescriber", region="11", n=2, specialty="general_practice")


@pytest.fixture
def agency(db):
    return _make("agency@ansm.example.fr", "agency", totp=True)


@pytest.fixture
def admin_user(db):
    return _make("admin@ansm.example.fr", "admin", totp=True)


@pytest.fixture
def pending(db):
    return _make("pending@example.fr", "prescriber", approved=False, n=3)


@pytest.fixture
def inactive(db):
    from accounts.services import account_deactivate

    user = _make("inactive@example.fr", "prescriber", n=4)
    return account_deactivate(account=user, by=None)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return logged_in(alice)


@pytest.fixture
def bob_client(bob):
    return logged_in(bob)


@pytest.fixture
def agency_client(agency):
    return logged_in(agency)


@pytest.fixture
def admin_client(admin_user):
    return logged_in(admin_user)


@pytest.fixture(autouse=True)
def _mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and throttles live in the cache: each test starts afresh."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_in_process():
    """Tasks run in-process in tests, even when REDIS_URL is set (CI): the tests that need a real
    worker start one and talk to it through their own Celery client."""
    from rtuportal.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    ):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests start with the rows the data migrations seed (reaction terms, CRPV
    directory), even after an earlier transactional test flushed them.

    Serialized rollback is not enough on its own: once Playwright's event loop has run in this
    process, Django resolves `connection` in another context than the one holding the snapshot,
    so later tests are not restored. The seed is idempotent (get_or_create)."""
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    import_module("pharmacovigilance.migrations.0003_seed_vocabulary_and_crpv").seed(apps, None)
