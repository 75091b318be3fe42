"""The serious-case alert: after commit only, exactly once, retried on transient mail errors."""

import smtplib
from datetime import datetime
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import transaction

from pharmacovigilance import tasks
from pharmacovigilance.models import AdverseEvent
from rtuportal.models import OutboxMessage
from tests.pharmacovigilance.helpers import PARIS, frozen, make_case, term


def serious(patient, **overrides):
    values = {
        "term": term("convulsion"),
        "serious": True,
        "seriousness_criteria": ["hospitalisation"],
        "outcome": "recovering",
    }
    values.update(overrides)
    return make_case(patient, **values)


def test_one_notification_after_commit(patient, today, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = serious(patient)
        assert mail.outbox == []  # nothing leaves before the commit
    # The notification, and the refresh of the patient's report summary.
    assert sorted(c.__name__ for c in callbacks) == ["<lambda>", "request_stale_refresh"]
    assert len(mail.outbox) == 1
    case.refresh_from_db()
    assert case.notified_at == datetime(2014, 6, 2, 10, tzinfo=PARIS)
    assert OutboxMessage.objects.get().sent_at is not None
    # The notification is in the case's history.
    assert case.history.first().notified_at == case.notified_at


def test_no_notification_on_rollback(patient, today, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            serious(patient)
            raise RuntimeError("the surrounding transaction fails")
    assert callbacks == []
    assert mail.outbox == []
    assert not AdverseEvent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_non_serious_case_sends_nothing(patient, today, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_case(patient)
    assert [c.__name__ for c in callbacks] == ["request_stale_refresh"] and mail.outbox == []


def test_a_case_is_never_notified_twice(patient, today, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = serious(patient)
    assert tasks.notify_serious_case.apply(args=[case.pk]).get() == "already notified"
    assert tasks.notify_serious_case(case.pk) == "already notified"
    assert len(mail.outbox) == 1


def test_transient_error_is_retried_then_sent(patient, today):
    case = serious(patient)  # on_commit not run: the task is called by hand
    real_send = mail.EmailMessage.send
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(self, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", flaky):
        # Eager mode runs the retry at once (the countdown is for real workers).
        result = tasks.notify_serious_case.apply(args=[case.pk], throw=False)
    assert result.get() == "sent"
    assert len(calls) == 2
    assert len(mail.outbox) == 1
    case.refresh_from_db()
    assert case.notified_at is not None


def test_retries_are_bounded_and_release_the_claim(patient, today):
    case = serious(patient)
    busy = smtplib.SMTPConnectError(421, "busy")
    with mock.patch.object(mail.EmailMessage, "send", side_effect=busy):
        # Below the bound, a transient failure schedules a retry with a delay ...
        with pytest.raises(Retry) as retry:
            tasks.notify_serious_case.apply(args=[case.pk], retries=tasks.MAX_RETRIES - 1)
        assert retry.value.when > 0
        # ... at the bound, the task gives up with the error.
        with pytest.raises(tasks.TransientMailError):
            tasks.notify_serious_case.apply(args=[case.pk], retries=tasks.MAX_RETRIES)
    case.refresh_from_db()
    assert case.notified_at is None  # released: a later run may still notify it
    assert mail.outbox == []


def test_permanent_error_is_not_retried(patient, today):
    case = serious(patient)
    refused = smtplib.SMTPRecipientsRefused(
        {"crpv-lyon@pharmacovigilance.example.fr": (550, b"no")}
    )
    with (
        mock.patch.object(mail.EmailMessage, "send", side_effect=refused) as send,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        tasks.notify_serious_case.apply(args=[case.pk])
    assert send.call_count == 1
    case.refresh_from_db()
    assert case.notified_at is None


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (smtplib.SMTPServerDisconnected("x"), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (smtplib.SMTPResponseException(550, b"no such user"), False),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (ValueError("bug"), False),
    ],
)
def test_transient_errors(exc, transient):
    assert tasks.is_transient(exc) is transient


def test_notification_time_is_the_send_time(patient, django_capture_on_commit_callbacks):
    with frozen():
        case = serious(patient)
    with frozen(hour=15):
        tasks.notify_serious_case(case.pk)
    case.refresh_from_db()
    assert case.notified_at == datetime(2014, 6, 2, 15, tzinfo=PARIS)
