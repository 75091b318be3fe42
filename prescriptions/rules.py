"""Protocol rules of the baclofen RTU: judge each prescribed daily dose, plan titrations.

Pure Python on purpose (no Django import): the rules are replayed over whole cohorts, run in
benchmarks and property tests, and must give the same answer in a form, a report or an audit.

Each dose is judged against the protocol version in force on its own date (2014 RTU, 2017
amended RTU, 2021 marketing authorisation). The versions are data (`PROTOCOLS`); the code only
reads thresholds from it. See docs/protocol-rules.md for every rule with its source.

Messages are translatable. Templates are wrapped in the no-op marker `_` where they are defined
so that Django's makemessages extracts them; the text is produced at runtime by the translator
installed with `set_translator` (the Django app installs `gettext` in its AppConfig.ready).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

__all__ = [
    "FINDING_CODES",
    "FINDING_SEVERITY",
    "MESSAGE_TEMPLATES",
    "OLDER_PATIENT_AGE_ABOVE",
    "PROTOCOLS",
    "RTU_START",
    "DoseCheck",
    "Finding",
    "Protocol",
    "check_dose",
    "check_schedule",
    "plan_titration",
    "protocol_in_force",
    "set_translator",
]

Severity = Literal["block", "warn"]


# --------------------------------------------------------------------------------------------
# Translation
# --------------------------------------------------------------------------------------------


def _(message: str) -> str:
    """Mark a template for extraction by makemessages; translation happens at runtime."""
    return message


def _identity(message: str) -> str:
    return message


_translate: Callable[[str], str] = _identity


def set_translator(fn: Callable[[str], str] | None) -> None:
    """Install the function turning a message template into the active language.

    The Django app calls `set_translator(django.utils.translation.gettext)`; None restores the
    identity (English source text).
    """
    global _translate
    _translate = _identity if fn is None else fn


def _format_date(day: date) -> str:
    # French convention, used in both languages: dd/mm/yyyy.
    return "%02d/%02d/%04d" % (day.day, day.month, day.year)  # noqa: UP031 (2x faster)


# --------------------------------------------------------------------------------------------
# Protocol versions (data)
# --------------------------------------------------------------------------------------------

RTU_START: Final = date(2014, 3, 14)

# Sources of the age threshold: ANSM RTU announcement, 14/03/2014, footnote 4 ("ou supérieure
# ou égale à 120 mg/j pour les patients âgés de plus de 65 ans"). Age is on.year - birth_year.
OLDER_PATIENT_AGE_ABOVE: Final = 65


@dataclass(frozen=True, slots=True)
class Protocol:
    """One version of the prescribing protocol; None means the rule does not exist in it."""

    version: str
    in_force_from: date
    max_daily_dose_mg: int
    highest_first_dose_mg: int
    largest_increase_mg: int
    fewest_days_between_increases: int
    second_opinion_from_mg: int | None
    collegial_opinion_above_mg: int | None
    collegial_opinion_from_mg_if_over_65: int | None
    multidisciplinary_care_above_mg: int | None
    largest_decrease_mg: int
    fewest_days_between_decreases: int
    # Added field: a patient already above the maximum may be tapered (2017 only).
    taper_above_max_allowed: bool = False


PROTOCOLS: Final[tuple[Protocol, ...]] = (
    Protocol(
        version="2014",
        # ANSM, "Une RTU est accordée pour le baclofène", published 14/03/2014.
        in_force_from=date(2014, 3, 14),
        # ANSM 2014: "la posologie de 300 mg/jour ne devra jamais être dépassée".
        max_daily_dose_mg=300,
        # ANSM 2014: "devra être débutée à 15 mg par jour".
        highest_first_dose_mg=15,
        # ANSM 2014: "+5 mg par jour, puis +10 mg par jour".
        largest_increase_mg=10,
        # ANSM 2014: "par paliers de 2-3 jours".
        fewest_days_between_increases=2,
        # ANSM 2014: "A partir de la posologie de 120 mg/jour, un deuxième avis".
        second_opinion_from_mg=120,
        # ANSM 2014: "Pour toute posologie supérieure à 180 mg/j un avis collégial".
        collegial_opinion_above_mg=180,
        # ANSM 2014, footnote 4: ">= 120 mg/j pour les patients âgés de plus de 65 ans".
        collegial_opinion_from_mg_if_over_65=120,
        # Not in the 2014 RTU.
        multidisciplinary_care_above_mg=None,
        # ANSM safety notice 25/07/2017 ("réduction de 10 ou 15 mg tous les 2 jours"); the
        # 2014 text only says "progressivement": the portal applies the 2017 figures to all.
        largest_decrease_mg=15,
        fewest_days_between_decreases=2,
    ),
    Protocol(
        version="2017",
        # ANSM safety notice 25/07/2017: "A compter du 24 juillet 2017".
        in_force_from=date(2017, 7, 24),
        # ANSM 25/07/2017: "ne permet plus de prescrire ... supérieures à 80 mg/jour".
        max_daily_dose_mg=80,
        # Unchanged from 2014 (the 2017 notice amends only the maximum).
        highest_first_dose_mg=15,
        largest_increase_mg=10,
        fewest_days_between_increases=2,
        second_opinion_from_mg=120,
        collegial_opinion_above_mg=180,
        collegial_opinion_from_mg_if_over_65=120,
        multidisciplinary_care_above_mg=None,
        # ANSM 25/07/2017: "réduction progressive ... par paliers (réduction de 10 ou 15 mg
        # tous les 2 jours)".
        largest_decrease_mg=15,
        fewest_days_between_decreases=2,
        # ANSM 25/07/2017: patients above 80 mg/day are seen to "initier une réduction
        # progressive de la posologie".
        taper_above_max_allowed=True,
    ),
    Protocol(
        version="2021",
        # ANSM decision of 18/11/2021 (Fédération Addiction release, 18/11/2021).
        in_force_from=date(2021, 11, 18),
        # ASSUMPTION of the project: no 2021 ceiling found in the sources; the 2014 absolute
        # maximum of 300 mg/day is kept. Change it here if a source says otherwise.
        max_daily_dose_mg=300,
        # Baclocur SmPC: start at 15-20 mg/day.
        highest_first_dose_mg=20,
        # Baclocur SmPC: "about +10 mg every 3-4 days".
        largest_increase_mg=10,
        fewest_days_between_increases=3,
        # The opinions of the RTU are replaced by multidisciplinary care.
        second_opinion_from_mg=None,
        collegial_opinion_above_mg=None,
        collegial_opinion_from_mg_if_over_65=None,
        # Fédération Addiction 18/11/2021: "prise en charge pluridisciplinaire des patients pour
        # les posologies supérieures à 80 mg/jour".
        multidisciplinary_care_above_mg=80,
        # Kept from the 2017 notice (10 or 15 mg every 2 days).
        largest_decrease_mg=15,
        fewest_days_between_decreases=2,
    ),
)

_BY_VERSION: Final[dict[str, Protocol]] = {p.version: p for p in PROTOCOLS}
_STARTS: Final[list[date]] = [p.in_force_from for p in PROTOCOLS]
assert _STARTS == sorted(_STARTS) and _STARTS[0] == RTU_START

# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------

FINDING_SEVERITY: Final[Mapping[str, Severity]] = {
    "BEFORE_PROTOCOL": "block",
    "INVALID_DOSE": "block",
    "MAX_DOSE_EXCEEDED": "block",
    "SECOND_OPINION_REQUIRED": "block",
    "COLLEGIAL_OPINION_REQUIRED": "block",
    "MULTIDISCIPLINARY_CARE_REQUIRED": "block",
    "STARTING_DOSE_TOO_HIGH": "warn",
    "STEP_TOO_LARGE": "warn",
    "STEP_TOO_SOON": "warn",
    "TAPER_TOO_FAST": "warn",
}
FINDING_CODES: Final[tuple[str, ...]] = tuple(FINDING_SEVERITY)

# Message templates (English source; French in prescriptions/locale/fr/LC_MESSAGES/django.po).
# Common placeholders: version, since (date the version came into force), threshold.
_MSG_BEFORE_PROTOCOL = _(
    "The baclofen RTU started on %(rtu_start)s: a dose dated %(on)s falls before any version "
    "of the protocol. Check the date."
)
_MSG_INVALID_DOSE = _(
    "A daily dose must be a positive multiple of 5 mg/day (scored 10 mg tablets); "
    "%(dose)s mg/day is not. Correct the dose."
)
_MSG_MAX_DOSE = _(
    "Above %(threshold)s mg/day, the %(version)s protocol (in force since %(since)s) forbids "
    "this dose. Lower the dose to %(threshold)s mg/day or less."
)
_MSG_MAX_DOSE_TAPER_ONLY = _(
    "Above %(threshold)s mg/day, the %(version)s protocol (in force since %(since)s) forbids "
    "this dose. Lower the dose to %(threshold)s mg/day or less; a patient already above "
    "%(threshold)s mg/day may only be tapered."
)
_MSG_SECOND_OPINION = _(
    "From %(threshold)s mg/day, the %(version)s protocol (in force since %(since)s) requires a "
    "second opinion. Record the second opinion of a colleague experienced in alcohol "
    "dependence (psychiatrist or addiction specialist)."
)
_MSG_COLLEGIAL = _(
    "Above %(threshold)s mg/day, the %(version)s protocol (in force since %(since)s) requires "
    "a collegial opinion. Record the collegial opinion of a CSAPA or hospital addiction team."
)
_MSG_COLLEGIAL_OVER_65 = _(
    "From %(threshold)s mg/day for a patient older than %(age_limit)s, the %(version)s "
    "protocol (in force since %(since)s) requires a collegial opinion. Record the collegial "
    "opinion of a CSAPA or hospital addiction team."
)
_MSG_MULTIDISCIPLINARY = _(
    "Above %(threshold)s mg/day, the %(version)s protocol (in force since %(since)s) requires "
    "multidisciplinary care. Record the multidisciplinary care (the GP working with a CSAPA or "
    "a specialised addiction team)."
)
_MSG_STARTING_DOSE = _(
    "The %(version)s protocol (in force since %(since)s) starts treatment at %(threshold)s "
    "mg/day at most; %(dose)s mg/day is a high first dose. Start at %(threshold)s mg/day and "
    "increase progressively."
)
_MSG_STEP_TOO_LARGE = _(
    "An increase of %(step)s mg/day in one step exceeds the %(threshold)s mg/day allowed by "
    "the %(version)s protocol (in force since %(since)s). Split the increase into steps of "
    "%(threshold)s mg/day at most."
)
_MSG_STEP_TOO_SOON = _(
    "The previous change was on %(previous_on)s; the %(version)s protocol (in force since "
    "%(since)s) asks for at least %(threshold)s days between two increases. Date this "
    "increase %(earliest)s or later."
)
_MSG_TAPER_TOO_LARGE = _(
    "A decrease of %(step)s mg/day in one step exceeds the %(threshold)s mg/day allowed by "
    "the %(version)s protocol (in force since %(since)s): risk of withdrawal syndrome. Taper "
    "by steps of %(threshold)s mg/day at most."
)
_MSG_TAPER_TOO_SOON = _(
    "The previous change was on %(previous_on)s; the %(version)s protocol (in force since "
    "%(since)s) asks for at least %(min_days)s days between two decreases: risk of "
    "withdrawal syndrome. Date this decrease %(earliest)s or later."
)
_MSG_TAPER_TOO_LARGE_AND_SOON = _(
    "A decrease of %(step)s mg/day after the change of %(previous_on)s is too fast: the "
    "%(version)s protocol (in force since %(since)s) allows at most %(threshold)s mg/day per "
    "step and at least %(min_days)s days between two decreases (risk of withdrawal "
    "syndrome). Taper by steps of %(threshold)s mg/day at most, from %(earliest)s."
)

MESSAGE_TEMPLATES: Final[tuple[str, ...]] = (
    _MSG_BEFORE_PROTOCOL,
    _MSG_INVALID_DOSE,
    _MSG_MAX_DOSE,
    _MSG_MAX_DOSE_TAPER_ONLY,
    _MSG_SECOND_OPINION,
    _MSG_COLLEGIAL,
    _MSG_COLLEGIAL_OVER_65,
    _MSG_MULTIDISCIPLINARY,
    _MSG_STARTING_DOSE,
    _MSG_STEP_TOO_LARGE,
    _MSG_STEP_TOO_SOON,
    _MSG_TAPER_TOO_LARGE,
    _MSG_TAPER_TOO_SOON,
    _MSG_TAPER_TOO_LARGE_AND_SOON,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a dose deviates from the protocol; `block` refuses the dose, `warn` asks
    the prescriber to acknowledge it."""

    code: str
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class DoseCheck:
    """The verdict on one dose: the version applied ("" before the RTU) and its findings."""

    protocol: str
    allowed: bool
    findings: tuple[Finding, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)


