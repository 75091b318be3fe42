import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import PrescriberProfile, User
from accounts.validators import rpps_with_check_digit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "new.doctor@example.fr",
    "first_name": "Claire",
    "last_name": "Martin",
    "rpps": "10000000009",
    "specialty": "addiction",
    "practice_setting": "csapa",
    "region": "84",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def test_signup_creates_a_pending_prescriber_who_is_told_to_wait(
    client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", SIGNUP, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [("/accounts/signup/received/", 302)]
    user = User.objects.get(email="new.doctor@example.fr")
    assert (user.role, user.status, user.is_active) == ("prescriber", "pending", False)
    profile = PrescriberProfile.objects.get(user=user)
    assert (profile.rpps, profile.region, profile.practice_setting) == (
        "10000000009",
        "84",
        "csapa",
    )
    assert "en attente de validation" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The admins learn that an account awaits them.
    assert [m.to for m in mail.outbox] == [[admin_user.email]]


def test_pending_account_cannot_log_in_and_is_told_why(client, pending):
    response = client.post(
        "/accounts/login/", {"login": pending.email, "password": PASSWORD}, follow=True
    )
    assert "_auth_user_id" not in client.session
    assert "en attente de validation" in response.content.decode()


def test_admin_approves_from_the_pending_page_and_the_prescriber_logs_in(
    client, admin_client, pending, django_capture_on_commit_callbacks
):
    page = admin_client.get(reverse("accounts:pending"))
    assert pending.email in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("accounts:approve", args=[pending.pk]), follow=True)
    assert response.status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.is_active) == ("approved", True)
    assert mail.outbox[-1].to == [pending.email]
    assert "approuvé" in mail.outbox[-1].body
    # The approval is in the account's history, with who did it.
    last = pending.history.first()
    assert last.status == "approved" and last.history_user_id is not None

    client.post("/accounts/login/", {"login": pending.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(pending.pk)


def test_rejection_tells_the_prescriber_and_keeps_them_out(
    client, admin_client, pending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("accounts:reject", args=[pending.pk]))
    pending.refresh_from_db()
    assert (pending.status, pending.is_active) == ("rejected", False)
    assert mail.outbox[-1].to == [pending.email]
    response = client.post(
        "/accounts/login/", {"login": pending.email, "password": PASSWORD}, follow=True
    )
    assert "_auth_user_id" not in client.session
    assert "n'a pas été approuvée" in response.content.decode()


def test_deactivated_account_cannot_log_in(client, inactive):
    response = client.post(
        "/accounts/login/", {"login": inactive.email, "password": PASSWORD}, follow=True
    )
    assert "_auth_user_id" not in client.session
    assert "désactivé" in response.content.decode()


def test_approved_prescriber_logs_in_and_reaches_the_portal(client, alice):
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


@pytest.mark.parametrize(
    ("rpps", "message"),
    [
        ("1000000000", "exactement 11 chiffres"),
        ("100000000091", "11"),
        ("1000000000A", "exactement 11 chiffres"),
        ("10000000008", "chiffre de contrôle"),
    ],
)
def test_signup_refuses_bad_rpps_next_to_the_field(client, rpps, message):
    response = client.post("/accounts/signup/", {**SIGNUP, "rpps": rpps})
    assert response.status_code == 200
    form = response.context["form"]
    assert "rpps" in form.errors
    assert message in " ".join(form.errors["rpps"])
    assert not User.objects.filter(email=SIGNUP["email"]).exists()


def test_signup_refuses_a_weak_password_and_writes_nothing(client):
    response = client.post("/accounts/signup/", {**SIGNUP, "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.exists()


def test_signup_with_a_registered_rpps_or_address_creates_nothing_and_reveals_nothing(
    client, alice, django_capture_on_commit_callbacks
):
    new = client.post(
        "/accounts/signup/",
        {**SIGNUP, "email": "x1@example.fr", "rpps": rpps_with_check_digit("1077777777")},
    )
    assert new.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        by_rpps = client.post(
            "/accounts/signup/", {**SIGNUP, "rpps": alice.prescriber_profile.rpps}
        )
        by_email = client.post(
            "/accounts/signup/",
            {**SIGNUP, "email": alice.email.upper(), "rpps": rpps_with_check_digit("1088888888")},
        )
    assert by_rpps["Location"] == by_email["Location"] == new["Location"]
    assert User.objects.filter(email__in=[SIGNUP["email"], "x1@example.fr"]).count() == 1
    assert User.objects.filter(email__iexact=alice.email).count() == 1
    # alice is told that someone tried to register with her identifiers.
    assert [m.to for m in mail.outbox] == [[alice.email], [alice.email]]  # one per attempt


def test_duplicate_address_with_another_error_shows_only_the_other_error(client, alice):
    response = client.post(
        "/accounts/signup/", {**SIGNUP, "email": alice.email, "password1": "1", "password2": "1"}
    )
    form = response.context["form"]
    assert "email" not in form.errors and "password1" in form.errors


def test_password_reset_sends_a_link_and_answers_the_same_for_unknown_addresses(client, alice):
    known = client.post("/accounts/password/reset/", {"email": alice.email}, follow=True)
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.fr"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    sent_to_alice = [m for m in mail.outbox if m.to == [alice.email]]
    assert sent_to_alice and re.search(r"/accounts/password/reset/key/", sent_to_alice[0].body)
