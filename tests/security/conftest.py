"""A small world for the security tests: alice owns a patient with a visit, a serious adverse
event and a stop-able treatment; bob is the other prescriber; agency staff requested a report."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import logged_in

ROLES = ("anonymous", "alice", "bob", "agency", "admin")


@dataclass
class World:
    alice: Any
    bob: Any
    agency: Any
    admin: Any
    pending: Any
    patient: Any  # alice's
    visit: Any
    case: Any  # an adverse event of alice's patient
    report: Any  # a cohort report, or None before the reports app lands


def _adverse_event(patient, by):
    try:
        from pharmacovigilance.models import ReactionTerm
        from pharmacovigilance.services import adverse_event_report
    except ImportError:  # the app is being built
        return None
    term = ReactionTerm.objects.filter(code="somnolence").first()
    if term is None:
        return None
    return adverse_event_report(
        patient=patient,
        reported_by=by,
        onset_date=patient.inclusion_date,
        term=term,
        serious=True,
        seriousness_criteria=["hospitalisation"],
        outcome="recovering",
        causality="possible",
        action_taken="dose_reduced",
        description="Somnolence au volant",
    )


def _report(agency):
    """A report built by the real code path (statistics, then the PDF)."""
    try:
        from reports.services import report_request
        from reports.tasks import build
    except ImportError:  # the app is being built
        return None
    report = report_request(requested_by=agency, date_from=None, date_to=None)
    build(report.pk)
    report.refresh_from_db()
    return report


@pytest.fixture
def world(alice, bob, agency, admin_user, pending) -> World:
    from tests.factories import PatientFactory, VisitFactory

    patient = PatientFactory(prescriber=alice, inclusion_date=date(2024, 3, 4))
    visit = VisitFactory(patient=patient, protocol_version="2021")
    return World(
        alice=alice,
        bob=bob,
        agency=agency,
        admin=admin_user,
        pending=pending,
        patient=patient,
        visit=visit,
        case=_adverse_event(patient, alice),
        report=_report(agency),
    )


@pytest.fixture
def clients(world) -> dict[str, Client]:
    return {
        "anonymous": Client(),
        "alice": logged_in(world.alice),
        "bob": logged_in(world.bob),
        "agency": logged_in(world.agency),
        "admin": logged_in(world.admin),
    }


def all_routes() -> list[str]:
    """Every route of the portal, as the resolver spells it ("patients/<str:code>/")."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return sorted(set(walk(get_resolver().url_patterns)))
