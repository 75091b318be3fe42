from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.utils.translation import gettext_lazy as _

from rtuportal.choices import PracticeSetting, Region, Specialty

from .models import PrescriberProfile
from .validators import validate_rpps


class LoginForm(AllauthLoginForm):
    """allauth's login form; the field keeps its name `login` (the e-mail address)."""


class PrescriberSignupForm(forms.Form):
    """Extra sign-up fields of a prescriber; allauth adds e-mail and passwords."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    rpps = forms.CharField(
        label=_("RPPS number"),
        max_length=11,
        min_length=11,
        validators=[validate_rpps],
        help_text=_("11 digits, printed on your CPS card."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    specialty = forms.ChoiceField(label=_("Specialty"), choices=Specialty.choices)
    practice_setting = forms.ChoiceField(
        label=_("Practice setting"), choices=PracticeSetting.choices
    )
    region = forms.ChoiceField(
        label=_("Region"),
        choices=[("", _("Choose your region"))] + Region.choices,
        help_text=_("Adverse events you report go to the pharmacovigilance centre of this region."),
    )

    field_order = [
        "email",
        "first_name",
        "last_name",
        "rpps",
        "specialty",
        "practice_setting",
        "region",
        "password1",
        "password2",
    ]

    def clean_rpps(self) -> str:
        rpps = self.cleaned_data["rpps"].strip()
        if PrescriberProfile.objects.filter(rpps=rpps).exists():
            raise forms.ValidationError(
                _(
                    "This RPPS number is already registered. If it is yours, contact the "
                    "portal's administrators."
                ),
                code="rpps_taken",
            )
        return rpps

    def signup(self, request, user) -> None:
        """Called by allauth inside the sign-up transaction, after the account is saved."""
        from .services import notify_admins_of_signup

        profile = PrescriberProfile(
            user=user,
            rpps=self.cleaned_data["rpps"],
            specialty=self.cleaned_data["specialty"],
            practice_setting=self.cleaned_data["practice_setting"],
            region=self.cleaned_data["region"],
        )
        profile.full_clean()
        profile.save()
        notify_admins_of_signup(user)
