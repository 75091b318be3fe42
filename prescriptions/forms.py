"""Visit and stop forms: field names are a stable contract (DESIGN.md)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from patients.forms import DateInput
from rtuportal.choices import StopReason


class VisitForm(forms.Form):
    visit_date = forms.DateField(label=_("Visit date"), widget=DateInput)
    daily_dose_mg = forms.IntegerField(
        label=_("Daily dose (mg/day)"), help_text=_("A multiple of 5 mg/day.")
    )
    dose_morning_mg = forms.IntegerField(label=_("Morning (mg)"), min_value=0, initial=0)
    dose_noon_mg = forms.IntegerField(label=_("Noon (mg)"), min_value=0, initial=0)
    dose_evening_mg = forms.IntegerField(label=_("Evening (mg)"), min_value=0, initial=0)
    dose_bedtime_mg = forms.IntegerField(label=_("Bedtime (mg)"), min_value=0, initial=0)
    alcohol_g_per_day = forms.IntegerField(
        label=_("Alcohol consumption (g/day)"), min_value=0, max_value=1000
    )
    craving = forms.IntegerField(label=_("Craving (0-10)"), min_value=0, max_value=10)
    abstinent = forms.TypedChoiceField(
        label=_("Abstinent"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    second_opinion = forms.BooleanField(label=_("Second opinion obtained"), required=False)
    second_opinion_date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    second_opinion_by = forms.CharField(label=_("By"), required=False, max_length=200)
    collegial_opinion = forms.BooleanField(label=_("Collegial opinion obtained"), required=False)
    collegial_opinion_date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    collegial_opinion_by = forms.CharField(label=_("By"), required=False, max_length=200)
    multidisciplinary_care = forms.BooleanField(
        label=_("Multidisciplinary care in place"), required=False
    )
    multidisciplinary_care_date = forms.DateField(
        label=_("Since"), required=False, widget=DateInput
    )
    multidisciplinary_care_by = forms.CharField(label=_("Team"), required=False, max_length=200)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    target_dose_mg = forms.IntegerField(
        label=_("Target dose (mg/day)"),
        required=False,
        min_value=5,
        max_value=300,
        help_text=_("Used by “Plan the titration” to fill the steps."),
    )
    acknowledge_warnings = forms.BooleanField(
        label=_("I have read the protocol warnings and confirm this prescription"),
        required=False,
    )

    def opinions(self) -> dict:
        names = [
            "second_opinion",
            "second_opinion_date",
            "second_opinion_by",
            "collegial_opinion",
            "collegial_opinion_date",
            "collegial_opinion_by",
            "multidisciplinary_care",
            "multidisciplinary_care_date",
            "multidisciplinary_care_by",
        ]
        return {name: self.cleaned_data.get(name) for name in names}

    def intakes(self) -> dict:
        return {
            name: self.cleaned_data.get(name) or 0
            for name in ("dose_morning_mg", "dose_noon_mg", "dose_evening_mg", "dose_bedtime_mg")
        }


class CorrectionForm(VisitForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the correction"), max_length=300)


class StepForm(forms.Form):
    start_date = forms.DateField(
        label=_("From"), required=False, widget=DateInput(attrs={"class": "form-control"})
    )
    daily_dose_mg = forms.IntegerField(
        label=_("Daily dose (mg/day)"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": 5, "min": 5}),
    )

    def clean(self):
        data = super().clean()
        has_date = data.get("start_date") is not None
        has_dose = data.get("daily_dose_mg") is not None
        if has_date != has_dose and not self.errors:
            raise forms.ValidationError(_("Give both the date and the dose of the step."))
        return data


MIN_STEP_ROWS = 6


def steps_from(formset) -> list:
    """The filled rows of a valid step formset, as (date, dose) in the order typed."""
    return [
        (f.cleaned_data["start_date"], f.cleaned_data["daily_dose_mg"])
        for f in formset.forms
        if f.cleaned_data.get("start_date") is not None
    ]


def step_formset(data=None, *, prefix: str = "steps", initial=None):
    """A formset showing at least MIN_STEP_ROWS rows (empty ones are ignored)."""
    initial = list(initial or [])
    formset_class = forms.formset_factory(
        StepForm, extra=max(MIN_STEP_ROWS - len(initial), 2), max_num=60, validate_max=True
    )
    return formset_class(data, prefix=prefix, initial=initial)


class StopForm(forms.Form):
    stop_date = forms.DateField(
        label=_("Stop date"), widget=DateInput, help_text=_("The first day without baclofen.")
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=StopReason.choices)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    taper_start = forms.DateField(
        label=_("Start the taper on"),
        required=False,
        widget=DateInput,
        help_text=_("Used by “Plan the taper” to fill the steps."),
    )
    acknowledge_warnings = forms.BooleanField(
        label=_("I have read the protocol warnings and confirm this stop"), required=False
    )


class RestartForm(forms.Form):
    restarted_on = forms.DateField(label=_("Restarted on"), widget=DateInput)
    note = forms.CharField(
        label=_("Reason for the restart"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
