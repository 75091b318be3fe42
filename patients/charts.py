"""Server-side SVG charts of the patient page: no script, no CDN, the same in the PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# The protocol thresholds drawn on the dose chart (mg/day): 2017 cap / 2021 multidisciplinary
# care, second opinion, collegial opinion, absolute maximum.
THRESHOLDS_MG = (80, 120, 180, 300)
DOSE_AXIS_MAX_MG = 320

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 16, 32


def _x_scale(first: date, last: date):
    span = max((last - first).days, 1)
    inner = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + inner * (day - first).days / span, 1)

    return x


def _y_scale(maximum: float):
    inner = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + inner * (1 - value / maximum), 1)

    return y


def _date_ticks(first: date, last: date, x) -> list[str]:
    parts = []
    count = 5
    span = max((last - first).days, 1)
    for i in range(count + 1):
        day = first + timedelta(days=round(span * i / count))
        parts.append(
            f'<text x="{x(day)}" y="{HEIGHT - 10}" font-size="11" text-anchor="middle" '
            f'fill="#495057">{day.strftime("%d/%m/%y")}</text>'
        )
    return parts


def _frame(title: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated text is escaped or numeric
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="#fff" stroke="#ced4da"/>'
        + "".join(body)
        + "</svg>"
    )


def dose_chart(steps: Sequence[tuple[date, int]], *, today: date) -> SafeString:
    """Daily dose over time as a step line, with the protocol thresholds drawn."""
    title = _("Daily dose over time (mg/day), with the protocol thresholds")
    if not steps:
        empty = _("No dose recorded yet")
        return _frame(
            title,
            [
                f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#6c757d">'
                f"{escape(empty)}</text>"
            ],
        )
    first = steps[0][0]
    last = max(steps[-1][0], min(today, steps[-1][0] + timedelta(days=28)), first + timedelta(1))
    x = _x_scale(first, last)
    y = _y_scale(DOSE_AXIS_MAX_MG)
    body = []
    for threshold in THRESHOLDS_MG:
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(threshold)}" y2="{y(threshold)}" '
            f'stroke="#dc3545" stroke-dasharray="4 3" stroke-width="1"/>'
            f'<text x="{WIDTH - RIGHT + 4}" y="{y(threshold) + 4}" font-size="11" '
            f'fill="#b02a37">{threshold}</text>'
        )
    for tick in (0, 100, 200, 300):
        body.append(
            f'<text x="{LEFT - 6}" y="{y(tick) + 4}" font-size="11" text-anchor="end" '
            f'fill="#495057">{tick}</text>'
        )
    points = []
    previous_dose = None
    for on, dose in steps:
        if previous_dose is not None:
            points.append(f"{x(on)},{y(previous_dose)}")
        points.append(f"{x(on)},{y(dose)}")
        previous_dose = dose
    points.append(f"{x(last)},{y(previous_dose)}")
    body.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#0d6efd" stroke-width="2"/>'
    )
    for on, dose in steps:
        tip = _("%(date)s: %(dose)s mg/day") % {"date": on.strftime("%d/%m/%Y"), "dose": dose}
        body.append(
            f'<circle cx="{x(on)}" cy="{y(dose)}" r="2.5" fill="#0d6efd">'
            f"<title>{tip}</title></circle>"
        )
    body.extend(_date_ticks(first, last, x))
    return _frame(title, body)


def outcome_chart(points: Sequence[tuple[date, int, int]]) -> SafeString:
    """Alcohol consumption (g/day, left axis) and craving (0-10, right axis) over time."""
    title = _("Alcohol consumption (g/day) and craving (0-10) over time")
    if not points:
        return _frame(title, [])
    first = points[0][0]
    last = max(points[-1][0], first + timedelta(days=1))
    x = _x_scale(first, last)
    top_grams = max(60, max(p[1] for p in points))
    top_grams = ((top_grams + 49) // 50) * 50
    y_grams = _y_scale(top_grams)
    y_craving = _y_scale(10)
    body = []
    for tick in (0, top_grams // 2, top_grams):
        body.append(
            f'<text x="{LEFT - 6}" y="{y_grams(tick) + 4}" font-size="11" text-anchor="end" '
            f'fill="#6f42c1">{tick}</text>'
        )
    for tick in (0, 5, 10):
        body.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{y_craving(tick) + 4}" font-size="11" '
            f'fill="#fd7e14">{tick}</text>'
        )
    grams = " ".join(f"{x(on)},{y_grams(g)}" for on, g, _c in points)
    craving = " ".join(f"{x(on)},{y_craving(c)}" for on, _g, c in points)
    body.append(f'<polyline points="{grams}" fill="none" stroke="#6f42c1" stroke-width="2"/>')
    body.append(
        f'<polyline points="{craving}" fill="none" stroke="#fd7e14" stroke-width="2" '
        f'stroke-dasharray="6 3"/>'
    )
    for on, g, c in points:
        body.append(f'<circle cx="{x(on)}" cy="{y_grams(g)}" r="3" fill="#6f42c1"/>')
        body.append(f'<circle cx="{x(on)}" cy="{y_craving(c)}" r="3" fill="#fd7e14"/>')
    legend_y = TOP + 14
    alcohol_label = _("alcohol (g/day)")
    craving_label = _("craving (0-10)")
    body.append(
        f'<text x="{LEFT + 8}" y="{legend_y}" font-size="11" fill="#6f42c1">'
        f"{escape(alcohol_label)}</text>"
        f'<text x="{LEFT + 160}" y="{legend_y}" font-size="11" fill="#fd7e14">'
        f"{escape(craving_label)}</text>"
    )
    body.extend(_date_ticks(first, last, x))
    return _frame(title, body)
