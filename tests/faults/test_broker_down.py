"""Redis unreachable when a serious adverse event is saved or a report is requested: the data is
saved, the job waits in the outbox (rtuportal.outbox), and the sweep publishes it once the broker
is back — exactly once. Needs Redis for the "back" half (skipped without, unless CI)."""

import json
from contextlib import contextmanager

import pytest
import redis

from pharmacovigilance.models import AdverseEvent
from reports.models import CohortReport
from rtuportal import outbox
from rtuportal.models import OutboxMessage
from tests.conftest import require_service
from tests.patients.prescriber_flow import include
from tests.pharmacovigilance.helpers import report_data

from .conftest import CLOSED_PORT, redis_available, redis_url

QUEUE = "celery"


def _reset_connections(app) -> None:
    """Drop pooled connections so the next publish connects to the broker now configured."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's process-wide producer pools, keyed by broker URL


@contextmanager
def broker(url: str):
    """Point the portal's Celery app at `url` (not eager: tasks go to a broker for real)."""
    from rtuportal.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    # Fail fast instead of retrying for minutes while the broker is down.
    app.conf.broker_connection_timeout = 1
    app.conf.task_publish_retry = False
    _reset_connections(app)
    try:
        yield app
    finally:
        _reset_connections(app)
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
        app.conf.task_publish_retry = True


@pytest.fixture
def live_redis():
    url = redis_url()
    require_service("Redis", redis_available(url))
    client = redis.Redis.from_url(url)
    client.delete(QUEUE)
    yield url, client
    client.delete(QUEUE)


def queued_tasks(client) -> list[tuple[str, list]]:
    messages = [json.loads(raw) for raw in client.lrange(QUEUE, 0, -1)]
    return [
        (m["headers"]["task"], json.loads(__import__("base64").b64decode(m["body"]))[0])
        for m in messages
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_serious_adverse_event_saved_while_redis_is_down_is_sent_when_it_is_back(
    alice_client, alice, live_redis
):
    url, client = live_redis
    patient = include(alice)
    with broker(f"redis://127.0.0.1:{CLOSED_PORT}/0"):
        response = alice_client.post(
            f"/patients/{patient.code}/adverse-events/new/",
            report_data(
                onset_date="2014-05-10",
                serious="yes",
                seriousness_criteria=["hospitalisation"],
                outcome="recovering",
            ),
        )
    # The prescriber's report is saved and acknowledged, broker or not.
    assert response.status_code == 302, response.content.decode()[:1500]
    case = AdverseEvent.objects.get(patient=patient)
    assert case.serious
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    assert message.args == [case.pk]

    with broker(url):
        assert outbox.sweep(older_than_seconds=0) == 1
        assert outbox.sweep(older_than_seconds=0) == 0  # once
    message.refresh_from_db()
    assert message.sent_at is not None
    assert queued_tasks(client) == [("pharmacovigilance.tasks.notify_serious_case", [case.pk])]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_report_requested_while_redis_is_down_is_built_once_it_is_back(agency_client, live_redis):
    url, client = live_redis
    with broker(f"redis://127.0.0.1:{CLOSED_PORT}/0"):
        response = agency_client.post(
            "/reports/", {"preset": "all", "language": "fr", "date_from": "", "date_to": ""}
        )
    assert response.status_code == 302
    report = CohortReport.objects.get()
    assert report.status == "pending"
    assert OutboxMessage.objects.get().sent_at is None
    # The agency user sees the request, waiting, not an error.
    assert agency_client.get(f"/reports/{report.pk}/").status_code == 200

    with broker(url):
        sent = outbox.sweep(older_than_seconds=0)
    assert sent == 1, OutboxMessage.objects.get().last_error
    assert queued_tasks(client) == [("reports.tasks.build_report", [report.pk])]
    assert OutboxMessage.objects.filter(sent_at=None).count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_write_sends_nothing(alice, live_redis):
    """The outbox row is in the same transaction: no alert for a case that was never saved."""
    from django.db import transaction

    url, client = live_redis
    patient = include(alice)
    with broker(url), pytest.raises(RuntimeError), transaction.atomic():
        from tests.pharmacovigilance.helpers import make_case, term

        make_case(
            patient,
            term=term("convulsion"),
            serious=True,
            seriousness_criteria=["hospitalisation"],
            outcome="recovering",
        )
        raise RuntimeError("the request failed after the case was written")
    assert not AdverseEvent.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert queued_tasks(client) == []
