"""Import a legacy cohort export (JSON Lines, one patient per line; docs/import-format.md).

Two passes: every line is validated first (types, ranges, dates, references) and every error is
collected with its line number; only a file without any error is written, in one transaction,
as plain rows through reports.bulk (COPY on PostgreSQL). Protocol deviations are not errors:
they are legacy facts that the report's protocol findings show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from typing import Any

import psycopg
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import PrescriberProfile, User
from accounts.validators import rpps_is_valid
from patients.codes import generate_code
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent, CRPVRegion, ReactionTerm
from prescriptions import rules
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from reports import bulk
from reports.references import ChunkReferences, row_triggers_skippable
from rtuportal import outbox
from rtuportal.choices import (
    ActionTaken,
    Causality,
    FailedTreatment,
    Indication,
    Outcome,
    Precaution,
    Region,
    SeriousnessCriterion,
    Sex,
    Specialty,
    StopReason,
    TreatmentStatus,
)

# The patients' report summaries are computed after the commit, by a worker (reports.summaries).
SUMMARIES_TASK = "reports.tasks.refresh_missing_summaries"
CHUNK = 2000  # lines per chunk: written while the next one is validated


class ImportFailed(Exception):
    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class _Invalid(Exception):
    pass


@dataclass
class _Line:
    number: int
    prescriber: dict[str, str]
    patient: dict[str, Any]
    visits: list[dict[str, Any]]
    stop: dict[str, Any] | None
    events: list[dict[str, Any]] = field(default_factory=list)


@cache
def _values(choices) -> frozenset[str]:
    return frozenset(c.value for c in choices)


def _get(obj: dict, key: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise _Invalid(f"{where} must be an object")
    if key not in obj:
        raise _Invalid(f"{where}.{key} is missing")
    return obj[key]


def _int(
    obj: dict,
    key: str,
    where: str,
    low: int,
    high: int,
    *,
    nullable: bool = False,
    multiple_of: int = 1,
) -> int | None:
    value = _get(obj, key, where)
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid(f"{where}.{key} must be an integer, not {value!r}")
    if not low <= value <= high:
        raise _Invalid(f"{where}.{key} must be between {low} and {high}, not {value}")
    if value % multiple_of:
        raise _Invalid(f"{where}.{key} must be a multiple of {multiple_of}, not {value}")
    return value


def _bool(obj: dict, key: str, where: str, default: bool | None = None) -> bool:
    if default is not None and key not in obj:
        return default
    value = _get(obj, key, where)
    if not isinstance(value, bool):
        raise _Invalid(f"{where}.{key} must be true or false, not {value!r}")
    return value


@lru_cache(maxsize=65536)
def _parse_day(value: str) -> date | None:
    if len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _date(value: Any, where: str, *, today: date, not_before: date | None = None) -> date:
    day = _parse_day(value) if isinstance(value, str) else None
    if day is None:
        raise _Invalid(f"{where} must be a date YYYY-MM-DD, not {value!r}")
    if day > today:
        raise _Invalid(f"{where} {value} is in the future")
    if not_before and day < not_before:
        raise _Invalid(f"{where} {value} is before {not_before.isoformat()}")
    return day


def _choice(obj: dict, key: str, where: str, allowed: frozenset[str]) -> str:
    value = _get(obj, key, where)
    if value not in allowed:
        raise _Invalid(f"{where}.{key} {value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def _choices(obj: dict, key: str, where: str, allowed: frozenset[str]) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise _Invalid(f"{where}.{key} must be a list of {', '.join(sorted(allowed))}")
    return value


def _steps(value: Any, where: str, not_before: date, today: date) -> list[tuple[date, int]]:
    """[[date, dose], ...] as (date, mg) pairs. A file holds a million steps: the common case
    (a well-formed step) is checked inline, and only a step it does not accept goes through
    _step, which finds and words the reason (or accepts it the same way)."""
    if not isinstance(value, list):
        raise _Invalid(f"{where} must be a list of [date, dose]")
    steps = []
    append = steps.append
    parse = _parse_day
    for index, step in enumerate(value):
        if type(step) is list and len(step) == 2:
            text, dose = step
            if type(text) is str and type(dose) is int and 5 <= dose <= 1000 and not dose % 5:
                day = parse(text)
                if day is not None and not_before <= day <= today:
                    append((day, dose))
                    continue
        append(_step(step, f"{where}[{index}]", not_before, today))
    return steps


def _step(step: Any, here: str, not_before: date, today: date) -> tuple[date, int]:
    if not isinstance(step, list) or len(step) != 2:
        raise _Invalid(f"{here} must be [date, dose]")
    day = _date(step[0], here, today=today, not_before=not_before)
    dose = _int({"dose": step[1]}, "dose", here, 5, 1000, multiple_of=5)
    return day, dose


_VISIT_OPINIONS = ("second_opinion", "collegial_opinion", "multidisciplinary_care")


def _visit(v: Any, where: str, inclusion: date, today: date) -> dict[str, Any]:
    """One visit; the common case inline, as in _steps, else _visit_checked."""
    if type(v) is dict:
        day = v.get("visit_date")
        dose = v.get("daily_dose_mg")
        alcohol = v.get("alcohol_g_per_day")
        craving = v.get("craving")
        abstinent = v.get("abstinent")
        opinions = [v.get(key, False) for key in _VISIT_OPINIONS]
        if (
            type(day) is str
            and type(dose) is int
            and 5 <= dose <= 1000
            and not dose % 5
            and type(alcohol) is int
            and 0 <= alcohol <= 1000
            and type(craving) is int
            and 0 <= craving <= 10
            and type(abstinent) is bool
            and all(type(o) is bool for o in opinions)
        ):
            visit_date = _parse_day(day)
            if visit_date is not None and inclusion <= visit_date <= today:
                return {
                    "visit_date": visit_date,
                    "daily_dose_mg": dose,
                    "alcohol_g_per_day": alcohol,
                    "craving": craving,
                    "abstinent": abstinent,
                    "second_opinion": opinions[0],
                    "collegial_opinion": opinions[1],
                    "multidisciplinary_care": opinions[2],
                    "steps": _steps(v.get("steps", []), f"{where}.steps", inclusion, today),
                }
    return _visit_checked(v, where, inclusion, today)


def _visit_checked(v: Any, where: str, inclusion: date, today: date) -> dict[str, Any]:
    return {
        "visit_date": _date(
            _get(v, "visit_date", where),
            f"{where}.visit_date",
            today=today,
            not_before=inclusion,
        ),
        "daily_dose_mg": _int(v, "daily_dose_mg", where, 5, 1000, multiple_of=5),
        "alcohol_g_per_day": _int(v, "alcohol_g_per_day", where, 0, 1000),
        "craving": _int(v, "craving", where, 0, 10),
        "abstinent": _bool(v, "abstinent", where),
        "second_opinion": _bool(v, "second_opinion", where, False),
        "collegial_opinion": _bool(v, "collegial_opinion", where, False),
        "multidisciplinary_care": _bool(v, "multidisciplinary_care", where, False),
        "steps": _steps(v.get("steps", []), f"{where}.steps", inclusion, today),
    }


def validate(number: int, raw: str, terms: set[str], today: date | None = None) -> _Line:
    """One line, or _Invalid with the first reason found."""
    today = today or timezone.localdate()
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise _Invalid("a line must be a JSON object")
    doctor = _get(obj, "prescriber", "line")
    rpps = _get(doctor, "rpps", "prescriber")
    if not isinstance(rpps, str) or not rpps_is_valid(rpps):
        raise _Invalid(f"prescriber.rpps {rpps!r} is not a valid RPPS number")
    prescriber = {
        "rpps": rpps,
        "specialty": _choice(doctor, "specialty", "prescriber", _values(Specialty)),
        "region": _choice(doctor, "region", "prescriber", _values(Region)),
    }
    p = _get(obj, "patient", "line")
    inclusion = _date(
        _get(p, "inclusion_date", "patient"),
        "patient.inclusion_date",
        today=today,
        not_before=rules.RTU_START,
    )
    status = _choice(p, "treatment_status", "patient", _values(TreatmentStatus))
    patient = {
        "sex": _choice(p, "sex", "patient", _values(Sex)),
        "birth_year": _int(p, "birth_year", "patient", 1900, inclusion.year - 18),
        "inclusion_date": inclusion,
        "indication": _choice(p, "indication", "patient", _values(Indication)),
        "treatment_status": status,
        "pretreatment_dose_mg": _int(
            p, "current_dose_mg", "patient", 5, 1000, nullable=True, multiple_of=5
        )
        if "current_dose_mg" in p
        else None,
        "alcohol_g_per_day": _int(p, "alcohol_g_per_day", "patient", 0, 1000),
        "craving": _int(p, "craving", "patient", 0, 10),
        "abstinent": _bool(p, "abstinent", "patient"),
        "precautions": _choices(p, "precautions", "patient", _values(Precaution)),
        "failed_treatments": _choices(p, "failed_treatments", "patient", _values(FailedTreatment)),
    }
    raw_visits = _get(obj, "visits", "line")
    if not isinstance(raw_visits, list):
        raise _Invalid("visits must be a list")
    visits = [_visit(v, f"visits[{index}]", inclusion, today) for index, v in enumerate(raw_visits)]
    visits.sort(key=lambda v: v["visit_date"])
    if len({v["visit_date"] for v in visits}) != len(visits):
        raise _Invalid("two visits on the same date")
    stop = obj.get("stop")
    if stop is not None:
        stop = {
            "stop_date": _date(
                _get(stop, "date", "stop"), "stop.date", today=today, not_before=inclusion
            ),
            "reason": _choice(stop, "reason", "stop", _values(StopReason)),
            "steps": _steps(stop.get("steps", []), "stop.steps", inclusion, today),
        }
    events = []
    raw_events = obj.get("adverse_events", [])
    if not isinstance(raw_events, list):
        raise _Invalid("adverse_events must be a list")
    for index, e in enumerate(raw_events):
        where = f"adverse_events[{index}]"
        term = _get(e, "term", where)
        if term not in terms:
            raise _Invalid(f"{where}.term {term!r} is not a known reaction term")
        onset = _date(
            _get(e, "onset_date", where), f"{where}.onset_date", today=today, not_before=inclusion
        )
        serious = _bool(e, "serious", where)
        criteria = _choices(e, "criteria", where, _values(SeriousnessCriterion))
        if serious and not criteria:
            raise _Invalid(f"{where}: a serious case needs at least one seriousness criterion")
        if not serious and criteria:
            raise _Invalid(f"{where}: seriousness criteria given for a non-serious case")
        received = (
            _date(e["received_on"], f"{where}.received_on", today=today, not_before=onset)
            if "received_on" in e
            else onset
        )
        events.append(
            {
                "term": term,
                "onset_date": onset,
                "serious": serious,
                "criteria": criteria,
                "outcome": _choice(e, "outcome", where, _values(Outcome)),
                "causality": _choice(e, "causality", where, _values(Causality)),
                "action": _choice(e, "action", where, _values(ActionTaken)),
                "received_on": received,
            }
        )
    return _Line(number, prescriber, patient, visits, stop, events)


def read(lines: Iterable[str], terms: set[str]) -> tuple[list[_Line], list[tuple[int, str]]]:
    records, errors = [], []
    today = timezone.localdate()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            records.append(validate(number, raw, terms, today))
        except _Invalid as exc:
            errors.append((number, str(exc)))
    return records, errors


def _dose_on(steps: list[tuple[date, int]], on: date) -> int | None:
    dose = None
    for start, value in steps:
        if start <= on:
            dose = value
    return dose


def import_cohort(lines: Iterable[str]) -> dict[str, int]:
    """Validate every line and write the valid ones in one transaction; ImportFailed (and
    nothing written) if any line is bad."""
    terms = {t.code: t for t in ReactionTerm.objects.all()}
    if bulk.is_postgresql():
        return _import_streaming(lines, terms)
    records, errors = read(lines, set(terms))
    if errors:
        raise ImportFailed(errors)
    counts = dict.fromkeys(_COUNTS, 0)
    with transaction.atomic():
        context = _Context(terms, counts)
        taken: set[str] = set()
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            context.add_prescribers(chunk)
            for model, columns, table_rows in _rows(chunk, context, taken, None):
                bulk.insert_rows(model, columns, table_rows)
        outbox.enqueue(SUMMARIES_TASK)
    return counts


_COUNTS = ("patients", "visits", "steps", "stops", "adverse_events", "prescribers_created")


def _import_streaming(lines: Iterable[str], terms: dict[str, ReactionTerm]) -> dict[str, int]:
    """PostgreSQL: validation and writing overlap. The main thread validates, builds and formats
    chunk N+1 while a writer thread COPYs chunk N on the same connection (one transaction; the
    main thread never touches that connection while the writer works) and then checks the
    chunk's foreign keys (_copy_chunk). Primary keys and patient-code look-ups go through a
    second, autocommit connection (sequences are not transactional anyway), which also lends its
    adapters to format the COPY data. On the first bad line the writing stops, the rest of the
    file is still validated so that every bad line is listed, and ImportFailed rolls the whole
    transaction back."""
    counts = dict.fromkeys(_COUNTS, 0)
    errors: list[tuple[int, str]] = []
    term_codes = set(terms)
    today = timezone.localdate()
    with transaction.atomic():
        bulk.fast_session()
        context = _Context(terms, counts)
        references = ChunkReferences(_PATIENT_COLUMN) if row_triggers_skippable() else None
        main = connection.connection
        side = connection.get_new_connection(connection.get_connection_params())
        side.autocommit = True
        pending: Future | None = None
        taken: set[str] = set()
        try:
            with ThreadPoolExecutor(max_workers=1) as writer, side.cursor() as side_cursor:
                chunk: list[_Line] = []

                def flush() -> Future | None:
                    nonlocal pending
                    if errors or not chunk:
                        return pending
                    if context.missing_prescribers(chunk):
                        # Prescribers are created in the import's transaction: wait for the
                        # writer to leave the connection first.
                        if pending is not None:
                            pending.result()
                        context.add_prescribers(chunk)
                    tables = _rows(chunk, context, taken, side_cursor)
                    patient_ids = [row[0] for row in tables[0][2]]
                    bounds = (min(patient_ids), max(patient_ids))
                    payloads = [
                        (model, columns, bulk.copy_payload(side, table_rows))
                        for model, columns, table_rows in tables
                    ]
                    if pending is not None:
                        pending.result()
                    return writer.submit(_copy_chunk, main, payloads, references, bounds)

                for number, raw in enumerate(lines, start=1):
                    if not raw.strip():
                        continue
                    try:
                        record = validate(number, raw, term_codes, today)
                    except _Invalid as exc:
                        errors.append((number, str(exc)))
                        continue
                    if not errors:
                        chunk.append(record)
                        if len(chunk) >= CHUNK:
                            pending = flush()
                            chunk = []
                pending = flush()
                if pending is not None:
                    pending.result()
        finally:
            side.close()
        if errors:
            raise ImportFailed(errors)
        outbox.enqueue(SUMMARIES_TASK)
    return counts


def _copy_chunk(
    conn,
    payloads: list[tuple[type, tuple[str, ...], bytes]],
    references: ChunkReferences | None,
    bounds: tuple[int, int],
) -> None:
    """Writer thread: COPY one chunk's rows (formatted by the main thread: the writer needs
    almost no Python, so PostgreSQL is fed at full speed while the main thread validates),
    then check their foreign keys right away: with `references`, the COPY runs without row
    triggers and each foreign key is checked over the chunk's patients in one query
    (reports.references); without, PostgreSQL fires the row checks queued so far (the
    constraints stay deferrable)."""
    try:
        with conn.cursor() as cursor:
            if references is not None:
                # SET LOCAL: undone by the rollback of the import's transaction or savepoint.
                cursor.execute("SET LOCAL session_replication_role = replica")
            for model, columns, payload in payloads:
                bulk.copy_bytes(cursor, model, columns, payload)
            if references is not None:
                cursor.execute("SET LOCAL session_replication_role = origin")
                references.verify(cursor, *bounds)
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except psycopg.IntegrityError as exc:
        # As Django would have raised it (the writer works on the bare psycopg connection).
        raise IntegrityError(str(exc)) from exc


_PATIENT_COLUMN = {
    Patient: "id",
    Visit: "patient_id",
    StopOfTreatment: "patient_id",
    DoseStep: "patient_id",
    AdverseEvent: "patient_id",
}


class _Context:
    """Prescribers (rpps -> user id and CRPV), reaction terms and the running counts."""

    def __init__(self, terms: dict[str, ReactionTerm], counts: dict[str, int]):
        self.terms = terms
        self.counts = counts
        self.doctors: dict[str, int] = {}
        self.crpv_of: dict[str, int | None] = {}
        self.crpv_of_region = dict(CRPVRegion.objects.values_list("region", "crpv_id"))

    def missing_prescribers(self, records: list[_Line]) -> bool:
        doctors = self.doctors
        return any(r.prescriber["rpps"] not in doctors for r in records)

    def add_prescribers(self, records: list[_Line]) -> None:
        """Look up (and create, as approved accounts without a usable password) the chunk's
        prescribers not seen yet."""
        wanted: dict[str, dict[str, str]] = {}
        for record in records:
            if record.prescriber["rpps"] not in self.doctors:
                wanted.setdefault(record.prescriber["rpps"], record.prescriber)
        if not wanted:
            return
        for rpps, user_id, region in PrescriberProfile.objects.filter(
            rpps__in=list(wanted)
        ).values_list("rpps", "user_id", "region"):
            self.doctors[rpps] = user_id
            self.crpv_of[rpps] = self.crpv_of_region.get(region)
        missing = [rpps for rpps in wanted if rpps not in self.doctors]
        if not missing:
            return
        unusable = make_password(None)
        email = "rpps{}@import.rtu-baclofene.fr".format
        User.objects.bulk_create(
            [
                User(
                    email=email(rpps),
                    role="prescriber",
                    status=User.Status.APPROVED,
                    is_active=True,
                    password=unusable,
                )
                for rpps in missing
            ],
            batch_size=1000,
        )
        created = dict(
            User.objects.filter(email__in=[email(rpps) for rpps in missing]).values_list(
                "email", "pk"
            )
        )
        PrescriberProfile.objects.bulk_create(
            [
                PrescriberProfile(
                    user_id=created[email(rpps)],
                    rpps=rpps,
                    specialty=wanted[rpps]["specialty"],
                    region=wanted[rpps]["region"],
                )
                for rpps in missing
            ],
            batch_size=1000,
        )
        for rpps in missing:
            self.doctors[rpps] = created[email(rpps)]
            self.crpv_of[rpps] = self.crpv_of_region.get(wanted[rpps]["region"])
        self.counts["prescribers_created"] += len(missing)


def _codes(count: int, taken: set[str], cursor=None) -> list[str]:
    """`count` new patient codes, unused in the database and in this import."""
    codes: list[str] = []
    while len(codes) < count:
        batch = {generate_code() for _ in range(count - len(codes))} - taken
        if cursor is None:
            used = Patient.objects.filter(code__in=list(batch)).values_list("code", flat=True)
        else:
            cursor.execute(
                'SELECT "code" FROM "patients_patient" WHERE "code" = ANY(%s)', [list(batch)]
            )
            used = [row[0] for row in cursor.fetchall()]
        batch -= set(used)
        taken |= batch
        codes += sorted(batch)
    return codes


def _rows(
    records: list[_Line], context: _Context, taken: set[str], cursor=None
) -> list[tuple[type, tuple[str, ...], list[tuple]]]:
    """One chunk of validated lines as plain rows for reports.bulk, parents first; ids and
    codes are looked up through `cursor` (or Django's connection if None)."""
    doctors, crpv_of, terms, counts = (
        context.doctors,
        context.crpv_of,
        context.terms,
        context.counts,
    )
    codes = _codes(len(records), taken, cursor)
    patient_ids = bulk.reserve_ids(Patient, len(records), cursor)
    visit_ids = iter(bulk.reserve_ids(Visit, sum(len(r.visits) for r in records), cursor))
    stop_ids = iter(bulk.reserve_ids(StopOfTreatment, sum(1 for r in records if r.stop), cursor))
    now = bulk.now_value()
    version_on = rules.protocol_in_force
    patients, visit_rows, stop_rows, step_rows, event_rows = [], [], [], [], []
    for record, code, pid in zip(records, codes, patient_ids, strict=True):
        p = record.patient
        doctor = doctors[record.prescriber["rpps"]]
        inclusion = p["inclusion_date"]
        all_steps = sorted(s for v in record.visits for s in v["steps"])
        if record.stop:
            all_steps = sorted(all_steps + record.stop["steps"])
        last_visit = record.visits[-1] if record.visits else None
        patients.append(
            (
                pid,
                code,
                doctor,
                p["sex"],
                p["birth_year"],
                inclusion,
                version_on(inclusion).version,
                p["indication"],
                p["treatment_status"],
                p["pretreatment_dose_mg"],
                json.dumps(p["failed_treatments"]),
                json.dumps(p["precautions"]),
                p["alcohol_g_per_day"],
                p["craving"],
                p["abstinent"],
                True,
                True,
                None
                if record.stop
                else (all_steps[-1][1] if all_steps else (last_visit or {}).get("daily_dose_mg")),
                last_visit["visit_date"] if last_visit else None,
                bool(last_visit and len(last_visit["steps"]) > 1 and not record.stop),
                record.stop["stop_date"] if record.stop else None,
                now,
                now,
            )
        )
        for v in record.visits:
            vid = next(visit_ids)
            day = v["visit_date"]
            visit_rows.append(
                (
                    vid,
                    pid,
                    day,
                    day == inclusion,
                    version_on(day).version,
                    v["daily_dose_mg"],
                    # The legacy export has no intakes: left at 0 (not recorded).
                    0,
                    0,
                    0,
                    0,
                    v["alcohol_g_per_day"],
                    v["craving"],
                    v["abstinent"],
                    v["second_opinion"],
                    None,
                    "",
                    v["collegial_opinion"],
                    None,
                    "",
                    v["multidisciplinary_care"],
                    None,
                    "",
                    "",
                    False,
                    1,
                    doctor,
                    now,
                    now,
                )
            )
            step_rows += [(pid, vid, None, d, dose) for d, dose in v["steps"]]
        if record.stop:
            sid = next(stop_ids)
            stop_rows.append(
                (
                    sid,
                    pid,
                    record.stop["stop_date"],
                    record.stop["reason"],
                    "",
                    None,
                    "",
                    doctor,
                    now,
                )
            )
            step_rows += [(pid, None, sid, d, dose) for d, dose in record.stop["steps"]]
        for e in record.events:
            term = terms[e["term"]]
            onset = e["onset_date"]
            event_rows.append(
                (
                    pid,
                    doctor,
                    onset,
                    term.pk,
                    "",
                    term.organ_class,
                    "",
                    e["serious"],
                    json.dumps(e["criteria"]),
                    e["outcome"],
                    e["causality"],
                    e["action"],
                    "unknown",
                    "unknown",
                    _dose_on(all_steps, onset),
                    version_on(onset).version,
                    crpv_of[record.prescriber["rpps"]],
                    e["received_on"],
                    AdverseEvent.deadline_for(serious=e["serious"], received_on=e["received_on"]),
                    None,
                    1,
                    now,
                    now,
                )
            )
    counts["patients"] += len(patients)
    counts["visits"] += len(visit_rows)
    counts["steps"] += len(step_rows)
    counts["stops"] += len(stop_rows)
    counts["adverse_events"] += len(event_rows)
    return [
        (Patient, bulk.PATIENT_COLUMNS, patients),
        (Visit, bulk.VISIT_COLUMNS, visit_rows),
        (StopOfTreatment, bulk.STOP_COLUMNS, stop_rows),
        (DoseStep, bulk.STEP_COLUMNS, step_rows),
        (AdverseEvent, bulk.EVENT_COLUMNS, event_rows),
    ]
