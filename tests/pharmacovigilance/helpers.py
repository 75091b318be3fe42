"""Helpers of the pharmacovigilance tests (fixtures are in conftest.py)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from pharmacovigilance import services
from pharmacovigilance.models import ReactionTerm

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2014, 6, 2)


def frozen(day: date = TODAY, hour: int = 10):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=PARIS), tick=False
    )


def term(code: str) -> ReactionTerm:
    return ReactionTerm.objects.get(code=code)


def make_case(patient, *, today: date = TODAY, **overrides):
    """A case through the service (as the form would), non-serious somnolence by default."""
    values = {
        "patient": patient,
        "reported_by": patient.prescriber,
        "onset_date": date(2014, 5, 10),
        "term": term("somnolence"),
        "serious": False,
        "seriousness_criteria": [],
        "outcome": "recovered",
        "causality": "possible",
        "action_taken": "dose_reduced",
        "today": today,
    }
    values.update(overrides)
    return services.adverse_event_report(**values)


def report_data(**overrides) -> dict:
    """A valid POST of the report form (non-serious somnolence on 10 May 2014)."""
    data = {
        "onset_date": "2014-05-10",
        "term": "somnolence",
        "reporter_term": "",
        "organ_class": "",
        "description": "Somnolent after the evening intake.",
        "serious": "no",
        "outcome": "recovered",
        "causality": "possible",
        "action_taken": "dose_reduced",
        "dechallenge": "positive",
        "rechallenge": "unknown",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
