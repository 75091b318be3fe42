"""Celery app for the worker-crash test: the portal's app, with knobs read from the environment.

- FAULT_VISIBILITY_TIMEOUT: seconds before Redis hands an unacknowledged task to another worker
  (production: one hour; the test cannot wait that long).
- FAULT_STALE_AFTER: seconds after which a "running" report is considered abandoned
  (production: the hard time limit plus a minute).
- FAULT_SLOW_PDF: seconds this worker sleeps before rendering the PDF, so the test can kill it
  while the report is running.
"""

import os
import time
from datetime import timedelta

from celery.signals import worker_init

from rtuportal.celery import app

app.conf.broker_transport_options = {
    "visibility_timeout": int(os.environ.get("FAULT_VISIBILITY_TIMEOUT", "3600"))
}


@worker_init.connect
def _configure(**_kwargs) -> None:
    import reports.tasks

    if os.environ.get("FAULT_STALE_AFTER"):
        reports.tasks.STALE_AFTER = timedelta(seconds=int(os.environ["FAULT_STALE_AFTER"]))
    delay = float(os.environ.get("FAULT_SLOW_PDF", "0"))
    if delay:
        render = reports.tasks.render_pdf

        def slow_render(*args, **kwargs):
            time.sleep(delay)
            return render(*args, **kwargs)

        reports.tasks.render_pdf = slow_render


__all__ = ["app"]
