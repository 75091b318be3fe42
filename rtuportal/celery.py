"""Celery application: broker and results on Redis when REDIS_URL is set, in-process otherwise."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rtuportal.settings")

app = Celery("rtuportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "monthly-cohort-report": {
        "task": "reports.tasks.build_previous_month_report",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
    },
    "requeue-stale-reports": {
        "task": "reports.tasks.requeue_stale_reports",
        "schedule": 300.0,
    },
    "refresh-stale-summaries": {
        "task": "reports.tasks.refresh_stale_summaries",
        "schedule": 60.0,
    },
    "refresh-missing-summaries": {
        "task": "reports.tasks.refresh_missing_summaries",
        "schedule": 300.0,
    },
    "sweep-outbox": {
        "task": "rtuportal.tasks.sweep_outbox",
        "schedule": 60.0,
    },
}
