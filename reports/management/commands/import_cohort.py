"""manage.py import_cohort FILE.jsonl: all-or-nothing import of a legacy export."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from reports.importer import ImportFailed, import_cohort


class Command(BaseCommand):
    help = (
        "Import a legacy cohort export (JSON Lines, one patient per line, docs/import-format.md)."
        " Validates the whole file first; on any error nothing is written, every bad line is "
        "listed with its number and reason, and the exit code is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        started = time.monotonic()
        try:
            with open(path, encoding="utf-8") as lines:
                counts = import_cohort(lines)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except ImportFailed as failed:
            for number, reason in failed.errors:
                self.stderr.write(f"line {number}: {reason}")
            raise CommandError(
                f"{len(failed.errors)} bad line(s): nothing imported.", returncode=1
            ) from None
        except IntegrityError as exc:
            # A reference lost under the import (e.g. a prescriber's account deleted meanwhile).
            raise CommandError(f"The database refused the import; nothing imported: {exc}") from exc
        seconds = time.monotonic() - started
        rate = counts["patients"] / seconds if seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                "Imported {patients} patients, {visits} visits, {steps} dose steps, {stops} stops, "
                "{adverse_events} adverse events; {prescribers_created} prescribers created".format(
                    **counts
                )
                + f" in {seconds:.1f} s ({rate:.0f} patients/s)."
            )
        )
