"""Forms parse and present; the rules of a valid case live in services.py (one place)."""

from datetime import date

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from prescriptions.rules import PROTOCOLS
from rtuportal.choices import (
    ActionTaken,
    Causality,
    OrganClass,
    Outcome,
    Region,
    SeriousnessCriterion,
)

from .models import AdverseEvent, DoseBand, ReactionTerm
from .selectors import CaseFilters

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(value: str) -> bool:
    return value == "yes"


def _blank(label) -> list[tuple[str, object]]:
    return [("", label)]


def term_choices(terms: list[ReactionTerm]) -> list:
    """Terms grouped by system organ class (optgroups), labelled in the current language."""
    english = (get_language() or "fr").startswith("en")
    groups: dict[str, list[tuple[str, str]]] = {}
    for term in sorted(terms, key=lambda t: (t.label_en if english else t.label_fr).casefold()):
        if not term.is_other:
            groups.setdefault(term.organ_class, []).append((term.code, term.label))
    choices: list = _blank(_("— choose the reaction —"))
    for organ_class, label in OrganClass.choices:
        if organ_class in groups:
            choices.append((label, groups[organ_class]))
    choices.extend((t.code, t.label) for t in terms if t.is_other)
    return choices


class AdverseEventForm(forms.Form):
    onset_date = forms.DateField(
        label=_("Onset date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    term = forms.ChoiceField(
        label=_("Reaction"),
        help_text=_("Type a few letters in the search box to narrow the list."),
    )
    reporter_term = forms.CharField(
        label=_("Reaction in your own words"),
        max_length=200,
        required=False,
        help_text=_("Required when the reaction is “other”."),
    )
    organ_class = forms.ChoiceField(
        label=_("System organ class (for “other”)"),
        choices=_blank(_("— as the reaction —")) + list(OrganClass.choices),
        required=False,
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    serious = forms.TypedChoiceField(
        label=_("Serious"), choices=YES_NO, coerce=_yes_no, widget=forms.RadioSelect
    )
    seriousness_criteria = forms.MultipleChoiceField(
        label=_("Seriousness criteria (ICH E2A)"),
        choices=SeriousnessCriterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # No pre-selected answer: a default would be recorded as the reporter's assessment.
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=_blank(_("— choose —")) + Outcome.choices
    )
    causality = forms.ChoiceField(
        label=_("Causality"), choices=_blank(_("— choose —")) + Causality.choices
    )
    action_taken = forms.ChoiceField(
        label=_("Action taken with baclofen"),
        choices=_blank(_("— choose —")) + ActionTaken.choices,
    )
    dechallenge = forms.ChoiceField(
        label=_("Dechallenge"),
        choices=AdverseEvent.Dechallenge.choices,
        initial=AdverseEvent.Dechallenge.UNKNOWN,
        help_text=_("Did the reaction abate when the dose was reduced or stopped?"),
    )
    rechallenge = forms.ChoiceField(
        label=_("Rechallenge"),
        choices=AdverseEvent.Dechallenge.choices,
        initial=AdverseEvent.Dechallenge.UNKNOWN,
        help_text=_("Did the reaction come back when the dose was raised again?"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.terms = {t.code: t for t in ReactionTerm.objects.filter(active=True)}
        self.fields["term"].choices = term_choices(list(self.terms.values()))

    def clean_term(self) -> ReactionTerm:
        return self.terms[self.cleaned_data["term"]]


class FollowUpForm(forms.Form):
    information = forms.CharField(
        label=_("New information"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    serious = forms.TypedChoiceField(
        label=_("Serious"), choices=YES_NO, coerce=_yes_no, widget=forms.RadioSelect
    )
    seriousness_criteria = forms.MultipleChoiceField(
        label=_("Seriousness criteria (ICH E2A)"),
        choices=SeriousnessCriterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    causality = forms.ChoiceField(label=_("Causality"), choices=Causality.choices)
    action_taken = forms.ChoiceField(
        label=_("Action taken with baclofen"), choices=ActionTaken.choices
    )
    dechallenge = forms.ChoiceField(
        label=_("Dechallenge"), choices=AdverseEvent.Dechallenge.choices
    )
    rechallenge = forms.ChoiceField(
        label=_("Rechallenge"), choices=AdverseEvent.Dechallenge.choices
    )

    @classmethod
    def initial_for(cls, case: AdverseEvent) -> dict:
        return {
            "outcome": case.outcome,
            "serious": "yes" if case.serious else "no",
            "seriousness_criteria": case.seriousness_criteria,
            "causality": case.causality,
            "action_taken": case.action_taken,
            "dechallenge": case.dechallenge,
            "rechallenge": case.rechallenge,
        }


class CaseFilterForm(forms.Form):
    """GET filters of the agency's case list (also used by the CSV and the batch E2B)."""

    received_from = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        label=_("Received until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    serious = forms.ChoiceField(
        label=_("Seriousness"),
        required=False,
        choices=_blank(_("All")) + [("yes", _("Serious")), ("no", _("Non-serious"))],
    )
    organ_class = forms.ChoiceField(
        label=_("System organ class"), required=False, choices=_blank(_("All")) + OrganClass.choices
    )
    term = forms.ChoiceField(label=_("Reaction"), required=False)
    causality = forms.ChoiceField(
        label=_("Causality"), required=False, choices=_blank(_("All")) + Causality.choices
    )
    region = forms.ChoiceField(
        label=_("Region"), required=False, choices=_blank(_("All")) + Region.choices
    )
    protocol_version = forms.ChoiceField(
        label=_("Protocol version"),
        required=False,
        choices=_blank(_("All")) + [(p.version, p.version) for p in PROTOCOLS],
    )
    dose_band = forms.ChoiceField(
        label=_("Dose at onset"), required=False, choices=_blank(_("All")) + DoseBand.choices
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        english = (get_language() or "fr").startswith("en")
        terms = ReactionTerm.objects.order_by("label_en" if english else "label_fr")
        self.fields["term"].choices = _blank(_("All")) + [(t.code, t.label) for t in terms]

    def filters(self, *, today: date) -> CaseFilters:
        """The filters to apply; call after is_valid() (invalid fields are ignored)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        serious = data.get("serious") or ""
        return CaseFilters(
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            serious=None if not serious else serious == "yes",
            organ_class=data.get("organ_class") or "",
            term=data.get("term") or "",
            causality=data.get("causality") or "",
            region=data.get("region") or "",
            protocol_version=data.get("protocol_version") or "",
            dose_band=data.get("dose_band") or "",
            overdue_only=bool(data.get("overdue")),
            today=today,
        )
