"""manage.py refresh_summaries: recompute every patient's report summary from the clinical data.

The services and the bulk loaders keep the summaries as they write; this is for a database
migrated from before they existed, or restored from a dump of the clinical tables alone. Until
it has run, the report computes the patients without a summary from the clinical tables (the
same figures, more slowly).
"""

import time

from django.core.management.base import BaseCommand

from reports.models import PatientFindings, PatientSummary
from reports.summaries import summaries_refresh


class Command(BaseCommand):
    help = "Recompute every patient's report summary (PatientSummary, PatientFindings)."

    def handle(self, *args, **options):
        started = time.monotonic()
        summaries_refresh()
        self.stdout.write(
            f"{PatientSummary.objects.count()} patient summaries, "
            f"{PatientFindings.objects.count()} findings rows "
            f"in {time.monotonic() - started:.1f} s"
        )
