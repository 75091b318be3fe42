"""The effective titration log of a patient, and its compliance replayed with the rules.

A visit plans the steps until the next visit; a later visit (or the taper of a stop) supersedes
whatever the earlier plan had from its own date on. The log is rebuilt from the stored rows in
memory (no query here), so the patient page, the forms and the reports all agree on what the
patient was prescribed on any day, and the findings are replayed, never stored copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from . import rules

OPINIONS = ("second_opinion", "collegial_opinion", "multidisciplinary_care")


@dataclass(frozen=True)
class LogStep:
    """One line of the effective log: from `start_date` the patient takes `daily_dose_mg`.

    kind: "pretreatment" (dose before inclusion, not judged), "visit" (a visit's dose or a
    planned step), "taper" (a stop's taper step) or "stop" (dose 0 from the stop date).
    """

    start_date: date
    daily_dose_mg: int
    kind: str
    visit_id: int | None = None
    stop_id: int | None = None


@dataclass(frozen=True)
class ReplayedStep:
    step: LogStep
    check: rules.DoseCheck | None  # None for the pretreatment dose and the stop marker


@dataclass
class _Block:
    start: date
    steps: list[LogStep]
    end_marker: LogStep | None = None
    order: int = 0
    opinions: dict[str, bool] = field(default_factory=dict)


def effective_log(
    *,
    inclusion_date: date,
    pretreatment_dose_mg: int | None,
    visits: Iterable,
    steps: Iterable,
    stops: Iterable,
) -> list[LogStep]:
    """Merge visits' steps and stops' tapers into one log; later blocks supersede earlier ones.

    `visits`, `steps` and `stops` are model instances (or anything with the same attributes);
    a step belongs to a visit (`visit_id`) or to a stop (`stop_id`).
    """
    by_visit: dict[int, list] = {}
    by_stop: dict[int, list] = {}
    for s in steps:
        if s.visit_id is not None:
            by_visit.setdefault(s.visit_id, []).append(s)
        elif s.stop_id is not None:
            by_stop.setdefault(s.stop_id, []).append(s)

    blocks: list[_Block] = []
    for v in visits:
        own = sorted(by_visit.get(v.pk, []), key=lambda s: (s.start_date, s.pk or 0))
        if not own:
            own_steps = [LogStep(v.visit_date, v.daily_dose_mg, "visit", visit_id=v.pk)]
        else:
            own_steps = [
                LogStep(s.start_date, s.daily_dose_mg, "visit", visit_id=v.pk) for s in own
            ]
        blocks.append(_Block(v.visit_date, own_steps, order=1))
    for stop in stops:
        taper = sorted(by_stop.get(stop.pk, []), key=lambda s: (s.start_date, s.pk or 0))
        taper_steps = [
            LogStep(s.start_date, s.daily_dose_mg, "taper", stop_id=stop.pk) for s in taper
        ]
        start = taper_steps[0].start_date if taper_steps else stop.stop_date
        marker = LogStep(stop.stop_date, 0, "stop", stop_id=stop.pk)
        blocks.append(_Block(start, taper_steps, end_marker=marker, order=2))
    blocks.sort(key=lambda b: (b.start, b.order))

    log: list[LogStep] = []
    if pretreatment_dose_mg:
        log.append(LogStep(inclusion_date, pretreatment_dose_mg, "pretreatment"))
    for index, block in enumerate(blocks):
        next_start = blocks[index + 1].start if index + 1 < len(blocks) else None
        for step in block.steps:
            if next_start is not None and step.start_date >= next_start:
                break
            log.append(step)
        marker = block.end_marker
        if marker is not None and (next_start is None or marker.start_date <= next_start):
            log.append(marker)
    return log


def opinions_on(visits: Sequence, on: date, *, exclude_visit_id: int | None = None) -> dict:
    """The opinions recorded on the patient's visits dated on or before `on`."""
    found = dict.fromkeys(OPINIONS, False)
    for v in visits:
        if v.pk == exclude_visit_id or v.visit_date > on:
            continue
        for name in OPINIONS:
            if getattr(v, name):
                found[name] = True
    return found


def previous_before(log: Sequence[LogStep], on: date) -> tuple[date | None, int] | None:
    """The last entry of the log strictly before `on`, as (date, dose) for the rules.

    The pretreatment dose has no known start date (None); after a stop there is no previous
    dose (the next dose is a first dose again).
    """
    last: LogStep | None = None
    for step in log:
        if step.start_date < on:
            last = step
        else:
            break
    if last is None or last.kind == "stop":
        return None
    if last.kind == "pretreatment":
        return (None, last.daily_dose_mg)
    return (last.start_date, last.daily_dose_mg)


def check_steps(
    planned: Sequence[tuple[date, int]],
    *,
    birth_year: int,
    previous: tuple[date | None, int] | None,
    opinions: dict[str, bool],
) -> list[rules.DoseCheck]:
    """check_schedule with the age computed on each step's own date (age = year - birth year)."""
    results: list[rules.DoseCheck] = []
    prev_on, prev_dose = previous if previous is not None else (None, None)
    for on, dose in planned:
        results.append(
            rules.check_dose(
                on=on,
                dose_mg=dose,
                age=on.year - birth_year,
                previous_dose_mg=prev_dose,
                previous_on=prev_on,
                **opinions,
            )
        )
        prev_on, prev_dose = on, dose
    return results


def replay(*, patient, visits: Sequence, steps: Sequence, stops: Sequence) -> list[ReplayedStep]:
    """The compliance of the whole history: each step of the log judged with the rules."""
    log = effective_log(
        inclusion_date=patient.inclusion_date,
        pretreatment_dose_mg=patient.pretreatment_dose_mg,
        visits=visits,
        steps=steps,
        stops=stops,
    )
    replayed: list[ReplayedStep] = []
    prev_on: date | None = None
    prev_dose: int | None = None
    for step in log:
        if step.kind == "pretreatment":
            replayed.append(ReplayedStep(step, None))
            prev_on, prev_dose = None, step.daily_dose_mg
            continue
        if step.kind == "stop":
            replayed.append(ReplayedStep(step, None))
            prev_on, prev_dose = None, None
            continue
        check = rules.check_dose(
            on=step.start_date,
            dose_mg=step.daily_dose_mg,
            age=step.start_date.year - patient.birth_year,
            previous_dose_mg=prev_dose,
            previous_on=prev_on,
            **opinions_on(visits, step.start_date),
        )
        replayed.append(ReplayedStep(step, check))
        prev_on, prev_dose = step.start_date, step.daily_dose_mg
    return replayed


def dose_on(log: Sequence[LogStep], on: date) -> int | None:
    """The daily dose in the log on day `on` (None before the first entry)."""
    current: int | None = None
    for step in log:
        if step.start_date <= on:
            current = step.daily_dose_mg
        else:
            break
    return current
