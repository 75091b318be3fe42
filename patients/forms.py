"""Inclusion form: field names are a stable contract (DESIGN.md)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from rtuportal.choices import (
    Contraindication,
    FailedTreatment,
    Indication,
    Precaution,
    Sex,
    TreatmentStatus,
)

NO_FAILED_TREATMENT = "none"
GRAMS_PER_DRINK = 10

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        help_text=help_text,
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class InclusionForm(forms.Form):
    """Everything the inclusion asks; the domain checks live in patients.services."""

    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_year = forms.IntegerField(
        label=_("Birth year"), help_text=_("The year only: the full birth date is never stored.")
    )
    inclusion_date = forms.DateField(label=_("Inclusion date"), widget=DateInput)
    indication = forms.ChoiceField(
        label=_("Indication"), choices=Indication.choices, widget=forms.RadioSelect
    )
    treatment_status = forms.ChoiceField(
        label=_("Treatment status"), choices=TreatmentStatus.choices, widget=forms.RadioSelect
    )
    current_dose_mg = forms.IntegerField(
        label=_("Current daily dose (mg/day)"),
        required=False,
        help_text=_("Only for a patient already treated with baclofen before inclusion."),
    )
    failed_treatments = forms.MultipleChoiceField(
        label=_("Previous treatments tried and failed"),
        choices=[*FailedTreatment.choices, (NO_FAILED_TREATMENT, _("None"))],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    alcohol_g_per_day = forms.IntegerField(
        label=_("Alcohol consumption (g/day)"),
        required=False,
        help_text=_("Or give the number of standard drinks per day (1 drink = 10 g)."),
    )
    alcohol_drinks_per_day = forms.DecimalField(
        label=_("Standard drinks per day"),
        required=False,
        max_digits=5,
        decimal_places=1,
        min_value=Decimal(0),
    )
    craving = forms.IntegerField(label=_("Craving (0-10)"))
    abstinent = _yes_no(_("Abstinent"))
    psychosocial_care = _yes_no(_("Psycho-social care in place"))
    informed_of_rtu = forms.BooleanField(
        label=_("The patient has been informed of the RTU conditions"), required=False
    )
    contraindications = forms.MultipleChoiceField(
        label=_("Contraindications"),
        choices=Contraindication.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Any contraindication refuses the inclusion."),
    )
    precautions = forms.MultipleChoiceField(
        label=_("Precautions"),
        choices=Precaution.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Inclusion is allowed; the patient is flagged and the rules take them into "
            "account. Age over 65 is flagged from the birth year."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_year"].widget.attrs.update({"inputmode": "numeric", "min": 1900})
        self.fields["craving"].widget.attrs.update({"min": 0, "max": 10})
        self.fields["alcohol_g_per_day"].widget.attrs.update(
            {"min": 0, "max": 1000, "class": "js-grams"}
        )
        self.fields["alcohol_drinks_per_day"].widget.attrs.update(
            {"min": 0, "step": "0.5", "class": "js-drinks"}
        )

    def clean_failed_treatments(self) -> list[str]:
        values = self.cleaned_data["failed_treatments"]
        if NO_FAILED_TREATMENT in values and len(values) > 1:
            raise forms.ValidationError(
                _("Tick either “None” or the treatments that failed, not both.")
            )
        return [v for v in values if v != NO_FAILED_TREATMENT]

    def clean(self):
        data = super().clean()
        grams = data.get("alcohol_g_per_day")
        drinks = data.get("alcohol_drinks_per_day")
        if grams is None and drinks is not None:
            data["alcohol_g_per_day"] = int(
                (drinks * GRAMS_PER_DRINK).to_integral_value(rounding="ROUND_HALF_UP")
            )
        elif grams is None and "alcohol_g_per_day" not in self.errors:
            self.add_error(
                "alcohol_g_per_day",
                _("Give the consumption in grams per day or in standard drinks per day."),
            )
        if data.get("treatment_status") != TreatmentStatus.PRETREATED:
            data["current_dose_mg"] = None
        return data


class PatientSearchForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("All")),
        ("titration", _("In titration")),
        ("stable", _("Stable dose")),
        ("stopped", _("Stopped")),
        ("overdue", _("Visit overdue")),
    ]
    SORT_CHOICES = [
        ("next_due", _("Next visit due")),
        ("-inclusion_date", _("Most recent inclusion")),
        ("inclusion_date", _("Oldest inclusion")),
        ("code", _("Code")),
        ("-latest_dose_mg", _("Highest dose")),
    ]
    q = forms.CharField(label=_("Patient code"), required=False, max_length=20)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_CHOICES, required=False)


class TransferForm(forms.Form):
    from_prescriber = forms.ModelChoiceField(label=_("Departing prescriber"), queryset=None)
    to_prescriber = forms.ModelChoiceField(label=_("New prescriber"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import User

        prescribers = User.objects.filter(role="prescriber").order_by("email")
        self.fields["from_prescriber"].queryset = prescribers
        self.fields["to_prescriber"].queryset = prescribers.filter(is_active=True)

    def clean(self):
        data = super().clean()
        if data.get("from_prescriber") and data.get("from_prescriber") == data.get("to_prescriber"):
            self.add_error("to_prescriber", _("Choose another prescriber than the departing one."))
        return data
