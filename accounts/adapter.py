from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rtuportal.choices import Role


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up creates a pending prescriber; inactive accounts are told why they cannot log in."""

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        user = super().save_user(request, user, form, commit=False)
        user.role = Role.PRESCRIBER
        user.status = user.Status.PENDING
        user.is_active = False
        user.first_name = form.cleaned_data.get("first_name", "")
        user.last_name = form.cleaned_data.get("last_name", "")
        user._change_reason = "sign-up"
        if commit:
            user.save()
        return user

    def respond_user_inactive(self, request: HttpRequest, user) -> HttpResponse:
        return render(request, "account/account_inactive.html", {"inactive_user": user})
