"""The cohort summary of a period, in the layout of the agency's 2015 interim summary.

Everything is computed by SQL aggregate queries, a number fixed by the span of the cohort's
patient ids (six up to SLICE_IDS ids): one over a row of facts per patient (last follow-up
visit, stop, adverse events, highest dose), one for the prescribers, two for adverse events by
organ class and by term, one for adverse events by dose band, and one for the protocol findings
per version. The two per-patient ones run once per slice of SLICE_IDS patient ids (cheaper in
all, and no statement of over a second), and their counts and sums are added up here. A patient's
facts and findings come from their report summary (reports.models.PatientSummary,
PatientFindings, kept at write time by reports.summaries) when it answers for the period, and
from facts_sql() / findings_sql() over the clinical tables otherwise; the summaries are written
by the same two functions. The definitions are in docs/report-definitions.md and in the PDF's
method section.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions import rules
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from rtuportal.choices import POSSIBLY_RELATED, OrganClass, Specialty

GROUPS = ("initiation", "pretreated")
SPECIALTIES = tuple(s.value for s in Specialty)

# Daily-dose bands (mg/day) cut at the protocol thresholds: 80 (2017 maximum), 120 (second
# opinion), 180 (collegial opinion), 300 (absolute maximum).
DOSE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("5-30", 1, 30),
    ("35-80", 31, 80),
    ("85-115", 81, 115),
    ("120-180", 116, 180),
    ("185-300", 181, 300),
    (">300", 301, None),
)
DOSE_THRESHOLDS_MG = (80, 120, 180, 300)

# Finding codes the SQL pass counts (all of prescriptions.rules.FINDING_CODES).
FINDING_CODES = rules.FINDING_CODES
BLOCKING_CODES = tuple(c for c, s in rules.FINDING_SEVERITY.items() if s == "block")

# Pinned by tests/reports/test_statistics.py: for a cohort whose patient ids span fewer than
# SLICE_IDS; queries 1 and 6 run once more for each further slice.
QUERY_COUNT = 6


def pct(part: int | None, whole: int | None) -> float | None:
    """A percentage rounded to one decimal; None when there is no denominator."""
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def cohort(date_from: date | None, date_to: date | None) -> QuerySet[Patient]:
    """The patients included between the two dates (inclusive; None = unbounded)."""
    qs = Patient.objects.all()
    if date_from is not None:
        qs = qs.filter(inclusion_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(inclusion_date__lte=date_to)
    return qs


def _upto(field: str, date_to: date | None) -> dict[str, date]:
    return {} if date_to is None else {f"{field}__lte": date_to}


def _fence() -> str:
    """An optimisation fence for a subquery: kept as one level, each column computed once."""
    return "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"


# The two per-patient passes (queries 1 and 6) run over slices of this many patient ids, one
# statement each: see cohort_summary.
SLICE_IDS = 20_000

IdSlice = tuple[int, int] | None  # patient ids lo <= id < hi; None: every id


def _cohort_where(
    date_from: date | None, date_to: date | None, ids: IdSlice = None
) -> tuple[str, list[Any]]:
    where, params = ["1 = 1"], []
    if ids is not None:
        where.append("p.id >= %s AND p.id < %s")
        params.extend(ids)
    if date_from is not None:
        where.append("p.inclusion_date >= %s")
        params.append(date_from)
    if date_to is not None:
        where.append("p.inclusion_date <= %s")
        params.append(date_to)
    return " AND ".join(where), params


# The last follow-up visit's values travel out of the per-patient probe as one integer,
# alcohol * 1000 + craving * 10 + abstinent, instead of its id joined back to the visits (a hash
# of every visit: 2.6 s of 8 on 3 million visits). Lossless: the visit's CHECK constraints hold
# alcohol to 0-1000 g/day and craving to 0-10, and abstinent is 0 or 1.
_PACK_ALCOHOL = 1000
_PACK_CRAVING = 10

# Columns of reports.models.PatientSummary, in the order facts_sql() selects them.
FACT_COLUMNS = (
    "last_follow_up",
    "stopped",
    "ae_any",
    "ae_related",
    "ae_serious",
    "ae_serious_related",
    "highest_dose_mg",
)


def _tables() -> dict[str, str]:
    from reports.models import PatientFindings, PatientSummary

    return {
        "patient": Patient._meta.db_table,
        "visit": Visit._meta.db_table,
        "stop": StopOfTreatment._meta.db_table,
        "event": AdverseEvent._meta.db_table,
        "step": DoseStep._meta.db_table,
        "summary": PatientSummary._meta.db_table,
        "findings": PatientFindings._meta.db_table,
    }


def _true() -> str:
    return "TRUE" if connection.vendor == "postgresql" else "1"


def facts_sql(
    where: str, where_params: list[Any], date_to: date | None, *, until: bool = False
) -> tuple[str, list[Any]]:
    """Per-patient facts (FACT_COLUMNS, after patient_id) of the patients `p` matching `where`,
    counting only what is dated on or before date_to; with `until`, also `facts_until`, the date
    of the patient's latest fact (what PatientSummary stores).

    The values of the last follow-up visit come from one correlated probe of the
    (patient, visit_date) index that returns them packed into one integer (_PACK_ALCOHOL); stops,
    adverse events and the highest dose come from per-patient GROUP BYs restricted to the same
    patients and joined on patient_id.
    """
    t = _tables()
    upto = (lambda column: f" AND {column} <= %s") if date_to is not None else (lambda c: "")
    upto_params = [date_to] if date_to is not None else []
    related = ", ".join(f"'{c}'" for c in POSSIBLY_RELATED)
    true = _true()
    last_visit_date, last_dates = "", ("", "", "")
    facts_until = ""
    if until:
        # Identifiers only: the end date, if any, is a parameter.
        visit_dates = f"FROM {t['visit']} v WHERE v.patient_id = p.id{upto('v.visit_date')}"
        last_visit_date = f", (SELECT MAX(v.visit_date) {visit_dates}) AS last_visit_date"
        last_dates = (
            ", MAX(s.stop_date) AS last_date",
            ", MAX(e.onset_date) AS last_date",
            ", MAX(d.start_date) AS last_date",
        )
        dates = "c.last_visit_date, st.last_date, ae.last_date, hd.last_date"
        if connection.vendor == "postgresql":
            facts_until = f", GREATEST({dates}) AS facts_until"
        else:  # SQLite's MAX() of several values is NULL when one is: ISO dates sort as text
            coalesced = ", ".join(f"COALESCE({d}, '')" for d in dates.split(", "))
            facts_until = f", NULLIF(MAX({coalesced}), '') AS facts_until"
    # PostgreSQL would otherwise inline the subquery and run the last-visit probe once per use
    # instead of once per patient.
    fence = _fence()
    # Only identifiers and literals written in this module; every value is a parameter.
    sql = f"""
        SELECT c.id AS patient_id, c.last_follow_up,
               CASE WHEN st.patient_id IS NULL THEN 0 ELSE 1 END AS stopped,
               CASE WHEN ae.patient_id IS NULL THEN 0 ELSE 1 END AS ae_any,
               COALESCE(ae.related, 0) AS ae_related,
               COALESCE(ae.serious, 0) AS ae_serious,
               COALESCE(ae.serious_related, 0) AS ae_serious_related,
               hd.highest AS highest_dose_mg{facts_until}
        FROM (
            SELECT p.id,
                   (SELECT v.alcohol_g_per_day * {_PACK_ALCOHOL} + v.craving * {_PACK_CRAVING}
                           + CAST(v.abstinent AS INTEGER)
                    FROM {t["visit"]} v
                    WHERE v.patient_id = p.id AND v.visit_date > p.inclusion_date
                          {upto("v.visit_date")}
                    ORDER BY v.visit_date DESC, v.id DESC LIMIT 1) AS last_follow_up
                   {last_visit_date}
            FROM {t["patient"]} p WHERE {where}
            {fence}
        ) c
        LEFT JOIN (
            SELECT s.patient_id{last_dates[0]}
            FROM {t["stop"]} s JOIN {t["patient"]} p ON p.id = s.patient_id
            WHERE {where}{upto("s.stop_date")} GROUP BY s.patient_id
        ) st ON st.patient_id = c.id
        LEFT JOIN (
            SELECT e.patient_id,
                   MAX(CASE WHEN e.causality IN ({related}) THEN 1 ELSE 0 END) AS related,
                   MAX(CASE WHEN e.serious = {true} THEN 1 ELSE 0 END) AS serious,
                   MAX(CASE WHEN e.serious = {true} AND e.causality IN ({related})
                            THEN 1 ELSE 0 END) AS serious_related{last_dates[1]}
            FROM {t["event"]} e JOIN {t["patient"]} p ON p.id = e.patient_id
            WHERE {where}{upto("e.onset_date")} GROUP BY e.patient_id
        ) ae ON ae.patient_id = c.id
        LEFT JOIN (
            SELECT d.patient_id, MAX(d.daily_dose_mg) AS highest{last_dates[2]}
            FROM {t["step"]} d JOIN {t["patient"]} p ON p.id = d.patient_id
            WHERE {where}{upto("d.start_date")} GROUP BY d.patient_id
        ) hd ON hd.patient_id = c.id
    """  # noqa: S608
    params = upto_params + (upto_params if until else []) + where_params
    params += (where_params + upto_params) * 3
    return sql, params


def _answered(date_to: date | None) -> tuple[str, list[Any]]:
    """The condition on a PatientSummary `ps` that it answers for a period ending on date_to
    (a stale row, whose patient changed since it was computed, answers for none)."""
    fresh = "ps.stale = FALSE" if connection.vendor == "postgresql" else "ps.stale = 0"
    if date_to is None:
        return fresh, []
    return f"{fresh} AND (ps.facts_until IS NULL OR ps.facts_until <= %s)", [date_to]


def _live_where(
    date_from: date | None, date_to: date | None, ids: IdSlice = None
) -> tuple[str, list[Any]]:
    """The cohort's patients whose summary row is missing or does not answer for date_to."""
    cohort_sql, cohort_params = _cohort_where(date_from, date_to, ids)
    answered, answered_params = _answered(date_to)
    # The slice's range on the summaries too (implied by the join): PostgreSQL then reads that
    # range of them instead of hashing all of them for every slice.
    in_slice, slice_params = _in_slice("ps.patient_id", ids)
    summary = _tables()["summary"]
    sql = (
        f"{cohort_sql} AND NOT EXISTS (SELECT 1 FROM {summary} ps "  # noqa: S608
        f"WHERE ps.patient_id = p.id AND {in_slice} AND {answered})"
    )
    return sql, cohort_params + slice_params + answered_params


