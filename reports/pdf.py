"""The cohort report as a PDF: a Django template rendered by WeasyPrint, charts as inline SVG."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import presentation


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def report_context(summary: dict[str, Any], *, generated_at: datetime) -> dict[str, Any]:
    """Everything the report templates show (call inside the report's language)."""
    rows = presentation.summary_rows(summary)
    return {
        "summary": summary,
        "whole_cohort": presentation.is_whole_cohort(summary),
        "sections": presentation.sections(rows),
        "charts": presentation.charts(summary),
        "findings": presentation.findings_table(summary),
        "generated_at": timezone.localtime(generated_at),
        "patients_display": presentation.number(summary["patients"], 0),
        "period_from": _day(summary["period"]["from"]),
        "period_to": _day(summary["period"]["to"]),
    }


def render_html(summary: dict[str, Any], *, language: str, generated_at: datetime) -> str:
    with translation.override(language):
        context = report_context(summary, generated_at=generated_at)
        context["language"] = language
        return render_to_string("reports/pdf.html", context)


def render_pdf(
    summary: dict[str, Any], *, language: str = "fr", generated_at: datetime | None = None
) -> bytes:
    """The PDF bytes of a summary, in French unless `language` says otherwise."""
    from weasyprint import HTML  # heavy import: only in the worker that renders

    html = render_html(summary, language=language, generated_at=generated_at or timezone.now())
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
