import pytest
from allauth.mfa.models import Authenticator
from django.core import mail

from accounts.models import User
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def _action(admin_client, action: str, *accounts):
    return admin_client.post(
        "/admin/accounts/user/",
        {"action": action, "_selected_action": [a.pk for a in accounts]},
        follow=True,
    )


def test_admin_action_approves_and_mails(admin_client, pending, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(admin_client, "approve", pending)
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.is_active
    assert mail.outbox[-1].to == [pending.email]


def test_admin_action_deactivates_and_history_names_the_admin(admin_client, admin_user, alice):
    _action(admin_client, "deactivate", alice)
    alice.refresh_from_db()
    assert (alice.status, alice.is_active) == ("deactivated", False)
    record = alice.history.first()
    assert record.history_user_id == admin_user.pk
    assert record.history_change_reason == "deactivated"


def test_admin_action_resets_the_second_factor(admin_client, agency):
    assert Authenticator.objects.filter(user=agency).exists()
    _action(admin_client, "reset_second_factor", agency)
    assert not Authenticator.objects.filter(user=agency).exists()
    # At the next request the agency user must enrol again.
    client = logged_in(User.objects.get(pk=agency.pk))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"


def test_admin_search_and_filters(admin_client, alice, bob, pending):
    found = admin_client.get("/admin/accounts/user/", {"q": alice.prescriber_profile.rpps})
    assert alice.email in found.content.decode() and bob.email not in found.content.decode()
    only_pending = admin_client.get("/admin/accounts/user/", {"status__exact": "pending"})
    body = only_pending.content.decode()
    assert pending.email in body and alice.email not in body


def test_accounts_are_never_deleted_from_the_admin(admin_client, alice):
    response = admin_client.get(f"/admin/accounts/user/{alice.pk}/delete/")
    assert response.status_code == 403


ROLE_MATRIX = {
    # url: {role: expected status}
    "/": {"anonymous": 302, "prescriber": 200, "agency": 200, "admin": 200},
    "/health/": {"anonymous": 200, "prescriber": 200, "agency": 200, "admin": 200},
    "/accounts/pending/": {"anonymous": 302, "prescriber": 403, "agency": 403, "admin": 200},
    "/admin/": {"anonymous": 302, "prescriber": 302, "agency": 302, "admin": 200},
    "/accounts/login/": {"anonymous": 200, "prescriber": 302, "agency": 302, "admin": 302},
    "/accounts/signup/": {"anonymous": 200, "prescriber": 302, "agency": 302, "admin": 302},
}


@pytest.fixture
def clients(client, alice, agency, admin_user):
    return {
        "anonymous": client,
        "prescriber": logged_in(alice),
        "agency": logged_in(agency),
        "admin": logged_in(admin_user),
    }


@pytest.mark.parametrize("url", list(ROLE_MATRIX))
def test_role_matrix(clients, url):
    got = {role: clients[role].get(url).status_code for role in ROLE_MATRIX[url]}
    assert got == ROLE_MATRIX[url]


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_only_admins_decide_on_accounts(clients, pending, action):
    for role in ("anonymous", "prescriber", "agency"):
        response = clients[role].post(f"/accounts/pending/{pending.pk}/{action}/")
        assert response.status_code in (302, 403), role
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert clients["admin"].get(f"/accounts/pending/{pending.pk}/{action}/").status_code == 405
