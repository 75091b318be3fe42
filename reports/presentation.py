"""The summary laid out as the 2015 interim summary: table rows, charts, CSV rows.

Shared by the report page, the PDF and the CSV download so that the three show the same figures
under the same labels. Call the functions inside the report's language (translation.override).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from rtuportal.choices import OrganClass, Specialty

from .charts import Series, bar_chart
from .statistics import BLOCKING_CODES, FINDING_CODES

# The agency's interim summary (press conference of 20 March 2015), by summary key path.
PUBLISHED: dict[str, float] = {
    "patients": 5928,
    "prescribers": 679,
    "prescribers_by_specialty_pct.general_practice": 45,
    "prescribers_by_specialty_pct.addiction": 32,
    "prescribers_by_specialty_pct.psychiatry": 13,
    "prescribers_by_specialty_pct.other": 10,
    "men_pct": 70,
    "mean_age": 48,
    "initiation_pct": 39,
    "reduction_among_initiation_pct": 65,
    "followed_up_pct": 57,
    "stopped_pct": 8,
    "consumption_change_g_per_day.initiation": -56,
    "consumption_change_g_per_day.pretreated": -15,
    "abstinent_at_inclusion_pct.initiation": 12,
    "abstinent_at_last_visit_pct.initiation": 32,
    "abstinent_at_last_visit_pct.pretreated": 46,
    "craving_improved_pct.initiation": 74,
    "craving_improved_pct.pretreated": 45,
    "adverse_event_pct.any": 14,
    "adverse_event_pct.possibly_related": 9,
    "adverse_event_pct.serious": 1.7,
    "adverse_event_pct.serious_possibly_related": 1.1,
    "organ_class_pct.nervous_system": 3.9,
    "term_pct.convulsion": 0.2,
    "organ_class_pct.psychiatric": 2.9,
    "term_pct.anxiety": 0.5,
    "term_pct.depression": 0.3,
    "term_pct.suicidal_ideation": 0.2,
}


def lookup(summary: dict[str, Any], path: str) -> Any:
    value: Any = summary
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def number(value: float | int | None, decimals: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and decimals == 0:
        return formats.number_format(value, 0, use_l10n=True, force_grouping=True)
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    value: str
    published: str
    unit: str
    level: int = 0  # 1 = indented under the row above
    section: str = ""


def _rows_spec() -> list[tuple[str, str, str, str, int]]:
    """(section, label, key, unit, level) in the order of the 2015 summary."""
    return [
        (_("Cohort"), _("Patients registered"), "patients", "", 0),
        (_("Cohort"), _("Prescribers who registered patients"), "prescribers", "", 0),
        *[
            (_("Cohort"), str(label), f"prescribers_by_specialty_pct.{value}", "%", 1)
            for value, label in Specialty.choices
        ],
        (_("Cohort"), _("Men"), "men_pct", "%", 0),
        (_("Cohort"), _("Mean age at inclusion (years)"), "mean_age", "", 0),
        (_("Cohort"), _("Starting treatment at inclusion (initiation)"), "initiation_pct", "%", 0),
        (
            _("Cohort"),
            _("Reduction of consumption, among initiations"),
            "reduction_among_initiation_pct",
            "%",
            1,
        ),
        (
            _("Follow-up"),
            _("Patients with at least one follow-up visit"),
            "followed_up_pct",
            "%",
            0,
        ),
        (_("Follow-up"), _("Stopped treatment, among those followed up"), "stopped_pct", "%", 0),
        (
            _("Outcomes"),
            _("Change in alcohol consumption, initiation (g/day)"),
            "consumption_change_g_per_day.initiation",
            "",
            0,
        ),
        (
            _("Outcomes"),
            _("Change in alcohol consumption, already treated (g/day)"),
            "consumption_change_g_per_day.pretreated",
            "",
            0,
        ),
        (
            _("Outcomes"),
            _("Abstinent at inclusion, initiation"),
            "abstinent_at_inclusion_pct.initiation",
            "%",
            0,
        ),
        (
            _("Outcomes"),
            _("Abstinent at inclusion, already treated"),
            "abstinent_at_inclusion_pct.pretreated",
            "%",
            0,
        ),
        (
            _("Outcomes"),
            _("Abstinent at the last visit, initiation"),
            "abstinent_at_last_visit_pct.initiation",
            "%",
            0,
        ),
        (
            _("Outcomes"),
            _("Abstinent at the last visit, already treated"),
            "abstinent_at_last_visit_pct.pretreated",
            "%",
            0,
        ),
        (
            _("Outcomes"),
            _("Craving improved, initiation"),
            "craving_improved_pct.initiation",
            "%",
            0,
        ),
        (
            _("Outcomes"),
            _("Craving improved, already treated"),
            "craving_improved_pct.pretreated",
            "%",
            0,
        ),
        (_("Safety"), _("At least one adverse event"), "adverse_event_pct.any", "%", 0),
        (
            _("Safety"),
            _("At least one adverse event possibly related to baclofen"),
            "adverse_event_pct.possibly_related",
            "%",
            0,
        ),
        (_("Safety"), _("At least one serious adverse event"), "adverse_event_pct.serious", "%", 0),
        (
            _("Safety"),
            _("At least one serious adverse event possibly related"),
            "adverse_event_pct.serious_possibly_related",
            "%",
            0,
        ),
        (
            _("Safety"),
            str(OrganClass.NERVOUS_SYSTEM.label),
            "organ_class_pct.nervous_system",
            "%",
            0,
        ),
        (_("Safety"), _("Convulsions"), "term_pct.convulsion", "%", 1),
        (_("Safety"), str(OrganClass.PSYCHIATRIC.label), "organ_class_pct.psychiatric", "%", 0),
        (_("Safety"), _("Anxiety"), "term_pct.anxiety", "%", 1),
        (_("Safety"), _("Major depression"), "term_pct.depression", "%", 1),
        (_("Safety"), _("Suicidal ideation"), "term_pct.suicidal_ideation", "%", 1),
    ]


def is_whole_cohort(summary: dict[str, Any]) -> bool:
    period = summary.get("period") or {}
    return not period.get("from") and not period.get("to")


def summary_rows(summary: dict[str, Any], *, with_published: bool | None = None) -> list[Row]:
    """The summary table; the published 2015 figure beside each row for the whole cohort."""
    if with_published is None:
        with_published = is_whole_cohort(summary)
    rows = []
    for section, label, key, unit, level in _rows_spec():
        raw = lookup(summary, key)
        if key.startswith("term_pct.") and raw is None and summary.get("followed_up"):
            raw = 0.0  # a term nobody had: 0 % of the followed-up patients
        decimals = 0 if key in ("patients", "prescribers") else 1
        value = number(raw, decimals)
        if key == "followed_up_pct":
            value = f"{value} % ({number(summary.get('followed_up'), 0)})"
            unit = ""
        elif key == "stopped_pct":
            value = f"{number(summary.get('stopped'), 0)} ({value} %)"
            unit = ""
        published = ""
        if with_published and key in PUBLISHED:
            published = number(PUBLISHED[key], 0 if PUBLISHED[key] == int(PUBLISHED[key]) else 1)
            if unit == "%" or key in ("followed_up_pct", "stopped_pct"):
                published += " %"
        rows.append(Row(label, key, value, published, unit, level, section))
    return rows


def sections(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    grouped: list[tuple[str, list[Row]]] = []
    for row in rows:
        if not grouped or grouped[-1][0] != row.section:
            grouped.append((row.section, []))
        grouped[-1][1].append(row)
    return grouped


def finding_label(code: str) -> str:
    labels = {
        "BEFORE_PROTOCOL": _("Before the RTU"),
        "INVALID_DOSE": _("Invalid dose"),
        "MAX_DOSE_EXCEEDED": _("Maximum dose exceeded"),
        "SECOND_OPINION_REQUIRED": _("Second opinion missing"),
        "COLLEGIAL_OPINION_REQUIRED": _("Collegial opinion missing"),
        "MULTIDISCIPLINARY_CARE_REQUIRED": _("Multidisciplinary care missing"),
        "STARTING_DOSE_TOO_HIGH": _("Starting dose too high"),
        "STEP_TOO_LARGE": _("Increase too large"),
        "STEP_TOO_SOON": _("Increase too soon"),
        "TAPER_TOO_FAST": _("Taper too fast"),
    }
    return labels[code]


def version_label(version: str) -> str:
    labels = {
        "2014": _("RTU 2014"),
        "2017": _("Amended RTU 2017"),
        "2021": _("Marketing authorisation 2021"),
        "before_rtu": _("Before the RTU"),
    }
    return labels.get(version, version)


def findings_table(summary: dict[str, Any]) -> dict[str, Any]:
    versions = summary.get("protocol_findings") or []
    return {
        "versions": [
            {
                "label": version_label(v["version"]),
                "steps": number(v["steps"], 0),
                "patients": number(v["patients"], 0),
                "blocking_steps": number(v["blocking_steps"], 0),
                "blocking_patients": number(v["blocking_patients"], 0),
            }
            for v in versions
        ],
        "codes": [
            {
                "label": finding_label(code),
                "blocking": code in BLOCKING_CODES,
                "counts": [number(v["findings"][code], 0) for v in versions],
            }
            for code in FINDING_CODES
        ],
    }


def charts(summary: dict[str, Any]) -> list[str]:
    """The report's charts as SVG, in the active language."""
    separator = "," if (get_language() or "fr").startswith("fr") else "."
    common = {"decimal_separator": separator}
    specialty = summary["prescribers_by_specialty_pct"]
    dose = summary["dose_distribution"]
    groups = (_("Initiation"), _("Already treated"))
    result = [
        bar_chart(
            [str(label) for _value, label in Specialty.choices],
            [Series(_("Prescribers"), [specialty[v] for v, _label in Specialty.choices])],
            title=_("Prescribers by specialty (%)"),
            unit=" %",
            **common,
        ),
        bar_chart(
            [
                f"{b['band']} mg/j" if separator == "," else f"{b['band']} mg/day"
                for b in dose["highest_dose_bands"]
            ],
            [Series(_("Patients"), [b["pct"] for b in dose["highest_dose_bands"]])],
            title=_("Highest daily dose reached, share of treated patients (%)"),
            unit=" %",
            markers={
                2: _("80 mg/day: 2017 maximum"),
                3: _("120 mg/day: second opinion"),
                4: _("> 180 mg/day: collegial opinion"),
                5: _("300 mg/day: maximum"),
            },
            **common,
        ),
        bar_chart(
            list(groups),
            [
                Series(
                    _("Change in consumption (g/day)"),
                    [
                        summary["consumption_change_g_per_day"]["initiation"],
                        summary["consumption_change_g_per_day"]["pretreated"],
                    ],
                )
            ],
            title=_("Change in alcohol consumption, inclusion to last visit (g/day)"),
            **common,
        ),
        bar_chart(
            [_("Abstinent at inclusion"), _("Abstinent at the last visit"), _("Craving improved")],
            [
                Series(
                    groups[0],
                    [
                        summary["abstinent_at_inclusion_pct"]["initiation"],
                        summary["abstinent_at_last_visit_pct"]["initiation"],
                        summary["craving_improved_pct"]["initiation"],
                    ],
                ),
                Series(
                    groups[1],
                    [
                        summary["abstinent_at_inclusion_pct"]["pretreated"],
                        summary["abstinent_at_last_visit_pct"]["pretreated"],
                        summary["craving_improved_pct"]["pretreated"],
                    ],
                ),
            ],
            title=_("Abstinence and craving by group (% of followed-up patients)"),
            unit=" %",
            **common,
        ),
        bar_chart(
            [str(label) for _value, label in OrganClass.choices],
            [
                Series(
                    _("Patients"),
                    [summary["organ_class_pct"].get(v) for v, _l in OrganClass.choices],
                )
            ],
            title=_("Adverse events by system organ class (% of followed-up patients)"),
            unit=" %",
            **common,
        ),
        bar_chart(
            [
                f"{b['band']} mg/j" if separator == "," else f"{b['band']} mg/day"
                for b in summary["adverse_events_by_dose_band"]["bands"]
            ],
            [
                Series(
                    _("All cases"),
                    [b["cases"] for b in summary["adverse_events_by_dose_band"]["bands"]],
                ),
                Series(
                    _("Serious cases"),
                    [b["serious"] for b in summary["adverse_events_by_dose_band"]["bands"]],
                ),
            ],
            title=_("Adverse events by daily dose at onset (cases)"),
            decimals=0,
            **common,
        ),
    ]
    versions = summary.get("protocol_findings") or []
    if versions:
        result.append(
            bar_chart(
                [finding_label(code) for code in FINDING_CODES],
                [
                    Series(version_label(v["version"]), [v["findings"][c] for c in FINDING_CODES])
                    for v in versions
                ],
                title=_("Protocol findings per version (dose steps)"),
                decimals=0,
                **common,
            )
        )
    return result


def csv_rows(summary: dict[str, Any]) -> Iterator[list[str]]:
    """Every leaf of the summary as (key, value) rows, plus the table rows with labels."""

    def walk(prefix: str, value: Any) -> Iterator[list[str]]:
        if isinstance(value, dict):
            for key, child in value.items():
                yield from walk(f"{prefix}.{key}" if prefix else str(key), child)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from walk(f"{prefix}[{index}]", child)
        else:
            yield [prefix, "" if value is None else str(value)]

    yield ["key", "value"]
    yield from walk("", summary)
