"""Send Celery tasks through a transactional outbox (see OutboxMessage)."""

import logging

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args: int | str) -> OutboxMessage:
    """Record the task with the current transaction and send it once the transaction commits."""
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args))
    transaction.on_commit(lambda: send(message.pk))
    return message


def send(message_id: int) -> bool:
    """Publish one outbox message; on a broker error leave it for the sweep. True when sent."""
    message = OutboxMessage.objects.filter(pk=message_id, sent_at=None).first()
    if message is None:
        return False
    try:
        current_app.tasks[message.task_name].apply_async(args=message.args)
    except Exception as exc:  # noqa: BLE001 - any broker failure: retry from the sweep
        logger.warning("outbox message %s not sent: %s", message_id, exc)
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=F("attempts") + 1, last_error=str(exc)[:2000]
        )
        return False
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return True


def sweep(older_than_seconds: int = 30, limit: int = 500) -> int:
    """Send the messages left unsent (the broker was down); returns how many went out."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(
        OutboxMessage.objects.filter(sent_at=None, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if send(pk))
