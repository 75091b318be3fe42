from celery import shared_task

from . import outbox


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task(soft_time_limit=10, time_limit=20)
def ping(value: int) -> int:
    """Round trip used by the health and integration tests to prove a worker answers."""
    return value + 1
