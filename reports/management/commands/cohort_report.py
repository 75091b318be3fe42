"""manage.py cohort_report [--from D] [--to D] [--json PATH] [--pdf PATH]: the task's code path."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reports import tasks
from reports.models import CohortReport
from reports.services import ReportError, report_request


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Build a cohort report without a worker (same code as the Celery task)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=_date)
        parser.add_argument("--to", dest="date_to", type=_date)
        parser.add_argument("--json", dest="json_path")
        parser.add_argument("--pdf", dest="pdf_path")
        parser.add_argument("--language", default="fr", choices=["fr", "en"])

    def handle(self, *args, date_from, date_to, json_path, pdf_path, language, **options):
        try:
            # The row is built here; the outbox message (sent on commit) finds it claimed.
            with transaction.atomic():
                report = report_request(
                    requested_by=None, date_from=date_from, date_to=date_to, language=language
                )
        except ReportError as exc:
            raise CommandError(str(exc)) from exc
        tasks.build(report.pk, worker="cohort_report")
        report = CohortReport.objects.get(pk=report.pk)
        if report.status != CohortReport.Status.DONE:
            raise CommandError(f"Report #{report.pk} failed: {report.error}")
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(report.summary, out, indent=2, ensure_ascii=False)
        if pdf_path:
            with open(pdf_path, "wb") as out:
                out.write(bytes(report.pdf))
        s = report.summary
        self.stdout.write(
            f"Report #{report.pk}: {s['patients']} patients, {s['followed_up']} followed up; "
            f"statistics {report.statistics_seconds:.2f} s, PDF {report.pdf_seconds:.2f} s."
        )
