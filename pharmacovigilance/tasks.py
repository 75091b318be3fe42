"""Expedited alert of a serious case to its CRPV and to the agency.

Enqueued through the outbox by `services.adverse_event_report` (after commit). The task claims the
case with a conditional UPDATE of `notified_at`, so a case is never notified twice even if the
message is delivered twice; a transient mail failure gives the claim back and retries (bounded).
"""

import logging
import smtplib
import socket

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import AdverseEvent
from .services import case_claim_notification, case_record_notification, case_release_notification

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


class TransientMailError(Exception):
    """The mail server may accept the message later (connection lost, 4xx reply, timeout)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False  # a wrong address does not fix itself
    return isinstance(
        exc,
        smtplib.SMTPServerDisconnected
        | smtplib.SMTPConnectError
        | socket.timeout
        | ConnectionError
        | TimeoutError,
    )


def build_message(case: AdverseEvent) -> EmailMessage:
    """The alert: the patient's pseudonymous code only, the essentials, and the case link."""
    recipients = [settings.RTU_AGENCY_EMAIL]
    if case.crpv is not None:
        recipients.insert(0, case.crpv.email)
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "case": case,
            "case_url": settings.RTU_SITE_URL.rstrip("/")
            + reverse("pharmacovigilance:detail", args=[case.pk]),
        }
        subject = render_to_string("pharmacovigilance/email/serious_case_subject.txt", context)
        body = render_to_string("pharmacovigilance/email/serious_case_body.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


@shared_task(
    bind=True,
    autoretry_for=(TransientMailError,),
    max_retries=MAX_RETRIES,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def notify_serious_case(self, case_id: int) -> str:
    """Returns "sent", or "already notified" when another run claimed the case first."""
    case = AdverseEvent.objects.select_related("patient", "term", "crpv").filter(pk=case_id).first()
    if case is None:
        logger.warning("serious case %s vanished before its notification", case_id)
        return "missing"
    claimed_at = case_claim_notification(case_id=case_id)
    if claimed_at is None:
        return "already notified"
    try:
        build_message(case).send(fail_silently=False)
    except Exception as exc:
        case_release_notification(case_id=case_id, claimed_at=claimed_at)
        if is_transient(exc):
            logger.warning("notification of case %s failed, will retry: %s", case_id, exc)
            raise TransientMailError(str(exc)) from exc
        raise
    case_record_notification(case_id=case_id)
    return "sent"
