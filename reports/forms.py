"""The report request form: a preset period or two dates, and the report's language."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prescriptions.rules import RTU_START

PRESET_ALL = "all"
PRESET_LAST_MONTH = "last_month"
PRESET_CUSTOM = "custom"


def _presets() -> list[tuple[str, str]]:
    today = timezone.localdate()
    years = [
        (f"year-{y}", _("Year %(year)s") % {"year": y})
        for y in range(today.year, RTU_START.year - 1, -1)
    ]
    return [
        (PRESET_ALL, _("Whole RTU (every patient)")),
        (PRESET_LAST_MONTH, _("Last month")),
        *years,
        (PRESET_CUSTOM, _("Dates below")),
    ]


class ReportRequestForm(forms.Form):
    preset = forms.ChoiceField(label=_("Period"), choices=_presets, initial=PRESET_ALL)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    language = forms.ChoiceField(
        label=_("Language of the PDF"),
        choices=[("fr", _("French")), ("en", _("English"))],
        initial="fr",
    )

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("preset")
        if preset == PRESET_ALL:
            data["date_from"] = data["date_to"] = None
        elif preset == PRESET_LAST_MONTH:
            last = timezone.localdate().replace(day=1) - timedelta(days=1)
            data["date_from"], data["date_to"] = last.replace(day=1), last
        elif preset and preset.startswith("year-"):
            year = int(preset.removeprefix("year-"))
            data["date_from"], data["date_to"] = date(year, 1, 1), date(year, 12, 31)
        elif preset == PRESET_CUSTOM:
            start, end = data.get("date_from"), data.get("date_to")
            if not start and not end and not self.errors:
                raise forms.ValidationError(_("Give at least one date, or choose a preset."))
            if start and end and start > end:
                self.add_error("date_to", _("The end of the period must not be before its start."))
        return data