def _in_slice(column: str, ids: IdSlice) -> tuple[str, list[Any]]:
    if ids is None:
        return "1 = 1", []
    return f"{column} >= %s AND {column} < %s", list(ids)


def _live_in(ids: IdSlice) -> tuple[str, list[Any]]:
    """The `where` of facts_sql() and findings_sql() for the live patients of a slice (the
    range again, so that the plan joins that range of each table, not all of it)."""
    in_slice, params = _in_slice("p.id", ids)
    return f"{LIVE_WHERE} AND {in_slice}", params


# The patients computed from the clinical tables, as the `where` of facts_sql() and
# findings_sql(): the set is computed once, in the `live` common table expression.
LIVE_WHERE = "p.id IN (SELECT id FROM live)"


def _live_cte(
    date_from: date | None, date_to: date | None, ids: IdSlice = None
) -> tuple[str, list[Any]]:
    """`live`: the ids of the cohort's patients whose summary row is missing, stale, or does not
    answer for date_to, computed once per query. Used directly as the `where` of facts_sql()
    (four times) and findings_sql() (twice), the anti-join with the summaries ran once per use:
    six scans of both 300,000-row tables for one report."""
    where, params = _live_where(date_from, date_to, ids)
    t = _tables()
    return (
        f"live AS MATERIALIZED (SELECT p.id FROM {t['patient']} p WHERE {where})",  # noqa: S608
        params,
    )


