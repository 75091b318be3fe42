"""Writes on visits, titration steps and stops: one transaction each, with the history row.

Every dose goes through `prescriptions.rules` (via prescriptions.timeline) before it is saved:
a blocking finding refuses the save with its reason, warnings must be acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import Patient
from reports.summaries import summaries_mark_stale
from rtuportal.queries import CompiledInstances

from . import rules, timeline
from .models import DoseStep, StopOfTreatment, Visit

INTAKES = ("dose_morning_mg", "dose_noon_mg", "dose_evening_mg", "dose_bedtime_mg")
OPINION_DETAILS = {
    "second_opinion": ("second_opinion_date", "second_opinion_by"),
    "collegial_opinion": ("collegial_opinion_date", "collegial_opinion_by"),
    "multidisciplinary_care": ("multidisciplinary_care_date", "multidisciplinary_care_by"),
}
# A stop from above this dose at once is a decrease larger than any taper step allows.
LARGEST_FINAL_STEP_MG = 15
MAX_STOP_DAYS_AHEAD = 60


class VisitConflict(ValidationError):
    """Someone saved the visit after this form was opened: nothing is overwritten."""


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass
class Assessment:
    """The planned doses with the rules' verdict on each, as the forms show them."""

    planned: list[tuple[date, int]]
    checks: list[rules.DoseCheck]
    extra_warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[date, int, rules.DoseCheck]]:
        return [
            (on, dose, check) for (on, dose), check in zip(self.planned, self.checks, strict=True)
        ]

    @property
    def blocking(self) -> list[str]:
        return [
            _("%(date)s, %(dose)s mg/day: %(message)s")
            % {"date": _fmt(on), "dose": dose, "message": f.message}
            for on, dose, check in self.rows
            for f in check.findings
            if f.severity == "block"
        ]

    @property
    def warnings(self) -> list[str]:
        found = [
            _("%(date)s, %(dose)s mg/day: %(message)s")
            % {"date": _fmt(on), "dose": dose, "message": f.message}
            for on, dose, check in self.rows
            for f in check.findings
            if f.severity == "warn"
        ]
        return found + self.extra_warnings


@dataclass
class PatientLog:
    visits: list[Visit]
    steps: list[DoseStep]
    stops: list[StopOfTreatment]
    log: list[timeline.LogStep]


# The patient's visits, steps and stops in date order, read on every patient page, visit form
# and visit save: compiled once per process (rtuportal.queries), in the models' order within
# one patient (without their ordering's join on the patient).
_VISITS = CompiledInstances(
    lambda pk: Visit.objects.filter(patient_id=pk).order_by("visit_date", "pk")
)
_STEPS = CompiledInstances(
    lambda pk: DoseStep.objects.filter(patient_id=pk).order_by("start_date", "pk")
)
_STOPS = CompiledInstances(
    lambda pk: StopOfTreatment.objects.filter(patient_id=pk).order_by("stop_date", "pk")
)


def patient_records(patient: Patient) -> tuple[list[Visit], list[DoseStep], list[StopOfTreatment]]:
    """The patient's visits, dose steps and stops, each in date order (3 queries)."""
    using = patient._state.db or "default"
    return (
        _VISITS(patient.pk, using=using, patient=patient),
        _STEPS(patient.pk, using=using, patient=patient),
        _STOPS(patient.pk, using=using, patient=patient),
    )


def patient_log(patient: Patient, *, exclude_visit_id: int | None = None) -> PatientLog:
    """The stored log of the patient (3 queries), optionally without one visit being corrected."""
    visits, steps, stops = patient_records(patient)
    if exclude_visit_id is not None:
        visits = [v for v in visits if v.pk != exclude_visit_id]
        steps = [s for s in steps if s.visit_id != exclude_visit_id]
    return _log_of(patient, visits, steps, stops)


def visit_assess(
    *,
    patient: Patient,
    visit_date: date,
    daily_dose_mg: int,
    steps: Sequence[tuple[date, int]],
    opinions: dict[str, bool],
    exclude_visit_id: int | None = None,
    stored: PatientLog | None = None,
) -> Assessment:
    """Judge the visit's dose and its planned steps against the patient's log and opinions."""
    stored = stored or patient_log(patient, exclude_visit_id=exclude_visit_id)
    recorded = timeline.opinions_on(stored.visits, visit_date)
    merged = {name: recorded[name] or bool(opinions.get(name)) for name in timeline.OPINIONS}
    planned = [(visit_date, daily_dose_mg), *[(on, dose) for on, dose in steps]]
    checks = timeline.check_steps(
        planned,
        birth_year=patient.birth_year,
        previous=timeline.previous_before(stored.log, visit_date),
        opinions=merged,
    )
    return Assessment(planned, checks)


