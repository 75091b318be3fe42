from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from tests.conftest import PASSWORD, _make, totp_now

pytestmark = pytest.mark.django_db


def test_agency_login_asks_for_the_totp_code_before_any_page(client, agency):
    response = client.post("/accounts/login/", {"login": agency.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    # Not logged in yet: every page still sends to the login.
    assert client.get("/accounts/pending/").status_code == 302
    assert "_auth_user_id" not in client.session

    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session

    right = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(agency.pk)


@pytest.mark.parametrize("role", ["agency", "admin"])
def test_role_requiring_2fa_without_a_device_cannot_reach_any_page(client, role):
    user = _make(f"{role}-no-totp@example.fr", role, n=9)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    for url in ["/", "/accounts/pending/", "/admin/", "/accounts/password/change/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/accounts/2fa/totp/activate/", url
    enrol = client.get("/accounts/2fa/totp/activate/")
    assert enrol.status_code == 200
    assert b"data:image/svg+xml" in enrol.content  # the QR code to scan


def test_prescriber_without_2fa_is_not_forced_to_enrol(alice_client):
    assert alice_client.get("/").status_code == 200


def test_lockout_after_five_failures_even_with_the_right_password(client, alice):
    for _ in range(5):
        client.post("/accounts/login/", {"login": alice.email, "password": "wrong-password-1"})
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "bloquée pendant 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_per_ip_across_accounts(client, alice, bob):
    for n in range(5):
        client.post(
            "/accounts/login/", {"login": f"ghost{n}@example.fr", "password": "nope-nope-1"}
        )
    response = client.post("/accounts/login/", {"login": bob.email, "password": PASSWORD})
    assert response.status_code == 429
    # Another address is not locked out.
    other = client.post(
        "/accounts/login/",
        {"login": bob.email, "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302


def test_failures_below_the_limit_do_not_lock(client, alice):
    for _ in range(4):
        client.post("/accounts/login/", {"login": alice.email, "password": "wrong-password-1"})
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_session_expires_after_30_minutes_idle(client, alice):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity renews the session
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_create_account_command_with_totp_secret(capsys):
    call_command(
        "create_account",
        "--email",
        "ops@ansm.example.fr",
        "--password",
        PASSWORD,
        "--role",
        "agency",
        "--totp-secret",
        "JBSWY3DPEHPK3PXP",
    )
    user = User.objects.get(email="ops@ansm.example.fr")
    assert (user.role, user.status, user.is_active) == ("agency", "approved", True)
    assert Authenticator.objects.filter(user=user, type="totp").count() == 1
    assert "ops@ansm.example.fr" in capsys.readouterr().out


def test_create_account_command_validates_rpps():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="RPPS"):
        call_command(
            "create_account",
            "--email",
            "x@example.fr",
            "--password",
            PASSWORD,
            "--role",
            "prescriber",
            "--rpps",
            "12345678901",
        )
    assert not User.objects.filter(email="x@example.fr").exists()
