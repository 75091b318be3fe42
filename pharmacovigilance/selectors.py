"""Reads of the pharmacovigilance app, each with its permission built in (see rtuportal.access).

- A prescriber sees the cases of their own patients only: another prescriber's case is a 404.
- Agency staff and admins see every case, unless their AgencyProfile ties them to one CRPV: then
  they see only the cases routed to that centre (other cases are a 404 for them).
"""

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import get_language

from rtuportal.access import ADMIN, AGENCY, PRESCRIBER
from rtuportal.choices import OrganClass

from .models import DOSE_BAND_BOUNDS, AdverseEvent, AgencyProfile, DoseBand, ReactionTerm


def agency_crpv_id(user) -> int | None:
    """The CRPV an agency user is limited to, or None for staff who follow every case."""
    if user.role == ADMIN:
        return None
    return AgencyProfile.objects.filter(user=user).values_list("crpv_id", flat=True).first()


def cases_for_user(user) -> QuerySet[AdverseEvent]:
    if not user.is_authenticated:
        raise PermissionDenied
    cases = AdverseEvent.objects.all()
    if user.role == PRESCRIBER:
        return cases.filter(patient__prescriber=user)
    if user.role in (AGENCY, ADMIN):
        crpv_id = agency_crpv_id(user)
        return cases if crpv_id is None else cases.filter(crpv_id=crpv_id)
    raise PermissionDenied


def get_case_for_user(user, case_id: int) -> AdverseEvent:
    case = (
        cases_for_user(user)
        .select_related("patient", "term", "crpv", "reported_by")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def dose_band_q(band: str) -> Q:
    """Cases whose dose at onset falls in `band` (the bands of models.DOSE_BAND_BOUNDS)."""
    if band == DoseBand.UNKNOWN:
        return Q(dose_at_onset_mg__isnull=True)
    lower = 0
    for code, upper in DOSE_BAND_BOUNDS:
        if code == band:
            q = Q(dose_at_onset_mg__gte=lower)
            return q & Q(dose_at_onset_mg__lte=upper) if upper is not None else q
        lower = (upper or 0) + 1
    raise ValueError(f"unknown dose band {band!r}")


def _dose_band_expression() -> Case:
    whens = [
        When(dose_at_onset_mg__lte=upper, then=Value(str(code)))
        for code, upper in DOSE_BAND_BOUNDS
        if upper is not None
    ]
    return Case(
        When(dose_at_onset_mg__isnull=True, then=Value(str(DoseBand.UNKNOWN))),
        *whens,
        default=Value(str(DoseBand.OVER_180)),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class CaseFilters:
    """The agency list's filters; empty values filter nothing."""

    received_from: date | None = None
    received_to: date | None = None
    serious: bool | None = None
    organ_class: str = ""
    term: str = ""
    causality: str = ""
    region: str = ""
    protocol_version: str = ""
    dose_band: str = ""
    overdue_only: bool = False
    today: date | None = field(default=None, compare=False)


def filter_cases(cases: QuerySet[AdverseEvent], filters: CaseFilters) -> QuerySet[AdverseEvent]:
    if filters.received_from:
        cases = cases.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        cases = cases.filter(received_on__lte=filters.received_to)
    if filters.serious is not None:
        cases = cases.filter(serious=filters.serious)
    if filters.organ_class:
        cases = cases.filter(organ_class=filters.organ_class)
    if filters.term:
        cases = cases.filter(term__code=filters.term)
    if filters.causality:
        cases = cases.filter(causality=filters.causality)
    if filters.region:
        cases = cases.filter(patient__prescriber__prescriber_profile__region=filters.region)
    if filters.protocol_version:
        cases = cases.filter(protocol_version=filters.protocol_version)
    if filters.dose_band:
        cases = cases.filter(dose_band_q(filters.dose_band))
    if filters.overdue_only and filters.today:
        cases = cases.filter(notified_at__isnull=True, due_on__lt=filters.today)
    return cases


def case_list_rows(cases: QuerySet[AdverseEvent]) -> QuerySet[AdverseEvent]:
    """The columns of the list and of the CSV, in one query (no N+1)."""
    return cases.select_related(
        "patient", "term", "crpv", "patient__prescriber__prescriber_profile"
    ).order_by("due_on", "-pk")


def case_counts(cases: QuerySet[AdverseEvent], *, today: date) -> dict[str, int]:
    """Total, serious, overdue and patients, in one aggregate query."""
    return cases.aggregate(
        total=Count("pk"),
        serious=Count("pk", filter=Q(serious=True)),
        overdue=Count("pk", filter=Q(notified_at__isnull=True, due_on__lt=today)),
        patients=Count("patient", distinct=True),
    )


@dataclass
class DoseBandTable:
    bands: list[tuple[str, str]]
    rows: list[dict]  # {"organ_class", "label", "cells": [(cases, patients) per band]}
    totals: list[tuple[int, int]]


def dose_band_table(cases: QuerySet[AdverseEvent]) -> DoseBandTable:
    """Cases and distinct patients per dose band × organ class (two aggregate queries)."""
    banded = cases.order_by().annotate(band=_dose_band_expression())
    cells = {
        (row["band"], row["organ_class"]): (row["cases"], row["patients"])
        for row in banded.values("band", "organ_class").annotate(
            cases=Count("pk"), patients=Count("patient", distinct=True)
        )
    }
    totals_by_band = {
        row["band"]: (row["cases"], row["patients"])
        for row in banded.values("band").annotate(
            cases=Count("pk"), patients=Count("patient", distinct=True)
        )
    }
    bands = [(str(code), str(label)) for code, label in DoseBand.choices]
    rows = []
    for organ_class, label in OrganClass.choices:
        row_cells = [cells.get((code, str(organ_class)), (0, 0)) for code, _label in bands]
        if any(c for c, _p in row_cells):
            rows.append({"organ_class": organ_class, "label": label, "cells": row_cells})
    totals = [totals_by_band.get(code, (0, 0)) for code, _label in bands]
    return DoseBandTable(bands=bands, rows=rows, totals=totals)


def search_terms(query: str) -> list[ReactionTerm]:
    """Active terms whose label (either language) or code contains `query`, current language
    first; the catch-all "other" always comes last so the reporter can fall back on it."""
    terms = ReactionTerm.objects.filter(active=True)
    query = query.strip()
    if query:
        terms = terms.filter(
            Q(label_fr__icontains=query)
            | Q(label_en__icontains=query)
            | Q(code__icontains=query)
            | Q(code=ReactionTerm.OTHER)
        )
    language_field = "label_en" if (get_language() or "fr").startswith("en") else "label_fr"
    # The curated vocabulary is a few dozen rows: sorting in Python keeps the accents right.
    return sorted(terms, key=lambda t: (t.is_other, getattr(t, language_field).casefold()))