def _step_errors(visit_date: date, steps: Sequence[tuple[date, int]], field_name: str) -> list:
    errors = []
    last = visit_date
    for on, dose in steps:
        if on <= last:
            errors.append(
                _("The step of %(date)s must come after %(after)s: steps follow one another.")
                % {"date": _fmt(on), "after": _fmt(last)}
            )
        if dose <= 0 or dose % 5:
            errors.append(
                _("%(dose)s mg/day is not a positive multiple of 5 mg/day.") % {"dose": dose}
            )
        last = on
    return errors


def _visit_errors(
    *,
    patient: Patient,
    stored: PatientLog,
    visit_date: date,
    daily_dose_mg: int,
    intakes: dict[str, int],
    opinion_details: dict,
    steps: Sequence[tuple[date, int]],
    original_date: date | None,
    original_pk: int | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    today = timezone.localdate()
    if visit_date > today:
        add("visit_date", _("A visit cannot be dated in the future."))
    if visit_date < patient.inclusion_date:
        add(
            "visit_date",
            _("The visit cannot come before the inclusion (%(date)s).")
            % {"date": _fmt(patient.inclusion_date)},
        )
    others = sorted(stored.visits, key=lambda v: (v.visit_date, v.pk))
    if original_date is None:
        before = others[-1] if others else None
        after = None
    else:
        key = (original_date, original_pk)
        earlier = [v for v in others if (v.visit_date, v.pk) < key]
        later = [v for v in others if (v.visit_date, v.pk) > key]
        before = earlier[-1] if earlier else None
        after = later[0] if later else None
    if before is not None and visit_date <= before.visit_date:
        add(
            "visit_date",
            _("The visit must come after the previous visit (%(date)s).")
            % {"date": _fmt(before.visit_date)},
        )
    if after is not None and visit_date >= after.visit_date:
        add(
            "visit_date",
            _("The visit must come before the next visit (%(date)s).")
            % {"date": _fmt(after.visit_date)},
        )
    if original_date is None:
        if patient.stopped_on is not None:
            add(
                "__all__",
                _("The treatment was stopped on %(date)s: record a restart before a new visit.")
                % {"date": _fmt(patient.stopped_on)},
            )
        restarts = [s.restarted_on for s in stored.stops if s.restarted_on]
        if restarts and visit_date < max(restarts):
            add(
                "visit_date",
                _("The treatment was restarted on %(date)s: the visit cannot come before.")
                % {"date": _fmt(max(restarts))},
            )
    if daily_dose_mg <= 0 or daily_dose_mg % 5:
        add("daily_dose_mg", _("The daily dose must be a positive multiple of 5 mg/day."))
    elif sum(intakes.values()) != daily_dose_mg:
        add(
            "dose_morning_mg",
            _("The intakes add up to %(total)s mg, not the daily dose of %(dose)s mg/day.")
            % {"total": sum(intakes.values()), "dose": daily_dose_mg},
        )
    for name, (date_field, by_field) in OPINION_DETAILS.items():
        if not opinion_details.get(name):
            continue
        if not opinion_details.get(date_field):
            add(date_field, _("Give the date of this opinion."))
        elif opinion_details[date_field] > visit_date:
            add(date_field, _("The opinion cannot be dated after the visit."))
        if not (opinion_details.get(by_field) or "").strip():
            add(by_field, _("Say who gave this opinion (name, team or centre)."))
    for message in _step_errors(visit_date, steps, "steps"):
        add("steps", message)
    return errors


def _refuse_on_findings(assessment: Assessment, warnings_acknowledged: bool) -> None:
    blocking = assessment.blocking
    if blocking:
        error = ValidationError({"__all__": blocking}, code="protocol_block")
        error.assessment = assessment  # type: ignore[attr-defined]
        raise error
    if assessment.warnings and not warnings_acknowledged:
        error = ValidationError(
            {
                "acknowledge_warnings": [
                    _(
                        "The protocol warns about this prescription: read the warnings and "
                        "tick the box to confirm it."
                    )
                ]
            },
            code="protocol_warn",
        )
        error.assessment = assessment  # type: ignore[attr-defined]
        raise error


def _refresh_summary(patient: Patient, stored: PatientLog | None = None) -> None:
    """Keep the list columns (current dose, last visit, titration) in step with the log
    (`stored`: the log as just written, when the caller has it; read again otherwise), and
    have the patient's report summary recomputed once this write has committed."""
    stored = stored or patient_log(patient)
    visits = sorted(stored.visits, key=lambda v: (v.visit_date, v.pk))
    last_visit = visits[-1] if visits else None
    in_titration = False
    if last_visit is not None:
        own = [s for s in stored.log if s.visit_id == last_visit.pk]
        before = timeline.previous_before(stored.log, last_visit.visit_date)
        doses = {s.daily_dose_mg for s in own}
        in_titration = len(doses) > 1 or (
            before is not None and before[1] != last_visit.daily_dose_mg
        )
    latest = [s for s in stored.log if s.kind != "stop"]
    Patient.objects.filter(pk=patient.pk).update(
        last_visit_date=last_visit.visit_date if last_visit else None,
        latest_dose_mg=latest[-1].daily_dose_mg if latest else None,
        in_titration=in_titration and patient.stopped_on is None,
    )
    summaries_mark_stale(patient_id=patient.pk)


# Compiled once per process (rtuportal.queries), inside a service's transaction.
_LOCKED = CompiledInstances(lambda pk: Patient.objects.select_for_update().filter(pk=pk))


def _lock(patient: Patient) -> Patient:
    """The patient read again under a row lock: writes on one patient are serialised, so two
    visits cannot be validated against the same log."""
    if transaction.get_autocommit():  # as the ORM's select_for_update, which this replaces
        raise transaction.TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    found = _LOCKED(patient.pk)
    if not found:
        raise Patient.DoesNotExist(f"patient {patient.pk} no longer exists")
    return found[0]


def _steps_text(steps: Sequence[tuple[date, int]]) -> str:
    return (
        ", ".join(
            _("%(date)s %(dose)s mg/day") % {"date": _fmt(on), "dose": dose} for on, dose in steps
        )
        or "-"
    )


@transaction.atomic
def visit_record(
    *,
    patient: Patient,
    by,
    visit_date: date,
    daily_dose_mg: int,
    intakes: dict[str, int],
    alcohol_g_per_day: int,
    craving: int,
    abstinent: bool,
    opinions: dict,
    note: str = "",
    steps: Sequence[tuple[date, int]] = (),
    warnings_acknowledged: bool = False,
) -> Visit:
    """Record a follow-up (or the initiation) visit with the steps planned until the next one.

    `opinions` holds second_opinion / collegial_opinion / multidisciplinary_care and their
    `_date` / `_by` details. Raises ValidationError (by field) and refuses blocking findings.
    """
    patient = _lock(patient)
    stored = patient_log(patient)
    errors = _visit_errors(
        patient=patient,
        stored=stored,
        visit_date=visit_date,
        daily_dose_mg=daily_dose_mg,
        intakes=intakes,
        opinion_details=opinions,
        steps=steps,
        original_date=None,
        original_pk=None,
    )
    if errors:
        raise ValidationError(errors)
    assessment = visit_assess(
        patient=patient,
        visit_date=visit_date,
        daily_dose_mg=daily_dose_mg,
        steps=steps,
        opinions=opinions,
        stored=stored,
    )
    _refuse_on_findings(assessment, warnings_acknowledged)
    visit = Visit(
        patient=patient,
        visit_date=visit_date,
        is_inclusion=visit_date == patient.inclusion_date and not stored.visits,
        protocol_version=rules.protocol_in_force(visit_date).version,
        daily_dose_mg=daily_dose_mg,
        alcohol_g_per_day=alcohol_g_per_day,
        craving=craving,
        abstinent=abstinent,
        note=note,
        warnings_acknowledged=bool(assessment.warnings) and warnings_acknowledged,
        created_by=by,
        **intakes,
        **_opinion_fields(opinions),
    )
    _clean(visit)
    visit._history_user = by
    visit._change_reason = _("Visit recorded; steps: %(steps)s") % {
        "steps": _steps_text(assessment.planned)
    }
    visit.save()
    new_steps = _save_steps(patient, assessment.planned, visit=visit)
    _refresh_summary(
        patient,
        _log_of(patient, [*stored.visits, visit], [*stored.steps, *new_steps], stored.stops),
    )
    return visit


def _opinion_fields(opinions: dict) -> dict:
    values = {}
    for name, (date_field, by_field) in OPINION_DETAILS.items():
        given = bool(opinions.get(name))
        values[name] = given
        values[date_field] = opinions.get(date_field) if given else None
        values[by_field] = (opinions.get(by_field) or "").strip() if given else ""
    return values


def _save_steps(patient: Patient, planned, *, visit=None, stop=None) -> list[DoseStep]:
    rows = [
        DoseStep(patient=patient, visit=visit, stop=stop, start_date=on, daily_dose_mg=dose)
        for on, dose in planned
    ]
    for row in rows:
        _clean(row)
    return DoseStep.objects.bulk_create(rows)


def _clean(instance) -> None:
    """full_clean() without its database round trips: the parents are the rows in hand (no
    existence query per foreign key) and the CHECK constraints are the database's own (one
    SAVEPOINT + SELECT + RELEASE each otherwise). The forms and _visit_errors refuse those
    values with a message next to the field first; the database refuses them in any case,
    rolling the whole transaction back."""
    instance.full_clean(
        exclude=[
            f.name
            for f in instance._meta.concrete_fields
            if f.is_relation and getattr(instance, f.name, None) is not None
        ],
        validate_constraints=False,
    )


def _log_of(patient: Patient, visits, steps, stops) -> PatientLog:
    log = timeline.effective_log(
        inclusion_date=patient.inclusion_date,
        pretreatment_dose_mg=patient.pretreatment_dose_mg,
        visits=visits,
        steps=steps,
        stops=stops,
    )
    return PatientLog(visits, steps, stops, log)


@transaction.atomic
def visit_correct(
    *,
    visit: Visit,
    by,
    expected_version: int,
    reason: str,
    visit_date: date,
    daily_dose_mg: int,
    intakes: dict[str, int],
    alcohol_g_per_day: int,
    craving: int,
    abstinent: bool,
    opinions: dict,
    note: str = "",
    steps: Sequence[tuple[date, int]] = (),
    warnings_acknowledged: bool = False,
) -> Visit:
    """Correct a visit: the previous values stay in the history with the reason given.

    Optimistic locking: the form carries the version it was opened on; if someone saved in
    between, VisitConflict is raised and nothing is written.
    """
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the visit is corrected.")]})
    patient = _lock(visit.patient)
    claimed = Visit.objects.filter(pk=visit.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not claimed:
        raise VisitConflict(
            _(
                "This visit was changed by someone else (perhaps in another tab) after you "
                "opened it. Nothing was saved: reload the visit to see the current values, "
                "then apply your correction again."
            ),
            code="conflict",
        )
    visit = Visit.objects.get(pk=visit.pk)
    stored = patient_log(patient, exclude_visit_id=visit.pk)
    errors = _visit_errors(
        patient=patient,
        stored=stored,
        visit_date=visit_date,
        daily_dose_mg=daily_dose_mg,
        intakes=intakes,
        opinion_details=opinions,
        steps=steps,
        original_date=visit.visit_date,
        original_pk=visit.pk,
    )
    if errors:
        raise ValidationError(errors)
    assessment = visit_assess(
        patient=patient,
        visit_date=visit_date,
        daily_dose_mg=daily_dose_mg,
        steps=steps,
        opinions=opinions,
        stored=stored,
    )
    _refuse_on_findings(assessment, warnings_acknowledged)
    old_steps = [(s.start_date, s.daily_dose_mg) for s in visit.steps.all()]
    visit.visit_date = visit_date
    visit.protocol_version = rules.protocol_in_force(visit_date).version
    visit.daily_dose_mg = daily_dose_mg
    visit.alcohol_g_per_day = alcohol_g_per_day
    visit.craving = craving
    visit.abstinent = abstinent
    visit.note = note
    visit.warnings_acknowledged = bool(assessment.warnings) and warnings_acknowledged
    for name, value in {**intakes, **_opinion_fields(opinions)}.items():
        setattr(visit, name, value)
    visit.full_clean()
    visit._history_user = by
    visit._change_reason = _("Correction: %(reason)s. Steps before: %(old)s; after: %(new)s") % {
        "reason": reason.strip(),
        "old": _steps_text(old_steps),
        "new": _steps_text(assessment.planned),
    }
    visit.save()
    visit.steps.all().delete()
    _save_steps(patient, assessment.planned, visit=visit)
    _refresh_summary(patient)
    return visit


def stop_assess(
    *,
    patient: Patient,
    stop_date: date,
    taper: Sequence[tuple[date, int]],
    stored: PatientLog | None = None,
) -> Assessment:
    """Judge the taper steps, and warn when the last dose before the stop is still high."""
    stored = stored or patient_log(patient)
    first_day = taper[0][0] if taper else stop_date
    previous = timeline.previous_before(stored.log, first_day)
    if previous is None:
        current = timeline.dose_on(stored.log, first_day)
        previous = (None, current) if current else None
    opinions = timeline.opinions_on(stored.visits, stop_date)
    checks = timeline.check_steps(
        list(taper), birth_year=patient.birth_year, previous=previous, opinions=opinions
    )
    assessment = Assessment(list(taper), checks)
    last_dose = taper[-1][1] if taper else (previous[1] if previous else None)
    if last_dose and last_dose > LARGEST_FINAL_STEP_MG:
        assessment.extra_warnings.append(
            _(
                "The treatment stops from %(dose)s mg/day at once: above %(limit)s mg/day, "
                "taper by steps of 10 to 15 mg every 2 days (risk of withdrawal syndrome)."
            )
            % {"dose": last_dose, "limit": LARGEST_FINAL_STEP_MG}
        )
    return assessment


@transaction.atomic
def stop_record(
    *,
    patient: Patient,
    by,
    stop_date: date,
    reason: str,
    note: str = "",
    taper: Sequence[tuple[date, int]] = (),
    warnings_acknowledged: bool = False,
) -> StopOfTreatment:
    """Stop the treatment, with its taper plan checked by the rules."""
    patient = _lock(patient)
    stored = patient_log(patient)
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if patient.stopped_on is not None:
        errors.setdefault("__all__", []).append(
            _("The treatment is already stopped (since %(date)s).")
            % {"date": _fmt(patient.stopped_on)}
        )
    last_visit = max((v.visit_date for v in stored.visits), default=None)
    floor = last_visit or patient.inclusion_date
    if stop_date < floor:
        errors.setdefault("stop_date", []).append(
            _("The stop cannot come before the last visit or the inclusion (%(date)s).")
            % {"date": _fmt(floor)}
        )
    if stop_date > today + timedelta(days=MAX_STOP_DAYS_AHEAD):
        errors.setdefault("stop_date", []).append(
            _("A stop can be planned at most %(days)s days ahead.") % {"days": MAX_STOP_DAYS_AHEAD}
        )
    step_errors = _step_errors(floor - timedelta(days=1), taper, "steps")
    if taper and taper[-1][0] >= stop_date:
        step_errors.append(_("The taper steps must all come before the stop date."))
    previous_dose = None
    for on, dose in taper:
        before = previous_dose if previous_dose is not None else timeline.dose_on(stored.log, on)
        if before is not None and dose >= before:
            step_errors.append(
                _("The taper step of %(date)s does not lower the dose (%(dose)s mg/day).")
                % {"date": _fmt(on), "dose": dose}
            )
        previous_dose = dose
    if step_errors:
        errors["steps"] = step_errors
    if errors:
        raise ValidationError(errors)
    assessment = stop_assess(patient=patient, stop_date=stop_date, taper=taper, stored=stored)
    _refuse_on_findings(assessment, warnings_acknowledged)
    stop = StopOfTreatment(
        patient=patient, stop_date=stop_date, reason=reason, note=note, created_by=by
    )
    stop.full_clean()
    stop._history_user = by
    stop._change_reason = _("Treatment stopped; taper: %(steps)s") % {
        "steps": _steps_text(list(taper))
    }
    stop.save()
    _save_steps(patient, list(taper), stop=stop)
    patient.stopped_on = stop_date
    patient.in_titration = False
    patient._history_user = by
    patient._change_reason = _("Treatment stopped")
    patient.save(update_fields=["stopped_on", "in_titration", "updated_at"])
    _refresh_summary(patient)
    return stop


@transaction.atomic
def treatment_restart(*, patient: Patient, by, restarted_on: date, note: str) -> StopOfTreatment:
    """Restart a stopped treatment; the next visit is then allowed and starts from a first dose."""
    patient = _lock(patient)
    stop = patient.stops.order_by("-stop_date", "-pk").first()
    if patient.stopped_on is None or stop is None:
        raise ValidationError({"__all__": [_("The treatment is not stopped.")]})
    errors: dict[str, list[str]] = {}
    if restarted_on < stop.stop_date:
        errors["restarted_on"] = [
            _("The restart cannot come before the stop (%(date)s).")
            % {"date": _fmt(stop.stop_date)}
        ]
    elif restarted_on > timezone.localdate():
        errors["restarted_on"] = [_("A restart cannot be dated in the future.")]
    if not note.strip():
        errors["note"] = [_("Say why the treatment is restarted.")]
    if errors:
        raise ValidationError(errors)
    stop.restarted_on = restarted_on
    stop.restart_note = note.strip()
    stop.full_clean()
    stop._history_user = by
    stop._change_reason = _("Treatment restarted")
    stop.save()
    patient.stopped_on = None
    patient._history_user = by
    patient._change_reason = _("Treatment restarted on %(date)s") % {"date": _fmt(restarted_on)}
    patient.save(update_fields=["stopped_on", "updated_at"])
    return stop
