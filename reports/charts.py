"""Bar charts drawn as SVG on the server: the same markup in the PDF and on the page (no JS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1f4e8c", "#e07b39", "#5a9e4b", "#8c3d8c", "#b8b8b8")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    decimals: int = 1,
    markers: dict[int, str] | None = None,
    decimal_separator: str = ",",
    width: int = 640,
) -> SafeString:
    """A horizontal bar chart, one group of bars per category, one bar per series.

    Negative values extend to the left of the zero line. `markers` draws a dashed line just
    above the category of that index with a label (e.g. a protocol threshold between bands).
    None values are drawn as "–" without a bar.
    """
    markers = markers or {}
    label_width = 210
    value_width = 70
    bar_height = 14
    gap = 4
    group_gap = 10
    top = 34 if len(series) > 1 else 26
    plot_left = label_width
    plot_width = width - label_width - value_width
    per_group = len(series) * (bar_height + gap) - gap
    marker_space = 14
    height = top + len(categories) * (per_group + group_gap) + marker_space * len(markers) + 8

    values = [v for s in series for v in s.values if v is not None]
    low = min([0.0, *values])
    high = max([0.0, *values])
    if high == low:
        high = low + 1.0
    scale = plot_width / (high - low)
    zero_x = plot_left + (0 - low) * scale

    def fmt(value: float) -> str:
        text = _number(value, decimals)
        if decimal_separator != ".":
            text = text.replace(".", decimal_separator)
        return f"{text}{unit}"

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-size="13" font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    if len(series) > 1:
        x = plot_left
        for index, s in enumerate(series):
            colour = PALETTE[index % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="20" width="10" height="10" fill="{colour}"/>')
            parts.append(
                f'<text x="{x + 14}" y="29" font-size="10" fill="#222">{escape(s.name)}</text>'
            )
            x += 24 + 6 * len(s.name)
    y = top
    for index, category in enumerate(categories):
        if index in markers:
            # Extra room above the category: the dashed line, its label above it on the right.
            y += marker_space
            line_y = y - group_gap / 2
            parts.append(
                f'<line x1="{plot_left}" y1="{line_y}" x2="{plot_left + plot_width}" '
                f'y2="{line_y}" stroke="#c0392b" stroke-dasharray="4 3"/>'
            )
            parts.append(
                f'<text x="{plot_left + plot_width + value_width - 2}" y="{line_y - 2}" '
                f'font-size="9" text-anchor="end" fill="#c0392b">{escape(markers[index])}</text>'
            )
        parts.append(
            f'<text x="{label_width - 6}" y="{y + per_group / 2 + 4}" font-size="10" '
            f'text-anchor="end" fill="#222">{escape(category)}</text>'
        )
        for s_index, s in enumerate(series):
            value = s.values[index]
            bar_y = y + s_index * (bar_height + gap)
            colour = PALETTE[s_index % len(PALETTE)]
            if value is None:
                parts.append(
                    f'<text x="{zero_x + 4}" y="{bar_y + bar_height - 3}" font-size="10" '
                    f'fill="#555">–</text>'
                )
                continue
            x_end = zero_x + value * scale
            x0, x1 = sorted((zero_x, x_end))
            parts.append(
                f'<rect x="{x0:.1f}" y="{bar_y}" width="{max(x1 - x0, 0.5):.1f}" '
                f'height="{bar_height}" fill="{colour}"/>'
            )
            # Negative bars end on the left: their figure goes right of the zero line.
            text_x = x1 + 4
            anchor = "start"
            parts.append(
                f'<text x="{text_x:.1f}" y="{bar_y + bar_height - 3}" font-size="10" '
                f'text-anchor="{anchor}" fill="#222">{escape(fmt(value))}</text>'
            )
        y += per_group + group_gap
    parts.append(
        f'<line x1="{zero_x:.1f}" y1="{top - 4}" x2="{zero_x:.1f}" y2="{height - 6}" '
        f'stroke="#444" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