def _patient_row(
    date_from: date | None, date_to: date | None, ids: IdSlice = None
) -> dict[str, Any]:
    """Query 1: every per-patient figure in one aggregate over the cohort (or the slice of it
    whose ids are in `ids`): counts and sums only, so that slices add up (the means are
    computed from a sum and a count by _patient_figures).

    Each patient's facts come from their PatientSummary row when it answers for the period
    (it holds every fact up to date_to and nothing after), from facts_sql() over the clinical
    tables otherwise; the outer SELECT is conditional sums, portable to SQLite.
    """
    t = _tables()
    cohort_sql, cohort_params = _cohort_where(date_from, date_to, ids)
    answered, answered_params = _answered(date_to)
    live_cte, live_cte_params = _live_cte(date_from, date_to, ids)
    live_sql, live_params = facts_sql(*_live_in(ids), date_to)
    live_slice, live_slice_params = _in_slice("p.id", ids)
    # The range on the summaries too: PostgreSQL then reads that range, not all of them.
    stored_slice, stored_slice_params = _in_slice("ps.patient_id", ids)
    true = _true()

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    followed = "c.last_follow_up IS NOT NULL"
    last_alcohol = f"(c.last_follow_up / {_PACK_ALCOHOL})"
    last_craving = f"((c.last_follow_up / {_PACK_CRAVING}) %% {_PACK_ALCOHOL // _PACK_CRAVING})"
    last_abstinent = f"(c.last_follow_up %% {_PACK_CRAVING})"
    columns: dict[str, str] = {
        "patients": "COUNT(*)",
        "men": count("c.sex = 'M'"),
        "age_sum": "SUM(c.age)",
        "age_count": "COUNT(c.age)",
        "initiation": count("c.treatment_status = 'initiation'"),
        "initiation_reduction": count(
            "c.treatment_status = 'initiation' AND c.indication = 'reduction'"
        ),
        "followed": count(followed),
        "stopped": count(f"{followed} AND c.stopped = 1"),
        "ae_any": count(f"{followed} AND c.ae_any = 1"),
        "ae_related": count(f"{followed} AND c.ae_related = 1"),
        "ae_serious": count(f"{followed} AND c.ae_serious = 1"),
        "ae_serious_related": count(f"{followed} AND c.ae_serious_related = 1"),
        "with_steps": count("c.highest_dose_mg IS NOT NULL"),
    }
    for group in GROUPS:
        in_group = f"{followed} AND c.treatment_status = '{group}'"
        columns[f"{group}_followed"] = count(in_group)
        change = f"CASE WHEN {in_group} THEN {last_alcohol} - c.alcohol_g_per_day END"
        columns[f"{group}_change_sum"] = f"SUM({change})"
        columns[f"{group}_change_count"] = f"COUNT({change})"
        columns[f"{group}_abstinent_inclusion"] = count(f"{in_group} AND c.abstinent = {true}")
        columns[f"{group}_abstinent_last"] = count(f"{in_group} AND {last_abstinent} = 1")
        columns[f"{group}_craving_improved"] = count(f"{in_group} AND {last_craving} < c.craving")
    for label, low, high in DOSE_BANDS:
        band = f"c.highest_dose_mg >= {int(low)}"
        if high is not None:
            band += f" AND c.highest_dose_mg <= {int(high)}"
        columns[f"band_{label}"] = count(band)
    select = ", ".join(f"{expression} AS c{i}" for i, expression in enumerate(columns.values()))
    if connection.vendor == "postgresql":
        age = "CAST(EXTRACT(YEAR FROM p.inclusion_date) AS INTEGER) - p.birth_year"
    else:
        age = "CAST(strftime('%%Y', p.inclusion_date) AS INTEGER) - p.birth_year"
    patient_columns = (
        f"p.sex, p.treatment_status, p.indication, p.abstinent, p.craving, "
        f"p.alcohol_g_per_day, {age} AS age"
    )
    stored = ", ".join(f"ps.{c}" for c in FACT_COLUMNS)
    live = ", ".join(f"f.{c}" for c in FACT_COLUMNS)
    # Only identifiers and literals written in this module; every value is a parameter.
    sql = f"""
        WITH {live_cte}
        SELECT {select}
        FROM (
            SELECT {patient_columns}, {stored}
            FROM {t["patient"]} p JOIN {t["summary"]} ps ON ps.patient_id = p.id
            WHERE {cohort_sql} AND {stored_slice} AND {answered}
            UNION ALL
            SELECT {patient_columns}, {live}
            FROM ({live_sql}) f JOIN {t["patient"]} p ON p.id = f.patient_id
            WHERE {live_slice}
        ) c
    """  # noqa: S608
    params = (
        live_cte_params
        + cohort_params
        + stored_slice_params
        + answered_params
        + live_params
        + live_slice_params
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchone()
    return {name: int(value or 0) for name, value in zip(columns, values, strict=True)}


def _mean(total: int, count: int) -> float | None:
    return total / count if count else None  # int / int: the correctly rounded float


def _patient_figures(row: dict[str, int]) -> dict[str, Any]:
    """Query 1's sums (of every slice) with the means computed."""
    figures: dict[str, Any] = dict(row)
    figures["mean_age"] = _mean(row["age_sum"], row["age_count"])
    for group in GROUPS:
        figures[f"{group}_change"] = _mean(row[f"{group}_change_sum"], row[f"{group}_change_count"])
    return figures


def _prescriber_row(date_from: date | None, date_to: date | None) -> dict[str, Any]:
    """Query 2: distinct prescribers of the cohort, overall and by specialty; and the range of
    its patient ids.

    The patients are grouped by prescriber first (a few hundred rows), then joined to the
    profiles: one pass over the cohort instead of one sort of it per distinct count."""
    from accounts.models import PrescriberProfile

    patient = _tables()["patient"]
    profile = PrescriberProfile._meta.db_table
    cohort_sql, cohort_params = _cohort_where(date_from, date_to)
    # Specialty values are this module's constants (the Specialty choices), not input.
    by_specialty = ", ".join(
        f"SUM(CASE WHEN pp.specialty = '{specialty}' THEN 1 ELSE 0 END)"
        for specialty in SPECIALTIES
    )
    sql = f"""
        SELECT COUNT(d.prescriber_id), {by_specialty}, MIN(d.first_id), MAX(d.last_id)
        FROM (
            SELECT p.prescriber_id, MIN(p.id) AS first_id, MAX(p.id) AS last_id
            FROM {patient} p WHERE {cohort_sql} GROUP BY p.prescriber_id
        ) d LEFT JOIN {profile} pp ON pp.user_id = d.prescriber_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, cohort_params)
        values = cursor.fetchone()
    *counts, first_id, last_id = values
    names = ["prescribers", *SPECIALTIES]
    row: dict[str, Any] = {n: int(v or 0) for n, v in zip(names, counts, strict=True)}
    row["first_id"], row["last_id"] = first_id, last_id
    return row


def _followed_events(date_from: date | None, date_to: date | None) -> QuerySet[AdverseEvent]:
    """Adverse events (dated up to date_to) of followed-up patients of the cohort."""
    follow_ups = Visit.objects.filter(
        patient=OuterRef("patient_id"),
        visit_date__gt=OuterRef("patient__inclusion_date"),
        **_upto("visit_date", date_to),
    )
    return AdverseEvent.objects.filter(
        patient__in=cohort(date_from, date_to), **_upto("onset_date", date_to)
    ).filter(Exists(follow_ups))


def findings_sql(
    where: str, where_params: list[Any], date_to: date | None
) -> tuple[str, list[Any]]:
    """Common table expressions ending in `per_version`: one row per patient `p` matching
    `where` and protocol version ('' before the RTU) with their steps dated on or before date_to,
    that version's protocol findings counted over them (the columns of PatientFindings).

    Each step is judged as prescriptions.rules judges it: against the version in force on its
    own date, the step before it (LAG over the patient's steps; for the first step of an
    already-treated patient, the dose taken before inclusion), and the opinions recorded on the
    patient's visits up to that date. Thresholds come from rules.PROTOCOLS, not from this file.

    """
    t = _tables()
    step, patient, visit = t["step"], t["patient"], t["visit"]
    step_upto, visit_upto = "", ""
    if date_to is not None:
        step_upto = " AND s.start_date <= %s"
        visit_upto = " AND v.visit_date <= %s"

    if connection.vendor == "postgresql":
        days = "(start_date - prev_on)"
        year = "CAST(EXTRACT(YEAR FROM s.start_date) AS INTEGER)"
        true = "TRUE"
    else:
        days = "CAST(julianday(start_date) - julianday(prev_on) AS INTEGER)"
        year = "CAST(strftime('%%Y', s.start_date) AS INTEGER)"
        true = "1"

    big = 10**9  # "no such threshold"
    protocols = rules.PROTOCOLS

    def version_of(column: str) -> str:
        """The version in force on the date in `column` ('' before the first one).

        The dates are ISO literals from rules.PROTOCOLS (compared as dates by PostgreSQL, as
        ISO text by SQLite, which stores dates that way)."""
        whens = " ".join(
            f"WHEN {column} >= '{p.in_force_from.isoformat()}' THEN '{p.version}'"
            for p in reversed(protocols)
        )
        return f"CASE {whens} ELSE '' END"

    def by_version(attribute: str) -> str:
        """A CASE picking the version's threshold (literal integers from the rules' data)."""
        parts = []
        for p in protocols:
            value = getattr(p, attribute)
            if value is None:
                value = big
            elif isinstance(value, bool):
                value = int(value)
            parts.append(f"WHEN '{p.version}' THEN {int(value)}")
        return f"CASE o.version {' '.join(parts)} ELSE {big} END"

    thresholds = {
        "t_max": "max_daily_dose_mg",
        "t_taper_above_max": "taper_above_max_allowed",
        "t_second": "second_opinion_from_mg",
        "t_collegial": "collegial_opinion_above_mg",
        "t_collegial_65": "collegial_opinion_from_mg_if_over_65",
        "t_multi": "multidisciplinary_care_above_mg",
        "t_first": "highest_first_dose_mg",
        "t_up": "largest_increase_mg",
        "t_up_days": "fewest_days_between_increases",
        "t_down": "largest_decrease_mg",
        "t_down_days": "fewest_days_between_decreases",
    }
    threshold_columns = ", ".join(f"{by_version(a)} AS {c}" for c, a in thresholds.items())

    older = rules.OLDER_PATIENT_AGE_ABOVE
    conditions = {
        "BEFORE_PROTOCOL": "version = ''",
        "INVALID_DOSE": "valid = 0",
        "MAX_DOSE_EXCEEDED": (
            "checked = 1 AND dose > t_max AND NOT (t_taper_above_max = 1 AND prev IS NOT NULL "
            "AND prev > t_max AND dose < prev)"
        ),
        "SECOND_OPINION_REQUIRED": (
            "checked = 1 AND dose >= t_second "
            "AND NOT (second_since IS NOT NULL AND second_since <= start_date)"
        ),
        "COLLEGIAL_OPINION_REQUIRED": (
            "checked = 1 AND NOT (collegial_since IS NOT NULL AND collegial_since <= start_date) "
            f"AND (dose > t_collegial OR (age > {older} AND dose >= t_collegial_65))"
        ),
        "MULTIDISCIPLINARY_CARE_REQUIRED": (
            "checked = 1 AND dose > t_multi "
            "AND NOT (multi_since IS NOT NULL AND multi_since <= start_date)"
        ),
        "STARTING_DOSE_TOO_HIGH": "checked = 1 AND prev IS NULL AND dose > t_first",
        "STEP_TOO_LARGE": "checked = 1 AND prev IS NOT NULL AND dose - prev > t_up",
        "STEP_TOO_SOON": (
            f"checked = 1 AND prev IS NOT NULL AND dose > prev AND prev_on IS NOT NULL "
            f"AND {days} < t_up_days"
        ),
        "TAPER_TOO_FAST": (
            f"checked = 1 AND prev IS NOT NULL AND dose < prev AND (prev - dose > t_down "
            f"OR (prev_on IS NOT NULL AND {days} < t_down_days))"
        ),
    }
    assert set(conditions) == set(FINDING_CODES)
    flags = ",\n                   ".join(
        f"CASE WHEN {conditions[c]} THEN 1 ELSE 0 END AS f_{c.lower()}" for c in FINDING_CODES
    )
    blocking = " + ".join(f"f_{c.lower()}" for c in BLOCKING_CODES) or "0"
    sums = ", ".join(f"SUM(f_{c.lower()}) AS n_{c.lower()}" for c in FINDING_CODES)
    # Without fences PostgreSQL inlines each level into the next and evaluates `prev`, the
    # thresholds and the flags again at every use (about 1.5x slower on 1.5 million steps).
    fence = _fence()
    # Identifiers and literals come from this module and rules.PROTOCOLS; values are parameters.
    sql = f"""
        opinions AS (
            SELECT v.patient_id,
                   MIN(CASE WHEN v.second_opinion = {true} THEN v.visit_date END) AS second_since,
                   MIN(CASE WHEN v.collegial_opinion = {true} THEN v.visit_date END)
                       AS collegial_since,
                   MIN(CASE WHEN v.multidisciplinary_care = {true} THEN v.visit_date END)
                       AS multi_since
            FROM {visit} v JOIN {patient} p ON p.id = v.patient_id
            WHERE {where}{visit_upto}
                  AND (v.second_opinion = {true} OR v.collegial_opinion = {true}
                       OR v.multidisciplinary_care = {true})
            GROUP BY v.patient_id
        ),
        ordered AS (
            SELECT s.id, s.patient_id, s.start_date, s.daily_dose_mg AS dose,
                   {version_of("s.start_date")} AS version,
                   {year} - p.birth_year AS age,
                   p.treatment_status, p.pretreatment_dose_mg,
                   LAG(s.daily_dose_mg) OVER w AS lag_dose,
                   LAG(s.start_date) OVER w AS prev_on
            FROM {step} s JOIN {patient} p ON p.id = s.patient_id
            WHERE {where}{step_upto}
            WINDOW w AS (PARTITION BY s.patient_id ORDER BY s.start_date, s.id)
        ),
        judged AS (
            SELECT o.id, o.patient_id, o.start_date, o.dose, o.version, o.age, o.prev_on,
                   CASE WHEN o.dose > 0 AND o.dose %% 5 = 0 THEN 1 ELSE 0 END AS valid,
                   CASE WHEN o.dose > 0 AND o.dose %% 5 = 0 AND o.version <> '' THEN 1 ELSE 0 END
                       AS checked,
                   CASE WHEN o.lag_dose IS NULL AND o.treatment_status = 'pretreated'
                             AND o.pretreatment_dose_mg > 0 THEN o.pretreatment_dose_mg
                        WHEN o.lag_dose > 0 THEN o.lag_dose END AS prev,
                   {threshold_columns},
                   op.second_since, op.collegial_since, op.multi_since
            FROM ordered o LEFT JOIN opinions op ON op.patient_id = o.patient_id
            {fence}
        ),
        flagged AS (
            SELECT id, patient_id, start_date, version, prev_on,
                   {flags}
            FROM judged
            {fence}
        ),
        blocked AS (
            SELECT f.*, CASE WHEN {blocking} > 0 THEN 1 ELSE 0 END AS blocking
            FROM flagged f
            {fence}
        ),
        per_version AS (
            SELECT patient_id, version, COUNT(*) AS steps, SUM(blocking) AS blocking_steps,
                   MAX(blocking) AS blocked, {sums}
            FROM blocked GROUP BY patient_id, version
        )
    """  # noqa: S608
    upto_params = [date_to] if date_to is not None else []
    return sql, where_params + upto_params + where_params + upto_params


def _protocol_findings(
    date_from: date | None, date_to: date | None, ids: IdSlice = None
) -> dict[str, dict[str, int]]:
    """Query 6: protocol findings per version (of the slice of the cohort whose ids are in
    `ids`), from the PatientFindings rows of the patients whose summary answers for the period
    and from findings_sql() for the others: the sums of each column, by version."""
    t = _tables()
    cohort_sql, cohort_params = _cohort_where(date_from, date_to, ids)
    answered, answered_params = _answered(date_to)
    live_cte, live_cte_params = _live_cte(date_from, date_to, ids)
    ctes, cte_params = findings_sql(*_live_in(ids), date_to)
    in_summaries, in_summaries_params = _in_slice("ps.patient_id", ids)
    in_findings, in_findings_params = _in_slice("f.patient_id", ids)
    stored_slice = f"{in_summaries} AND {in_findings}"
    stored_slice_params = in_summaries_params + in_findings_params
    counted = ["steps", "blocking_steps", "blocked"] + [f"n_{c.lower()}" for c in FINDING_CODES]
    stored = ", ".join(f"f.{c}" for c in counted)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in counted)
    # Identifiers and literals come from this module; values are parameters.
    sql = f"""
        WITH {live_cte}, {ctes}
        SELECT version, COUNT(*) AS patients, {sums}
        FROM (
            SELECT f.version, {stored}
            FROM {t["findings"]} f
                 JOIN {t["patient"]} p ON p.id = f.patient_id
                 JOIN {t["summary"]} ps ON ps.patient_id = p.id
            WHERE {cohort_sql} AND {stored_slice} AND {answered}
            UNION ALL
            SELECT version, {", ".join(counted)} FROM per_version
        ) x
        GROUP BY version ORDER BY version
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            live_cte_params + cte_params + cohort_params + stored_slice_params + answered_params,
        )
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return {
        row["version"] or "": {k: int(v or 0) for k, v in row.items() if k != "version"}
        for row in rows
    }


