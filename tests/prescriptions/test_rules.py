"""Protocol rules: every threshold of the three versions, the planner, messages, properties.

Pure functions: no database, no Django import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from prescriptions import rules
from prescriptions.rules import (
    FINDING_CODES,
    MESSAGE_TEMPLATES,
    PROTOCOLS,
    RTU_START,
    DoseCheck,
    check_dose,
    check_schedule,
    plan_titration,
    protocol_in_force,
    set_translator,
)

ROOT = Path(__file__).resolve().parents[2]
D = date

BEFORE = "BEFORE_PROTOCOL"
INVALID = "INVALID_DOSE"
MAX = "MAX_DOSE_EXCEEDED"
SECOND = "SECOND_OPINION_REQUIRED"
COLLEGIAL = "COLLEGIAL_OPINION_REQUIRED"
MULTI = "MULTIDISCIPLINARY_CARE_REQUIRED"
START = "STARTING_DOSE_TOO_HIGH"
LARGE = "STEP_TOO_LARGE"
SOON = "STEP_TOO_SOON"
TAPER = "TAPER_TOO_FAST"

IN_2014 = D(2015, 1, 10)  # a date under the 2014 version
IN_2017 = D(2019, 6, 3)
IN_2021 = D(2023, 2, 6)


@pytest.fixture(autouse=True)
def _english_source_text() -> Iterator[None]:
    """Every test starts and ends with the identity translator."""
    set_translator(None)
    yield
    set_translator(None)


def case(
    case_id: str,
    on: date,
    dose: int,
    expected: set[str],
    *,
    age: int = 40,
    prev: int | None = None,
    days_before: int | None = None,
    version: str | None = "auto",
    second: bool = False,
    collegial: bool = False,
    multi: bool = False,
    protocol: str | None = None,
):
    """One row of the table; `days_before` dates the previous dose relative to `on`."""
    previous_on = None if days_before is None else on - timedelta(days=days_before)
    kwargs = dict(
        on=on,
        dose_mg=dose,
        age=age,
        previous_dose_mg=prev,
        previous_on=previous_on,
        second_opinion=second,
        collegial_opinion=collegial,
        multidisciplinary_care=multi,
        protocol=protocol,
    )
    if version == "auto":
        version = protocol or (protocol_in_force(on).version if on >= RTU_START else "")
    return pytest.param(kwargs, expected, version, id=case_id)


TABLE = [
    # --- 2014: first doses ------------------------------------------------------------------
    case("2014 first 15", IN_2014, 15, set()),
    case("2014 first 10", IN_2014, 10, set()),
    case("2014 first 20 too high", IN_2014, 20, {START}),
    case("2014 first 25 too high", IN_2014, 25, {START}),
    case("2014 first 15 aged 66", IN_2014, 15, set(), age=66),
    # --- invalid doses ----------------------------------------------------------------------
    case("dose 7 invalid", IN_2014, 7, {INVALID}),
    case("dose 0 invalid", IN_2014, 0, {INVALID}),
    case("dose -5 invalid", IN_2014, -5, {INVALID}),
    case("dose 119 invalid", IN_2014, 119, {INVALID}, prev=115, days_before=2, second=True),
    case("2017 dose 123 invalid only", IN_2017, 123, {INVALID}),
    case("2021 dose 79 invalid", IN_2021, 79, {INVALID}, prev=75, days_before=3),
    case("2021 dose 81 invalid", IN_2021, 81, {INVALID}, prev=80, days_before=3),
    # --- 2014: second opinion 119/120 -------------------------------------------------------
    case("2014 115 no opinion", IN_2014, 115, set(), prev=110, days_before=2),
    case("2014 120 needs second", IN_2014, 120, {SECOND}, prev=110, days_before=3),
    case("2014 120 with second", IN_2014, 120, set(), prev=110, days_before=3, second=True),
    case("2014 180 second only", IN_2014, 180, set(), prev=170, days_before=2, second=True),
    # --- 2014: collegial 180/181, age 65/66 -------------------------------------------------
    case(
        "2014 185 needs collegial", IN_2014, 185, {COLLEGIAL}, prev=180, days_before=2, second=True
    ),
    case(
        "2014 185 with both",
        IN_2014,
        185,
        set(),
        prev=180,
        days_before=2,
        second=True,
        collegial=True,
    ),
    case("2014 180 unchanged", IN_2014, 180, set(), prev=180, days_before=0, second=True),
    case("2014 120 aged 65", IN_2014, 120, set(), age=65, prev=110, days_before=2, second=True),
    case(
        "2014 120 aged 66", IN_2014, 120, {COLLEGIAL}, age=66, prev=110, days_before=2, second=True
    ),
    case(
        "2014 120 aged 66 with both",
        IN_2014,
        120,
        set(),
        age=66,
        prev=110,
        days_before=2,
        second=True,
        collegial=True,
    ),
    case("2014 115 aged 66", IN_2014, 115, set(), age=66, prev=110, days_before=2),
    case("2014 120 aged 66 no opinion", IN_2014, 120, {SECOND, COLLEGIAL}, age=66, prev=115),
    case("2014 first 185 no opinion", IN_2014, 185, {SECOND, COLLEGIAL, START}),
    # --- 2014: maximum 300 ------------------------------------------------------------------
    case("2014 300", IN_2014, 300, set(), prev=290, days_before=2, second=True, collegial=True),
    case("2014 305", IN_2014, 305, {MAX}, prev=300, days_before=2, second=True, collegial=True),
    case(
        "2014 taper 310 to 305 no exception",
        IN_2014,
        305,
        {MAX},
        prev=310,
        days_before=2,
        second=True,
        collegial=True,
    ),
    case(
        "2014 taper 310 to 300",
        IN_2014,
        300,
        set(),
        prev=310,
        days_before=2,
        second=True,
        collegial=True,
    ),
    case("huge dose", IN_2014, 10**12, {MAX, SECOND, COLLEGIAL, START}),
    # --- 2014: titration steps --------------------------------------------------------------
    case("2014 +15 too large", IN_2014, 55, {LARGE}, prev=40, days_before=2),
    case("2014 +10 after 1 day", IN_2014, 50, {SOON}, prev=40, days_before=1),
    case("2014 +10 after 2 days", IN_2014, 50, set(), prev=40, days_before=2),
    case("2014 +20 after 1 day", IN_2014, 60, {LARGE, SOON}, prev=40, days_before=1),
    case("2014 +10 dated before previous", IN_2014, 50, {SOON}, prev=40, days_before=-2),
    case("2014 +10 no previous date", IN_2014, 50, set(), prev=40),
    case("2014 -15 after 2 days", IN_2014, 45, set(), prev=60, days_before=2),
    case("2014 -20 too fast", IN_2014, 40, {TAPER}, prev=60, days_before=2),
    case("2014 -15 after 1 day", IN_2014, 45, {TAPER}, prev=60, days_before=1),
    case("2014 -20 after 1 day", IN_2014, 40, {TAPER}, prev=60, days_before=1),
    case("2014 same dose same day", IN_2014, 60, set(), prev=60, days_before=0),
    case("previous dose 0 is a restart", IN_2014, 20, {START}, prev=0, days_before=5),
    case("previous date without dose", IN_2014, 15, set(), days_before=1),
    # --- version dates ----------------------------------------------------------------------
    case("2014-03-13 before RTU", D(2014, 3, 13), 15, {BEFORE}, version=""),
    case("2014-03-13 invalid too", D(2014, 3, 13), 12, {BEFORE, INVALID}, version=""),
    case("date.min", date.min, 15, {BEFORE}, version=""),
    case("2014-03-14 first day", D(2014, 3, 14), 15, set(), version="2014"),
    case(
        "2017-07-23 85 still 2014",
        D(2017, 7, 23),
        85,
        set(),
        prev=80,
        days_before=2,
        version="2014",
    ),  # fmt: skip
    case(
        "2017-07-24 85 over 2017 max",
        D(2017, 7, 24),
        85,
        {MAX},
        prev=80,
        days_before=2,
        version="2017",
    ),  # fmt: skip
    case(
        "2017-07-23 120 aged 66",
        D(2017, 7, 23),
        120,
        {COLLEGIAL},
        age=66,
        prev=110,
        days_before=2,
        second=True,
        version="2014",
    ),  # fmt: skip
    case("2021-11-17 first 20 (2017)", D(2021, 11, 17), 20, {START}, version="2017"),
    case("2021-11-18 first 20 (2021)", D(2021, 11, 18), 20, set(), version="2021"),
    case(
        "2021-11-17 85 (2017 max)",
        D(2021, 11, 17),
        85,
        {MAX},
        prev=80,
        days_before=3,
        version="2017",
    ),  # fmt: skip
    case(
        "2021-11-18 85 needs care",
        D(2021, 11, 18),
        85,
        {MULTI},
        prev=80,
        days_before=3,
        version="2021",
    ),  # fmt: skip
    case(
        "2021-11-18 +10 2 days after 2017 step",
        D(2021, 11, 18),
        50,
        {SOON},
        prev=40,
        days_before=2,
        version="2021",
    ),  # fmt: skip
    case("date.max", date.max, 15, set(), version="2021"),
    # --- 2017: maximum 80 and tapers above it -----------------------------------------------
    case("2017 79 invalid", IN_2017, 79, {INVALID}, prev=75, days_before=2),
    case("2017 80", IN_2017, 80, set(), prev=70, days_before=2),
    case("2017 80 from 75", IN_2017, 80, set(), prev=75, days_before=2),
    case("2017 81 invalid", IN_2017, 81, {INVALID}, prev=80, days_before=2),
    case("2017 85", IN_2017, 85, {MAX}, prev=80, days_before=2),
    case("2017 first 85", IN_2017, 85, {MAX, START}),
    case("2017 taper 100 to 85", IN_2017, 85, set(), prev=100, days_before=2),
    case("2017 taper 100 to 90 after 1 day", IN_2017, 90, {TAPER}, prev=100, days_before=1),
    case("2017 taper 100 to 80 too fast", IN_2017, 80, {TAPER}, prev=100, days_before=2),
    case("2017 85 unchanged", IN_2017, 85, {MAX}, prev=85, days_before=2),
    case("2017 90 to 95", IN_2017, 95, {MAX}, prev=90, days_before=2),
    case("2017 taper 130 to 115", IN_2017, 115, set(), prev=130, days_before=2),
    case("2017 taper 140 to 125 needs second", IN_2017, 125, {SECOND}, prev=140, days_before=2),
    case(
        "2017 taper 140 to 125 with second",
        IN_2017,
        125,
        set(),
        prev=140,
        days_before=2,
        second=True,
    ),  # fmt: skip
    case(
        "2017 taper 140 to 125 aged 66",
        IN_2017,
        125,
        {COLLEGIAL},
        age=66,
        prev=140,
        days_before=2,
        second=True,
    ),  # fmt: skip
    case(
        "2017 taper 200 to 185", IN_2017, 185, {COLLEGIAL}, prev=200, days_before=2, second=True
    ),  # fmt: skip
    case("2017 taper 80 to 75", IN_2017, 75, set(), prev=80, days_before=2),
    case("2017 taper 85 to 80", IN_2017, 80, set(), prev=85, days_before=2),
    case("2017-07-24 taper from a 2014 step", D(2017, 7, 24), 80, set(), prev=90, days_before=2),
    # --- 2021: multidisciplinary care, 300 ceiling, 3 days ----------------------------------
    case("2021 first 25", IN_2021, 25, {START}),
    case("2021 80", IN_2021, 80, set(), prev=70, days_before=3),
    case("2021 85 with care", IN_2021, 85, set(), prev=80, days_before=3, multi=True),
    case("2021 +10 after 2 days", IN_2021, 50, {SOON}, prev=40, days_before=2),
    case("2021 +10 after 3 days", IN_2021, 50, set(), prev=40, days_before=3),
    case(
        "2021 150 no second opinion rule", IN_2021, 150, set(), prev=140, days_before=3, multi=True
    ),  # fmt: skip
    case("2021 200 aged 70", IN_2021, 200, set(), age=70, prev=190, days_before=3, multi=True),
    case("2021 300", IN_2021, 300, set(), prev=290, days_before=3, multi=True),
    case("2021 305", IN_2021, 305, {MAX}, prev=300, days_before=3, multi=True),
    case("2021 taper 100 to 85 needs care", IN_2021, 85, {MULTI}, prev=100, days_before=2),
    case("2021 taper 100 to 80 too fast", IN_2021, 80, {TAPER}, prev=100, days_before=2),
    case(
        "2021 taper 100 to 85 after 2 days", IN_2021, 85, set(), prev=100, days_before=2, multi=True
    ),  # fmt: skip
    # --- a forced version -------------------------------------------------------------------
    case("forced 2017 before RTU", D(2010, 1, 1), 15, set(), protocol="2017"),
    case(
        "forced 2014 in 2020", D(2020, 1, 1), 100, set(), prev=90, days_before=2, protocol="2014"
    ),  # fmt: skip
    case("forced 2021 in 2015", D(2015, 1, 1), 20, set(), protocol="2021"),
]


def test_table_has_enough_cases() -> None:
    assert len(TABLE) >= 60


@pytest.mark.parametrize(("kwargs", "expected", "version"), TABLE)
def test_check_dose_table(kwargs: dict, expected: set[str], version: str) -> None:
    result = check_dose(**kwargs)
    assert set(result.codes) == expected
    assert len(result.codes) == len(expected), "a code appears at most once"
    blocking = {code for code in expected if rules.FINDING_SEVERITY[code] == "block"}
    assert result.allowed is (not blocking)
    assert result.protocol == version
    for finding in result.findings:
        assert finding.severity == rules.FINDING_SEVERITY[finding.code]
        assert finding.message and "%(" not in finding.message


# --- protocol table ----------------------------------------------------------------------------


def test_protocol_table_matches_the_issue() -> None:
    by_version = {p.version: p for p in PROTOCOLS}
    assert list(by_version) == ["2014", "2017", "2021"]
    p14, p17, p21 = by_version["2014"], by_version["2017"], by_version["2021"]
    assert (p14.in_force_from, p17.in_force_from, p21.in_force_from) == (
        D(2014, 3, 14),
        D(2017, 7, 24),
        D(2021, 11, 18),
    )
    assert [p.max_daily_dose_mg for p in PROTOCOLS] == [300, 80, 300]
    assert [p.highest_first_dose_mg for p in PROTOCOLS] == [15, 15, 20]
    assert [p.largest_increase_mg for p in PROTOCOLS] == [10, 10, 10]
    assert [p.fewest_days_between_increases for p in PROTOCOLS] == [2, 2, 3]
    assert [p.second_opinion_from_mg for p in PROTOCOLS] == [120, 120, None]
    assert [p.collegial_opinion_above_mg for p in PROTOCOLS] == [180, 180, None]
    assert [p.collegial_opinion_from_mg_if_over_65 for p in PROTOCOLS] == [120, 120, None]
    assert [p.multidisciplinary_care_above_mg for p in PROTOCOLS] == [None, None, 80]
    assert [p.largest_decrease_mg for p in PROTOCOLS] == [15, 15, 15]
    assert [p.fewest_days_between_decreases for p in PROTOCOLS] == [2, 2, 2]
    assert RTU_START == D(2014, 3, 14)
    assert FINDING_CODES == (
        BEFORE, INVALID, MAX, SECOND, COLLEGIAL, MULTI, START, LARGE, SOON, TAPER,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (D(2014, 3, 14), "2014"),
        (D(2017, 7, 23), "2014"),
        (D(2017, 7, 24), "2017"),
        (D(2021, 11, 17), "2017"),
        (D(2021, 11, 18), "2021"),
        (date.max, "2021"),
        (datetime(2017, 7, 24, 23, 59), "2017"),
    ],
)
def test_protocol_in_force(on: date, version: str) -> None:
    assert protocol_in_force(on).version == version


@pytest.mark.parametrize("on", [D(2014, 3, 13), date.min])
def test_no_protocol_before_the_rtu(on: date) -> None:
    with pytest.raises(ValueError, match="14/03/2014"):
        protocol_in_force(on)


def test_unknown_forced_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="2019"):
        check_dose(on=IN_2017, dose_mg=15, age=40, protocol="2019")


def test_a_datetime_is_judged_on_its_day() -> None:
    result = check_dose(
        on=datetime(2017, 7, 24, 8, 0),
        dose_mg=85,
        age=40,
        previous_dose_mg=80,
        previous_on=datetime(2017, 7, 22, 18, 0),
    )
    assert result.protocol == "2017"
    assert result.codes == (MAX,)


def test_a_clean_check_is_shared_and_has_no_findings() -> None:
    first = check_dose(on=IN_2014, dose_mg=15, age=40)
    again = check_dose(on=IN_2014 + timedelta(days=30), dose_mg=15, age=50)
    assert first == DoseCheck("2014", True, ())
    assert first is again


# --- messages ----------------------------------------------------------------------------------


def message(code: str, **kwargs: object) -> str:
    result = check_dose(**kwargs)  # type: ignore[arg-type]
    (text,) = [f.message for f in result.findings if f.code == code]
    return text


def test_max_dose_message_names_threshold_version_and_date() -> None:
    text = message(MAX, on=IN_2017, dose_mg=85, age=40, previous_dose_mg=80)
    assert text.startswith(
        "Above 80 mg/day, the 2017 protocol (in force since 24/07/2017) forbids this dose."
    )
    assert "may only be tapered" in text
    text = message(MAX, on=IN_2021, dose_mg=310, age=40, multidisciplinary_care=True)
    assert text.startswith("Above 300 mg/day, the 2021 protocol (in force since 18/11/2021)")


def test_opinion_messages_say_what_makes_the_dose_acceptable() -> None:
    text = message(SECOND, on=IN_2014, dose_mg=120, age=40, previous_dose_mg=110)
    assert "From 120 mg/day, the 2014 protocol (in force since 14/03/2014)" in text
    assert "Record the second opinion" in text
    text = message(COLLEGIAL, on=IN_2017, dose_mg=185, age=40, previous_dose_mg=200)
    assert "Above 180 mg/day, the 2017 protocol" in text
    assert "Record the collegial opinion of a CSAPA or hospital addiction team." in text
    text = message(COLLEGIAL, on=IN_2014, dose_mg=120, age=66, previous_dose_mg=110)
    assert "From 120 mg/day for a patient older than 65, the 2014 protocol" in text
    text = message(MULTI, on=IN_2021, dose_mg=90, age=40, previous_dose_mg=80)
    assert "Above 80 mg/day, the 2021 protocol (in force since 18/11/2021)" in text
    assert "Record the multidisciplinary care" in text


def test_titration_messages_give_the_figures() -> None:
    text = message(START, on=IN_2021, dose_mg=30, age=40)
    assert "at 20 mg/day at most; 30 mg/day" in text
    text = message(LARGE, on=IN_2014, dose_mg=60, age=40, previous_dose_mg=40)
    assert "An increase of 20 mg/day" in text and "10 mg/day" in text
    text = message(
        SOON,
        on=D(2021, 11, 18),
        dose_mg=50,
        age=40,
        previous_dose_mg=40,
        previous_on=D(2021, 11, 16),
    )
    assert "16/11/2021" in text and "at least 3 days" in text and "19/11/2021 or later" in text
    text = message(TAPER, on=IN_2017, dose_mg=40, age=40, previous_dose_mg=60, previous_on=IN_2017)
    assert "decrease of 20 mg/day" in text and "15 mg/day" in text and "2 days" in text
    text = message(BEFORE, on=D(2014, 3, 13), dose_mg=15, age=40)
    assert "14/03/2014" in text and "13/03/2014" in text
    text = message(INVALID, on=IN_2014, dose_mg=12, age=40)
    assert "12 mg/day" in text


def test_messages_never_fail_at_the_edges_of_the_calendar() -> None:
    result = check_dose(
        on=D(1, 1, 5), dose_mg=20, age=40, previous_dose_mg=10, previous_on=date.max,
        protocol="2021",
    )  # fmt: skip
    assert set(result.codes) == {SOON}
    assert "31/12/9999" in result.findings[0].message


def _parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a gettext catalogue (enough of the format for our files)."""
    entries: dict[str, str] = {}
    key: str | None = None
    current: list[str] = []
    msgid = ""

    def unquote(quoted: str) -> str:
        return quoted[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")

    def flush() -> None:
        nonlocal msgid
        if key == "msgid":
            msgid = "".join(current)
        elif key == "msgstr":
            entries[msgid] = "".join(current)

    for line in text.splitlines():
        match = re.match(r'^(msgid|msgstr) (".*")$', line)
        if match:
            flush()
            key, current = match.group(1), [unquote(match.group(2))]
        elif line.startswith('"') and key:
            current.append(unquote(line))
        else:
            flush()
            key, current = None, []
    flush()
    return entries


def _read_po(path: Path) -> dict[str, str]:
    return _parse_po(path.read_text(encoding="utf-8"))


FR_PO = ROOT / "prescriptions/locale/fr/LC_MESSAGES/django.po"
EN_PO = ROOT / "prescriptions/locale/en/LC_MESSAGES/django.po"


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_every_message_has_a_french_translation_with_the_same_placeholders() -> None:
    french = _read_po(FR_PO)
    assert "Language: fr" in french[""] and "plural=(n > 1)" in french[""]
    for template in MESSAGE_TEMPLATES:
        assert french.get(template), f"no French for {template!r}"
        assert placeholders(french[template]) == placeholders(template)
    english = _read_po(EN_PO)
    assert "Language: en" in english[""]
    assert set(MESSAGE_TEMPLATES) <= set(english)
    assert "#, python-format" in FR_PO.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext not installed")
def test_makemessages_extracts_every_template() -> None:
    """Django's makemessages runs xgettext with the keyword `_`: it must see every template."""
    source = ROOT / "prescriptions/rules.py"
    pot = subprocess.run(
        ["xgettext", "--language=Python", "--keyword=_", "--from-code=UTF-8", "-o", "-", source],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    extracted = set(_parse_po(pot)) - {""}
    assert extracted == set(MESSAGE_TEMPLATES)


def test_set_translator_translates_each_call_in_the_active_language() -> None:
    french = _read_po(FR_PO)
    args = dict(on=IN_2017, dose_mg=85, age=40, previous_dose_mg=80)
    english_text = check_dose(**args).findings[0].message  # type: ignore[arg-type]

    set_translator(lambda template: french.get(template) or template)
    french_text = check_dose(**args).findings[0].message  # type: ignore[arg-type]
    assert french_text.startswith(
        "Au-delà de 80 mg/j, le protocole de 2017 (en vigueur depuis le 24/07/2017) "
        "interdit cette dose."
    )
    taper = check_dose(on=IN_2017, dose_mg=40, age=40, previous_dose_mg=60, previous_on=IN_2017)
    assert "risque de syndrome de sevrage" in taper.findings[0].message

    set_translator(None)
    assert check_dose(**args).findings[0].message == english_text  # type: ignore[arg-type]

    set_translator(lambda template: "[xx] " + template)
    assert check_dose(**args).findings[0].message == "[xx] " + english_text  # type: ignore[arg-type]


def test_a_broken_translation_falls_back_to_the_source_text() -> None:
    args = dict(on=IN_2017, dose_mg=85, age=40, previous_dose_mg=70, previous_on=IN_2017)
    english = [f.message for f in check_dose(**args).findings]  # type: ignore[arg-type]
    set_translator(str.upper)  # %(THRESHOLD)s: a placeholder the rules do not provide
    assert [f.message for f in check_dose(**args).findings] == english  # type: ignore[arg-type]


# --- check_schedule ----------------------------------------------------------------------------


def test_schedule_of_a_clean_titration() -> None:
    steps = [(D(2015, 1, 1), 15), (D(2015, 1, 3), 20), (D(2015, 1, 5), 25), (D(2015, 1, 7), 30)]
    results = check_schedule(steps, age=40)
    assert [r.codes for r in results] == [(), (), (), ()]
    assert all(r.allowed and r.protocol == "2014" for r in results)


def test_schedule_checks_each_step_against_the_one_before() -> None:
    steps = [(D(2015, 1, 1), 20), (D(2015, 1, 2), 35), (D(2015, 1, 4), 15), (D(2015, 1, 6), 12)]
    results = check_schedule(steps, age=40)
    assert [set(r.codes) for r in results] == [{START}, {LARGE, SOON}, {TAPER}, {INVALID}]


def test_schedule_first_step_against_previous() -> None:
    steps = [(D(2015, 1, 3), 50)]
    assert check_schedule(steps, age=40, previous=(D(2015, 1, 1), 40))[0].codes == ()
    assert check_schedule(steps, age=40, previous=(D(2015, 1, 2), 40))[0].codes == (SOON,)
    assert check_schedule(steps, age=40)[0].codes == (START,)


def test_schedule_uses_the_version_of_each_step_date() -> None:
    steps = [
        (D(2017, 7, 20), 80),
        (D(2017, 7, 22), 90),  # 2014: allowed
        (D(2017, 7, 24), 90),  # 2017: unchanged dose above the cap
        (D(2017, 7, 26), 80),  # 2017: a taper step from above the cap
        (D(2021, 11, 18), 90),  # 2021: above 80 needs multidisciplinary care
    ]
    results = check_schedule(steps, age=40, previous=(D(2017, 7, 18), 70))
    assert [r.protocol for r in results] == ["2014", "2014", "2017", "2017", "2021"]
    assert [r.codes for r in results] == [(), (), (MAX,), (), (MULTI,)]
    with_care = check_schedule(steps, age=40, previous=(D(2017, 7, 18), 70),
                               multidisciplinary_care=True)  # fmt: skip
    assert with_care[-1].codes == ()


def test_schedule_passes_opinions_and_rejects_unknown_ones() -> None:
    steps = [(IN_2014, 120)]
    previous = (IN_2014 - timedelta(days=2), 110)
    assert check_schedule(steps, age=40, previous=previous)[0].codes == (SECOND,)
    assert check_schedule(steps, age=40, previous=previous, second_opinion=True)[0].allowed
    with pytest.raises(TypeError, match="second_opnion"):
        check_schedule(steps, age=40, second_opnion=True)


def test_empty_schedule() -> None:
    assert check_schedule([], age=40) == []


# --- plan_titration ----------------------------------------------------------------------------


def assert_clean(plan: list[tuple[date, int]], from_dose: int | None, age: int, **opinions):
    if from_dose is None:
        results = check_schedule(plan, age=age, **opinions)
    else:
        results = check_schedule(plan[1:], age=age, previous=plan[0], **opinions)
    assert [r.findings for r in results] == [()] * len(results)
    dates = [on for on, _ in plan]
    assert dates == sorted(set(dates)), "one step per day, in order"


def test_plan_from_nothing_in_2014() -> None:
    plan = plan_titration(start=D(2015, 1, 1), from_dose_mg=None, target_dose_mg=60, age=40)
    assert plan == [
        (D(2015, 1, 1), 15),
        (D(2015, 1, 3), 20),
        (D(2015, 1, 5), 25),
        (D(2015, 1, 7), 30),
        (D(2015, 1, 9), 40),
        (D(2015, 1, 11), 50),
        (D(2015, 1, 13), 60),
    ]
    assert_clean(plan, None, 40)


def test_plan_from_nothing_in_2021_starts_at_20_and_waits_3_days() -> None:
    plan = plan_titration(start=D(2022, 1, 1), from_dose_mg=None, target_dose_mg=45, age=40)
    assert plan == [
        (D(2022, 1, 1), 20),
        (D(2022, 1, 4), 25),
        (D(2022, 1, 7), 30),
        (D(2022, 1, 10), 40),
        (D(2022, 1, 13), 45),  # the last step is smaller: never overshoot
    ]
    assert_clean(plan, None, 40)


def test_plan_to_a_target_below_the_first_dose_starts_at_the_target() -> None:
    assert plan_titration(start=IN_2014, from_dose_mg=None, target_dose_mg=10, age=40) == [
        (IN_2014, 10)
    ]


def test_plan_from_a_dose() -> None:
    plan = plan_titration(start=D(2015, 1, 1), from_dose_mg=25, target_dose_mg=50, age=40)
    assert [dose for _, dose in plan] == [25, 30, 40, 50]
    assert_clean(plan, 25, 40)


def test_plan_to_the_current_dose() -> None:
    assert plan_titration(start=IN_2017, from_dose_mg=100, target_dose_mg=100, age=40) == [
        (IN_2017, 100)
    ]


def test_plan_decrease_by_15_then_the_remainder() -> None:
    plan = plan_titration(start=D(2019, 1, 1), from_dose_mg=80, target_dose_mg=30, age=40)
    assert plan == [
        (D(2019, 1, 1), 80),
        (D(2019, 1, 3), 65),
        (D(2019, 1, 5), 50),
        (D(2019, 1, 7), 35),
        (D(2019, 1, 9), 30),
    ]
    assert_clean(plan, 80, 40)


def test_plan_stop_tapers_down_to_5() -> None:
    plan = plan_titration(start=IN_2021, from_dose_mg=50, target_dose_mg=0, age=40)
    assert [dose for _, dose in plan] == [50, 35, 20, 5]
    assert_clean(plan, 50, 40)
    assert plan_titration(start=IN_2021, from_dose_mg=5, target_dose_mg=0, age=40) == [(IN_2021, 5)]
    with pytest.raises(ValueError, match="not on treatment"):
        plan_titration(start=IN_2021, from_dose_mg=None, target_dose_mg=0, age=40)


def test_plan_crossing_2017_follows_each_version() -> None:
    # Completed before the switch: 90 mg/day is lawful under 2014.
    plan = plan_titration(start=D(2017, 7, 16), from_dose_mg=60, target_dose_mg=90, age=40)
    assert plan[-1] == (D(2017, 7, 22), 90)
    assert_clean(plan, 60, 40)
    # The same target started later crosses 24/07/2017: the step to 90 on that day is refused.
    with pytest.raises(ValueError, match="80 mg/day, the 2017 protocol"):
        plan_titration(start=D(2017, 7, 18), from_dose_mg=60, target_dose_mg=90, age=40)
    # Tapering across the switch is lawful.
    plan = plan_titration(start=D(2017, 7, 20), from_dose_mg=110, target_dose_mg=80, age=40)
    assert plan == [(D(2017, 7, 20), 110), (D(2017, 7, 22), 95), (D(2017, 7, 24), 80)]
    assert [r.protocol for r in check_schedule(plan, age=40)] == ["2014", "2014", "2017"]
    assert_clean(plan, 110, 40)


def test_plan_crossing_2021_waits_3_days_from_the_switch() -> None:
    plan = plan_titration(start=D(2021, 11, 14), from_dose_mg=40, target_dose_mg=70, age=40)
    assert plan == [
        (D(2021, 11, 14), 40),
        (D(2021, 11, 16), 50),  # 2017: 2 days
        (D(2021, 11, 19), 60),  # 2021: 3 days, although the previous step was in 2017
        (D(2021, 11, 22), 70),
    ]
    assert_clean(plan, 40, 40)


def test_plan_above_80_in_2021_needs_multidisciplinary_care() -> None:
    with pytest.raises(ValueError, match="multidisciplinary care"):
        plan_titration(start=IN_2021, from_dose_mg=70, target_dose_mg=100, age=40)
    plan = plan_titration(
        start=IN_2021, from_dose_mg=70, target_dose_mg=100, age=40, multidisciplinary_care=True
    )
    assert_clean(plan, 70, 40, multidisciplinary_care=True)


def test_plan_to_120_in_2014_needs_opinions() -> None:
    with pytest.raises(ValueError, match="second opinion"):
        plan_titration(start=IN_2014, from_dose_mg=100, target_dose_mg=120, age=40)
    plan = plan_titration(
        start=IN_2014, from_dose_mg=100, target_dose_mg=120, age=40, second_opinion=True
    )
    assert_clean(plan, 100, 40, second_opinion=True)
    with pytest.raises(ValueError, match="collegial opinion"):
        plan_titration(
            start=IN_2014, from_dose_mg=100, target_dose_mg=120, age=70, second_opinion=True
        )


def test_mandatory_2017_taper_from_above_120_still_needs_the_opinions() -> None:
    # Thresholds apply whatever the direction: the steps at 135 and 120 need a second opinion.
    with pytest.raises(ValueError, match="second opinion"):
        plan_titration(start=IN_2017, from_dose_mg=150, target_dose_mg=80, age=40)
    plan = plan_titration(
        start=IN_2017, from_dose_mg=150, target_dose_mg=80, age=40, second_opinion=True
    )
    assert [dose for _, dose in plan] == [150, 135, 120, 105, 90, 80]
    assert_clean(plan, 150, 40, second_opinion=True)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        (dict(start=IN_2017, from_dose_mg=60, target_dose_mg=100), "80 mg/day"),
        (
            dict(start=IN_2021, from_dose_mg=290, target_dose_mg=310, multidisciplinary_care=True),
            "300 mg/day",
        ),  # fmt: skip
        (dict(start=IN_2014, from_dose_mg=None, target_dose_mg=32), "multiple of 5"),
        (dict(start=IN_2014, from_dose_mg=None, target_dose_mg=-5), "multiple of 5"),
        (dict(start=IN_2014, from_dose_mg=12, target_dose_mg=30), "current dose"),
        (dict(start=IN_2014, from_dose_mg=0, target_dose_mg=30), "current dose"),
        (dict(start=D(2014, 3, 13), from_dose_mg=None, target_dose_mg=30), "14/03/2014"),
        (dict(start=IN_2017, from_dose_mg=10**9, target_dose_mg=0), "plausible"),
        (dict(start=D(9999, 12, 30), from_dose_mg=None, target_dose_mg=60), "date"),
    ],
)
def test_unreachable_targets_raise_with_the_reason(kwargs: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        plan_titration(age=40, **kwargs)


# --- properties --------------------------------------------------------------------------------

ANY_DAY = st.dates(min_value=D(2013, 1, 1), max_value=D(2027, 12, 31))
RTU_DAY = st.dates(min_value=RTU_START, max_value=D(2027, 12, 31))
AGES = st.integers(min_value=18, max_value=110)
DOSES = st.integers(min_value=-20, max_value=80).map(lambda n: n * 5) | st.integers(-50, 1000)
PREVIOUS = st.none() | st.integers(min_value=0, max_value=80).map(lambda n: n * 5)
OPINIONS = st.fixed_dictionaries(
    {
        "second_opinion": st.booleans(),
        "collegial_opinion": st.booleans(),
        "multidisciplinary_care": st.booleans(),
    }
)


@given(
    on=ANY_DAY,
    dose=DOSES,
    age=AGES,
    previous=PREVIOUS,
    gap=st.none() | st.integers(-5, 10),
    fewer=OPINIONS,
    extra=OPINIONS,
)
@settings(max_examples=400)
def test_adding_an_opinion_never_refuses_an_allowed_dose(
    on: date, dose: int, age: int, previous: int | None, gap: int | None, fewer: dict, extra: dict
) -> None:
    more = {key: fewer[key] or extra[key] for key in fewer}
    previous_on = None if gap is None else on - timedelta(days=gap)
    common = dict(on=on, dose_mg=dose, age=age, previous_dose_mg=previous, previous_on=previous_on)
    with_fewer = check_dose(**common, **fewer)  # type: ignore[arg-type]
    with_more = check_dose(**common, **more)  # type: ignore[arg-type]
    assert set(with_more.codes) <= set(with_fewer.codes)
    if with_fewer.allowed:
        assert with_more.allowed


@given(
    on=RTU_DAY,
    dose=st.integers(min_value=17, max_value=200).map(lambda n: n * 5),
    age=AGES,
    previous=PREVIOUS,
    opinions=OPINIONS,
)
@settings(max_examples=400)
def test_above_the_maximum_only_a_2017_taper_step_is_allowed(
    on: date, dose: int, age: int, previous: int | None, opinions: dict
) -> None:
    protocol = protocol_in_force(on)
    assume(dose > protocol.max_daily_dose_mg)
    result = check_dose(on=on, dose_mg=dose, age=age, previous_dose_mg=previous, **opinions)
    taper_2017 = protocol.version == "2017" and previous is not None and previous > 80
    taper_2017 = taper_2017 and dose < previous  # type: ignore[operator]
    if not taper_2017:
        assert not result.allowed
        assert MAX in result.codes
    else:
        assert MAX not in result.codes


@given(
    start=st.dates(min_value=RTU_START, max_value=D(2026, 12, 31)),
    from_dose=st.none() | st.integers(min_value=1, max_value=70).map(lambda n: n * 5),
    target=st.integers(min_value=0, max_value=70).map(lambda n: n * 5),
    age=AGES,
    opinions=OPINIONS,
)
@settings(max_examples=300)
def test_every_plan_checks_clean(
    start: date, from_dose: int | None, target: int, age: int, opinions: dict
) -> None:
    try:
        plan = plan_titration(
            start=start, from_dose_mg=from_dose, target_dose_mg=target, age=age, **opinions
        )
    except ValueError as error:
        assert str(error)
        return
    first = from_dose if from_dose is not None else plan[0][1]
    assert plan[0] == (start, first)
    if from_dose is None:
        assert first == min(protocol_in_force(start).highest_first_dose_mg, target)
    assert plan[-1][1] == (target or rules.LOWEST_STEP_MG)  # a stop tapers down to 5 mg/day
    assert_clean(plan, from_dose, age, **opinions)


@given(
    on=st.dates(),
    dose=st.integers(),
    age=st.integers(min_value=18, max_value=110) | st.integers(),
    previous=st.none() | st.integers(),
    previous_on=st.none() | st.dates(),
    opinions=OPINIONS,
    protocol=st.sampled_from([None, "2014", "2017", "2021"]),
)
@settings(max_examples=500)
def test_check_dose_never_raises(
    on: date,
    dose: int,
    age: int,
    previous: int | None,
    previous_on: date | None,
    opinions: dict,
    protocol: str | None,
) -> None:
    result = check_dose(
        on=on,
        dose_mg=dose,
        age=age,
        previous_dose_mg=previous,
        previous_on=previous_on,
        protocol=protocol,
        **opinions,
    )
    assert result.allowed is all(f.severity == "warn" for f in result.findings)
    assert set(result.codes) <= set(FINDING_CODES)
    assert all(f.message for f in result.findings)


@given(
    steps=st.lists(st.tuples(ANY_DAY, DOSES), max_size=12),
    previous=st.none() | st.tuples(ANY_DAY, DOSES),
    age=AGES,
    opinions=OPINIONS,
)
def test_schedule_is_check_dose_step_by_step(
    steps: list[tuple[date, int]], previous: tuple[date, int] | None, age: int, opinions: dict
) -> None:
    results = check_schedule(steps, age=age, previous=previous, **opinions)
    expected = []
    before = previous
    for on, dose in steps:
        expected.append(
            check_dose(
                on=on,
                dose_mg=dose,
                age=age,
                previous_dose_mg=None if before is None else before[1],
                previous_on=None if before is None else before[0],
                **opinions,
            )
        )
        before = (on, dose)
    assert results == expected
