"""PostgreSQL unreachable: a clear 503 page (not a crash), /health/ names the part that is down,
and a request cut in the middle of a write leaves nothing half-written."""

import json
from datetime import date

import pytest
from django.db import OperationalError
from django.test import Client

from prescriptions.models import DoseStep, Visit
from tests.patients.prescriber_flow import include, visit_post

from .conftest import CLOSED_PORT, fetch, portal_server

DEAD_DATABASE = f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/rtuportal"


@pytest.fixture(scope="module")
def dead_database_server():
    with portal_server({"DATABASE_URL": DEAD_DATABASE}) as base:
        yield base


@pytest.mark.parametrize(
    "path",
    ["/", "/patients/", "/accounts/login/", "/pharmacovigilance/", "/reports/"],
)
def test_pages_answer_a_clear_503_when_the_database_is_down(dead_database_server, path):
    # A returning user: the session cookie forces a database read on every page.
    status, headers, body = fetch(
        dead_database_server + path,
        headers={"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"},
    )
    assert status == 503, body[:500]
    assert headers.get("Retry-After") == "30"
    assert "Service momentanément indisponible" in body
    assert "base de données" in body  # says which part is down
    assert "Traceback" not in body and "OperationalError" not in body


def test_health_names_the_database_as_down(dead_database_server):
    status, _headers, body = fetch(dead_database_server + "/health/")
    assert status == 503
    report = json.loads(body)
    assert report["status"] == "unavailable"
    assert report["database"]["ok"] is False
    assert report["broker"]["ok"] is True  # no REDIS_URL: tasks run in-process


def test_health_names_both_parts_when_redis_is_down_too():
    with portal_server(
        {"DATABASE_URL": DEAD_DATABASE, "REDIS_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0"}
    ) as base:
        status, _headers, body = fetch(base + "/health/")
    report = json.loads(body)
    assert status == 503
    assert report["database"]["ok"] is False and report["broker"]["ok"] is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_cut_in_the_middle_leaves_nothing_half_written(alice, monkeypatch):
    """The database goes away after the visit row is written, before its titration steps: the
    user gets the 503 page and, the database back, neither the visit nor any step exists."""
    import prescriptions.services as services

    patient = include(alice)
    steps_before = DoseStep.objects.filter(patient=patient).count()

    def connection_lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_save_steps", connection_lost)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.post(
        f"/patients/{patient.code}/visits/new/",
        visit_post(steps=[("2014-04-04", 20)]),
    )
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.content.decode()
    assert not Visit.objects.filter(patient=patient).exists()
    assert DoseStep.objects.filter(patient=patient).count() == steps_before
    patient.refresh_from_db()
    assert patient.last_visit_date is None
    assert patient.inclusion_date == date(2014, 4, 1)