def _findings_list(by_version: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Query 6's sums (of every slice) as the summary lists them, by version."""
    return [
        {
            "version": version or "before_rtu",
            "steps": row["steps"],
            "patients": row["patients"],
            "blocking_steps": row["blocking_steps"],
            "blocking_patients": row["blocked"],
            "findings": {c: row[f"n_{c.lower()}"] for c in FINDING_CODES},
        }
        for version, row in sorted(by_version.items())
    ]


def _add(total: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            _add(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value


def _slices(first_id: int | None, last_id: int | None) -> list[IdSlice]:
    """The id slices of the cohort for queries 1 and 6 (one, None, for a cohort that fits)."""
    if first_id is None or last_id is None or last_id - first_id < SLICE_IDS:
        return [None]
    return [(lo, lo + SLICE_IDS) for lo in range(first_id, last_id + 1, SLICE_IDS)]


def cohort_summary(date_from: date | None = None, date_to: date | None = None) -> dict[str, Any]:
    """The summary of the patients included between the two dates, as a JSON-ready dict.

    Queries 1 and 6 run once per slice of SLICE_IDS patient ids: each statement then reads one
    range of every table it joins (merge joins of index ranges instead of hashes of whole
    tables: 2.4-2.9 s of PostgreSQL CPU for the whole 300,000-patient cohort instead of
    3.1-3.4 s in two statements of over a second each). Each patient is in one slice, so the
    slices' counts and sums add up to the whole cohort's.
    """
    prescribers = _prescriber_row(date_from, date_to)
    sums: dict[str, int] = {}
    by_version: dict[str, dict[str, int]] = {}
    for ids in _slices(prescribers["first_id"], prescribers["last_id"]):
        _add(sums, _patient_row(date_from, date_to, ids))
        _add(by_version, _protocol_findings(date_from, date_to, ids))
    row = _patient_figures(sums)
    findings = _findings_list(by_version)
    events = _followed_events(date_from, date_to)
    by_class = dict(
        events.values("organ_class")
        .annotate(n=Count("patient", distinct=True))
        .values_list("organ_class", "n")
    )
    by_term = list(
        events.values("term__code", "term__label_fr", "term__label_en")
        .annotate(n=Count("patient", distinct=True))
        .order_by("-n", "term__code")
    )
    band_aggregates: dict[str, Any] = {
        "cases": Count("pk"),
        "unknown": Count("pk", filter=Q(dose_at_onset_mg__isnull=True)),
    }
    for label, low, high in DOSE_BANDS:
        band = Q(dose_at_onset_mg__gte=low)
        if high is not None:
            band &= Q(dose_at_onset_mg__lte=high)
        band_aggregates[f"any_{label}"] = Count("pk", filter=band)
        band_aggregates[f"serious_{label}"] = Count("pk", filter=band & Q(serious=True))
    by_band = events.aggregate(**band_aggregates)

    patients = row["patients"]
    followed = row["followed"]
    initiation = row["initiation"]
    n_prescribers = prescribers["prescribers"]
    group_followed = {g: row[f"{g}_followed"] for g in GROUPS}

    def per_group(key: str) -> dict[str, float | None]:
        return {g: pct(row[f"{g}_{key}"], group_followed[g]) for g in GROUPS}

    summary: dict[str, Any] = {
        "period": {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "patients": patients,
        "prescribers": n_prescribers,
        "prescribers_by_specialty": {s: prescribers[s] for s in SPECIALTIES},
        "prescribers_by_specialty_pct": {
            s: pct(prescribers[s], n_prescribers) for s in SPECIALTIES
        },
        "men_pct": pct(row["men"], patients),
        "mean_age": _round(row["mean_age"]),
        "initiation": initiation,
        "initiation_pct": pct(initiation, patients),
        "reduction_among_initiation_pct": pct(row["initiation_reduction"], initiation),
        "followed_up": followed,
        "followed_up_pct": pct(followed, patients),
        "followed_up_by_group": group_followed,
        "stopped": row["stopped"],
        "stopped_pct": pct(row["stopped"], followed),
        "consumption_change_g_per_day": {g: _round(row[f"{g}_change"]) for g in GROUPS},
        "abstinent_at_inclusion_pct": per_group("abstinent_inclusion"),
        "abstinent_at_last_visit_pct": per_group("abstinent_last"),
        "craving_improved_pct": per_group("craving_improved"),
        "adverse_event_patients": {
            "any": row["ae_any"],
            "possibly_related": row["ae_related"],
            "serious": row["ae_serious"],
            "serious_possibly_related": row["ae_serious_related"],
        },
        "adverse_event_pct": {
            "any": pct(row["ae_any"], followed),
            "possibly_related": pct(row["ae_related"], followed),
            "serious": pct(row["ae_serious"], followed),
            "serious_possibly_related": pct(row["ae_serious_related"], followed),
        },
        "organ_class_pct": {c.value: pct(by_class.get(c.value, 0), followed) for c in OrganClass},
        "term_pct": {t["term__code"]: pct(t["n"], followed) for t in by_term},
        "term_labels": {
            t["term__code"]: {"fr": t["term__label_fr"], "en": t["term__label_en"]} for t in by_term
        },
        "dose_distribution": {
            "patients_with_steps": row["with_steps"],
            "highest_dose_bands": [
                {
                    "band": label,
                    "patients": row[f"band_{label}"],
                    "pct": pct(row[f"band_{label}"], row["with_steps"]),
                }
                for label, _low, _high in DOSE_BANDS
            ],
            "thresholds_mg": list(DOSE_THRESHOLDS_MG),
        },
        "adverse_events_by_dose_band": {
            "cases": by_band["cases"],
            "unknown_dose": by_band["unknown"],
            "bands": [
                {
                    "band": label,
                    "cases": by_band[f"any_{label}"],
                    "serious": by_band[f"serious_{label}"],
                }
                for label, _low, _high in DOSE_BANDS
            ],
        },
        "protocol_findings": findings,
    }
    return summary