def _render(translated: str, template: str, params: Mapping[str, object]) -> str:
    try:
        return translated % params
    except (KeyError, ValueError, TypeError):
        # A broken translation (wrong placeholder) must not break a form: use the source.
        return template % params


def _finding(code: str, template: str, params: Mapping[str, object]) -> Finding:
    return Finding(code, FINDING_SEVERITY[code], _render(_translate(template), template, params))


def _verdict(version: str, findings: list[Finding]) -> DoseCheck:
    allowed = True
    for f in findings:
        if f.severity == "block":
            allowed = False
            break
    return DoseCheck(version, allowed, tuple(findings))


def _add_days(day: date, days: int) -> date:
    """`day + days`, clamped to the representable range (messages must never raise)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------

_INF: Final = math.inf  # any int compares below it: "no such threshold"


@dataclass(frozen=True, slots=True)
class _Rules:
    """A protocol flattened for the hot path: absent thresholds become +inf."""

    protocol: Protocol
    version: str
    since: str
    max_dose: int
    taper_above_max: bool
    first_dose: int
    largest_increase: int
    days_increase: int
    largest_decrease: int
    days_decrease: int
    second_from: float
    collegial_above: float
    collegial_from_over_65: float
    multidisciplinary_above: float
    clean: DoseCheck


def _flatten(p: Protocol) -> _Rules:
    def threshold(value: int | None) -> float:
        return _INF if value is None else value

    return _Rules(
        protocol=p,
        version=p.version,
        since=_format_date(p.in_force_from),
        max_dose=p.max_daily_dose_mg,
        taper_above_max=p.taper_above_max_allowed,
        first_dose=p.highest_first_dose_mg,
        largest_increase=p.largest_increase_mg,
        days_increase=p.fewest_days_between_increases,
        largest_decrease=p.largest_decrease_mg,
        days_decrease=p.fewest_days_between_decreases,
        second_from=threshold(p.second_opinion_from_mg),
        collegial_above=threshold(p.collegial_opinion_above_mg),
        collegial_from_over_65=threshold(p.collegial_opinion_from_mg_if_over_65),
        multidisciplinary_above=threshold(p.multidisciplinary_care_above_mg),
        # A clean verdict carries no per-call data: share one instance per version.
        clean=DoseCheck(p.version, True, ()),
    )


_RULES: Final[tuple[_Rules, ...]] = tuple(_flatten(p) for p in PROTOCOLS)
_RULES_BY_VERSION: Final[dict[str, _Rules]] = {r.version: r for r in _RULES}


def _as_date(on: date) -> date:
    # A datetime is a date subclass but does not compare with dates: keep its day.
    return on.date() if isinstance(on, datetime) else on


def protocol_in_force(on: date) -> Protocol:
    """The protocol version in force on `on`; ValueError before the RTU started."""
    on = _as_date(on)
    index = bisect_right(_STARTS, on) - 1
    if index < 0:
        raise ValueError(
            f"No protocol before the RTU started on {_format_date(RTU_START)} "
            f"(date given: {_format_date(on)})."
        )
    return PROTOCOLS[index]


def _rules_for(version: str) -> _Rules:
    try:
        return _RULES_BY_VERSION[version]
    except KeyError:
        raise ValueError(
            f"Unknown protocol version {version!r}; expected one of {sorted(_BY_VERSION)}."
        ) from None


def _before_protocol(on: date, dose: int) -> DoseCheck:
    findings = [
        _finding(
            "BEFORE_PROTOCOL",
            _MSG_BEFORE_PROTOCOL,
            {"rtu_start": _format_date(RTU_START), "on": _format_date(on)},
        )
    ]
    if dose <= 0 or dose % 5:
        findings.append(_finding("INVALID_DOSE", _MSG_INVALID_DOSE, {"dose": dose}))
    return _verdict("", findings)


def _check(
    r: _Rules,
    on: date,
    dose: int,
    age: int,
    previous: int | None,
    previous_on: date | None,
    second_opinion: bool,
    collegial_opinion: bool,
    multidisciplinary_care: bool,
) -> DoseCheck:
    """The hot path: one dose under one version. A clean check returns a shared verdict."""
    if dose <= 0 or dose % 5:
        # Other rules are meaningless for a dose that cannot be prescribed: fix it first.
        return DoseCheck(
            r.version, False, (_finding("INVALID_DOSE", _MSG_INVALID_DOSE, {"dose": dose}),)
        )
    if previous is not None and previous <= 0:
        previous = None  # no dose before (e.g. a restart after a stop): a first dose

    found: list[Finding] = []  # ~20 ns; clean checks return the shared verdict below

    # Thresholds: they apply to the dose whatever the direction of the change. All block.
    if dose > r.max_dose and not (
        r.taper_above_max and previous is not None and previous > r.max_dose and dose < previous
    ):
        template = _MSG_MAX_DOSE_TAPER_ONLY if r.taper_above_max else _MSG_MAX_DOSE
        found.append(_threshold_finding("MAX_DOSE_EXCEEDED", template, r, r.max_dose))
    if dose >= r.second_from and not second_opinion:
        found.append(
            _threshold_finding("SECOND_OPINION_REQUIRED", _MSG_SECOND_OPINION, r, r.second_from)
        )
    if not collegial_opinion:
        if dose > r.collegial_above:
            found.append(
                _threshold_finding(
                    "COLLEGIAL_OPINION_REQUIRED", _MSG_COLLEGIAL, r, r.collegial_above
                )
            )
        elif age > OLDER_PATIENT_AGE_ABOVE and dose >= r.collegial_from_over_65:
            found.append(
                _threshold_finding(
                    "COLLEGIAL_OPINION_REQUIRED",
                    _MSG_COLLEGIAL_OVER_65,
                    r,
                    r.collegial_from_over_65,
                )
            )
    if dose > r.multidisciplinary_above and not multidisciplinary_care:
        found.append(
            _threshold_finding(
                "MULTIDISCIPLINARY_CARE_REQUIRED",
                _MSG_MULTIDISCIPLINARY,
                r,
                r.multidisciplinary_above,
            )
        )
    allowed = not found  # everything below is a warning

    # Titration: the step from the previous dose.
    if previous is None:
        if dose > r.first_dose:
            params = _params(r, r.first_dose)
            params["dose"] = dose
            f = _finding("STARTING_DOSE_TOO_HIGH", _MSG_STARTING_DOSE, params)
            found.append(f)
    elif dose > previous:
        if dose - previous > r.largest_increase:
            params = _params(r, r.largest_increase)
            params["step"] = dose - previous
            f = _finding("STEP_TOO_LARGE", _MSG_STEP_TOO_LARGE, params)
            found.append(f)
        if previous_on is not None and (on - previous_on).days < r.days_increase:
            params = _params(r, r.days_increase)
            params["previous_on"] = _format_date(previous_on)
            params["earliest"] = _format_date(_add_days(previous_on, r.days_increase))
            f = _finding("STEP_TOO_SOON", _MSG_STEP_TOO_SOON, params)
            found.append(f)
    elif dose < previous:
        too_large = previous - dose > r.largest_decrease
        too_soon = previous_on is not None and (on - previous_on).days < r.days_decrease
        if too_large or too_soon:
            params = _params(r, r.largest_decrease)
            params["step"] = previous - dose
            params["min_days"] = r.days_decrease
            if previous_on is not None:
                params["previous_on"] = _format_date(previous_on)
                params["earliest"] = _format_date(_add_days(previous_on, r.days_decrease))
            if too_large and too_soon:
                template = _MSG_TAPER_TOO_LARGE_AND_SOON
            elif too_large:
                template = _MSG_TAPER_TOO_LARGE
            else:
                template = _MSG_TAPER_TOO_SOON
            f = _finding("TAPER_TOO_FAST", template, params)
            found.append(f)

    if not found:
        return r.clean
    return DoseCheck(r.version, allowed, tuple(found))


def _params(r: _Rules, threshold: float) -> dict[str, object]:
    return {
        "version": r.version,
        "since": r.since,
        "threshold": int(threshold),
        "age_limit": OLDER_PATIENT_AGE_ABOVE,
    }


# Findings whose text depends only on the version and the language, keyed by the translated
# template (which identifies template and language) and the version: built once, then shared.
_THRESHOLD_FINDINGS: dict[tuple[str, str], Finding] = {}


def _threshold_finding(code: str, template: str, r: _Rules, threshold: float) -> Finding:
    translated = _translate(template)
    key = (translated, r.version)
    finding = _THRESHOLD_FINDINGS.get(key)
    if finding is None:
        text = _render(translated, template, _params(r, threshold))
        finding = Finding(code, FINDING_SEVERITY[code], text)
        if len(_THRESHOLD_FINDINGS) < 10_000:  # bounded whatever the translator returns
            _THRESHOLD_FINDINGS[key] = finding
    return finding


def check_dose(
    *,
    on: date,
    dose_mg: int,
    age: int,
    previous_dose_mg: int | None = None,
    previous_on: date | None = None,
    second_opinion: bool = False,
    collegial_opinion: bool = False,
    multidisciplinary_care: bool = False,
    protocol: str | None = None,
) -> DoseCheck:
    """Judge one daily dose prescribed on `on` against the protocol in force that day.

    `protocol` forces a version ("2014", "2017", "2021"; ValueError for another value).
    The opinions are those already recorded for the patient. Never raises for any date or
    integer dose: a dose outside the rules is reported as a finding, not an exception.
    """
    if on.__class__ is not date:
        on = _as_date(on)
    if previous_on is not None and previous_on.__class__ is not date:
        previous_on = _as_date(previous_on)
    if protocol is None:
        index = bisect_right(_STARTS, on) - 1
        if index < 0:
            return _before_protocol(on, dose_mg)
        rules = _RULES[index]
    else:
        rules = _rules_for(protocol)
    return _check(
        rules,
        on,
        dose_mg,
        age,
        previous_dose_mg,
        previous_on,
        second_opinion,
        collegial_opinion,
        multidisciplinary_care,
    )


_OPINIONS: Final = frozenset({"second_opinion", "collegial_opinion", "multidisciplinary_care"})


def _opinions(opinions: Mapping[str, bool]) -> tuple[bool, bool, bool]:
    unknown = opinions.keys() - _OPINIONS
    if unknown:
        raise TypeError(f"Unknown opinion(s) {sorted(unknown)}; expected {sorted(_OPINIONS)}.")
    return (
        bool(opinions.get("second_opinion", False)),
        bool(opinions.get("collegial_opinion", False)),
        bool(opinions.get("multidisciplinary_care", False)),
    )


def check_schedule(
    steps: Sequence[tuple[date, int]],
    *,
    age: int,
    previous: tuple[date, int] | None = None,
    **opinions: bool,
) -> list[DoseCheck]:
    """Check each step against the step before it (the first against `previous`, or as a
    first dose), each under the protocol in force on its own date."""
    second, collegial, multidisciplinary = _opinions(opinions)
    if previous is None:
        previous_on: date | None = None
        previous_dose: int | None = None
    else:
        previous_on, previous_dose = previous
        if previous_on.__class__ is not date:
            previous_on = _as_date(previous_on)
    starts = _STARTS
    all_rules = _RULES
    results: list[DoseCheck] = []
    append = results.append
    for on, dose in steps:
        if on.__class__ is not date:
            on = _as_date(on)
        index = bisect_right(starts, on) - 1
        if index < 0:
            append(_before_protocol(on, dose))
        else:
            append(
                _check(
                    all_rules[index],
                    on,
                    dose,
                    age,
                    previous_dose,
                    previous_on,
                    second,
                    collegial,
                    multidisciplinary,
                )
            )
        previous_on, previous_dose = on, dose
    return results


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------

# Planner choices (not protocol rules): +5 mg/day steps below 30 mg/day, then +10 (ANSM 2014:
# "+5 mg par jour, puis +10 mg par jour" without the switch point); decreases of 15 mg/day
# while possible (ANSM 2017: "10 ou 15 mg"); stopping tapers down to 5 mg/day.
SMALL_INCREASES_BELOW_MG: Final = 30
SMALL_INCREASE_MG: Final = 5
LOWEST_STEP_MG: Final = 5
MAX_PLAN_STEPS: Final = 200


def _next_change_date(previous_on: date, increasing: bool) -> date:
    """The earliest day after `previous_on` when the version in force that day allows a new
    change (a step dated in 2021 waits 3 days even if the previous one was in 2017)."""
    days = 1
    while True:
        on = previous_on + timedelta(days=days)
        p = PROTOCOLS[bisect_right(_STARTS, on) - 1]
        needed = p.fewest_days_between_increases if increasing else p.fewest_days_between_decreases
        if days >= needed:
            return on
        days = needed


def plan_titration(
    *,
    start: date,
    from_dose_mg: int | None,
    target_dose_mg: int,
    age: int,
    **opinions: bool,
) -> list[tuple[date, int]]:
    """Plan the steps from the current dose (or a first dose on `start`) to the target.

    The plan starts with (start, from_dose_mg), or (start, first dose) when the patient is
    not on treatment, and every later step passes check_schedule without any finding. A
    target of 0 means stopping: the plan tapers down to 5 mg/day, the lowest step; the stop
    itself is recorded afterwards (StopOfTreatment). ValueError when the target cannot be
    reached lawfully with the given opinions, with the reason from the rules.
    """
    second, collegial, multidisciplinary = _opinions(opinions)
    start = _as_date(start)
    if target_dose_mg < 0 or target_dose_mg % 5:
        raise ValueError(
            f"The target must be 0 (stop) or a positive multiple of 5 mg/day, not {target_dose_mg}."
        )
    if from_dose_mg is not None and (from_dose_mg <= 0 or from_dose_mg % 5):
        raise ValueError(
            f"The current dose must be a positive multiple of 5 mg/day, not {from_dose_mg} "
            "(None for a patient not on treatment)."
        )
    if start < RTU_START:
        raise ValueError(
            f"No protocol before the RTU started on {_format_date(RTU_START)}: cannot plan "
            f"from {_format_date(start)}."
        )

    stopping = target_dose_mg == 0
    if stopping:
        if from_dose_mg is None:
            raise ValueError("Nothing to stop: the patient is not on treatment.")
        target_dose_mg = LOWEST_STEP_MG

    if from_dose_mg is None:
        # Start at the version's first dose, or directly at a lower target.
        first_dose = min(protocol_in_force(start).highest_first_dose_mg, target_dose_mg)
        first = check_dose(
            on=start,
            dose_mg=first_dose,
            age=age,
            second_opinion=second,
            collegial_opinion=collegial,
            multidisciplinary_care=multidisciplinary,
        )
        if first.findings:
            raise ValueError(first.findings[0].message)
        current = first_dose
    else:
        current = from_dose_mg

    plan: list[tuple[date, int]] = [(start, current)]
    increasing = target_dose_mg > current
    distance = abs(target_dose_mg - current)
    if distance // SMALL_INCREASE_MG > MAX_PLAN_STEPS:
        raise ValueError(
            f"A change from {current} to {target_dose_mg} mg/day is not a plausible titration."
        )

    on = start
    while current != target_dose_mg:
        try:
            on = _next_change_date(on, increasing)
        except OverflowError:
            raise ValueError("The plan would run past the last representable date.") from None
        p = protocol_in_force(on)
        if increasing:
            size = (
                SMALL_INCREASE_MG if current < SMALL_INCREASES_BELOW_MG else p.largest_increase_mg
            )
            dose = min(current + min(size, p.largest_increase_mg), target_dose_mg)
        else:
            dose = max(current - p.largest_decrease_mg, target_dose_mg)
        verdict = check_dose(
            on=on,
            dose_mg=dose,
            age=age,
            previous_dose_mg=current,
            previous_on=plan[-1][0],
            second_opinion=second,
            collegial_opinion=collegial,
            multidisciplinary_care=multidisciplinary,
        )
        if verdict.findings:
            blocking = [f for f in verdict.findings if f.severity == "block"]
            reason = (blocking or list(verdict.findings))[0].message
            raise ValueError(
                f"Cannot reach {target_dose_mg} mg/day lawfully: the step to {dose} mg/day on "
                f"{_format_date(on)} is refused. {reason}"
            )
        plan.append((on, dose))
        current = dose
    return plan
