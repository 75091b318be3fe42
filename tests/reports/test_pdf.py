"""The PDF: produced, text extractable, the period and the headline figures in it."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from reports.charts import Series, bar_chart
from reports.pdf import render_pdf
from reports.statistics import cohort_summary
from tests.reports.cohort import build

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_french_pdf_has_period_figures_and_page_numbers(db):
    build()
    summary = cohort_summary(date(2014, 1, 1), date(2014, 12, 31))
    pages, text = _text(render_pdf(summary, language="fr"))
    assert pages >= 4
    assert "1 janvier 2014" in text and "31 décembre 2014" in text
    assert "75,0 %" in text  # men
    assert "47,0" in text  # mean age
    assert "-40,0" in text  # change in consumption, initiation
    assert "66,7 %" in text  # at least one adverse event
    assert f"Page 1 / {pages}" in text
    assert "Published in 2015" not in text and "Publié en 2015" not in text  # not whole cohort


def test_english_pdf_for_the_whole_cohort_shows_the_published_figures(db):
    build()
    pages, text = _text(render_pdf(cohort_summary(), language="en"))
    assert "Whole RTU" in text
    assert "Published in 2015" in text
    assert "5,928" in text  # the published number of patients, English grouping
    assert "Method and definitions" in text


def test_chart_escapes_labels_and_draws_negative_bars():
    svg = bar_chart(["<b>x</b>", "y"], [Series("s", [-10.0, 5.0])], title="T & t")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "T &amp; t" in svg
    assert "-10,0" in svg and "5,0" in svg
