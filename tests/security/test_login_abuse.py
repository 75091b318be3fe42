"""Login abuse: a scripted burst cannot guess a password, and the messages of sign-up, login and
password reset do not tell an attacker which addresses have an account."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(email: str, password: str, ip: str):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return client, response


def visible_text(response) -> str:
    """What the user reads in <main>, without tokens and echoed values."""
    body = response.content.decode()
    main = body.split("<main", 1)[-1].split("</main>", 1)[0]
    main = re.sub(r'value="[^"]*"', 'value=""', main)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def test_burst_from_rotating_addresses_cannot_guess_the_password(alice):
    """60 guesses from 60 addresses; the right one is guessed at #20: it must not get in, and the
    answer must look exactly like the answer to a wrong guess (no oracle)."""
    answers = {}
    for n in range(60):
        password = PASSWORD if n == 20 else f"guess-{n:03d}-Password!"
        client, response = login(alice.email, password, ip=f"10.1.{n // 200}.{n % 200 + 1}")
        assert "_auth_user_id" not in client.session, f"guess #{n} logged in"
        answers[n] = (response.status_code, visible_text(response))
    assert answers[20] == answers[21], "the right password is answered differently"
    assert answers[59][0] == 429
    assert "15 minutes" in answers[59][1]

    # After the cool-off the owner gets in again.
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        client, response = login(alice.email, PASSWORD, ip="10.9.9.9")
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(alice.pk)


def test_burst_from_one_address_over_many_accounts_is_stopped(alice, bob):
    """Password spraying: one address, one password, many accounts."""
    for n in range(20):
        login(f"user{n}@example.fr", "Spring2024-Spray!", ip="192.0.2.7")
    client, response = login(bob.email, PASSWORD, ip="192.0.2.7")
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # bob himself, from his own address, is not locked out by the attacker's address.
    client, response = login(bob.email, PASSWORD, ip="198.51.100.4")
    assert response.status_code == 302


def test_login_failure_reads_the_same_for_known_and_unknown_addresses(alice, pending):
    _, known = login(alice.email, "Wrong-password-123", ip="10.2.0.1")
    _, unknown = login("nobody@example.fr", "Wrong-password-123", ip="10.2.0.2")
    _, waiting = login(pending.email, "Wrong-password-123", ip="10.2.0.3")
    assert known.status_code == unknown.status_code == waiting.status_code
    assert visible_text(known) == visible_text(unknown) == visible_text(waiting)


def test_password_reset_reads_the_same_for_known_and_unknown_addresses(client, alice):
    known = client.post("/accounts/password/reset/", {"email": alice.email}, follow=True)
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.fr"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert visible_text(known) == visible_text(unknown)
    # The owner of the address is told by e-mail either way (only the mailbox owner learns).
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, "nobody@example.fr"])


SIGNUP = {
    "first_name": "Eve",
    "last_name": "Probe",
    "specialty": "addiction",
    "practice_setting": "csapa",
    "region": "84",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def test_sign_up_reads_the_same_for_a_known_and_an_unknown_address(client, alice):
    from accounts.validators import rpps_with_check_digit

    unknown = Client().post(
        "/accounts/signup/",
        {**SIGNUP, "email": "eve.new@example.fr", "rpps": rpps_with_check_digit("1099999999")},
    )
    assert unknown.status_code == 302  # accepted: "your account awaits approval"
    known = client.post(
        "/accounts/signup/",
        {**SIGNUP, "email": alice.email, "rpps": rpps_with_check_digit("1099999998")},
    )
    assert (known.status_code, known.get("Location")) == (302, unknown["Location"])
    known_rpps = Client().post(
        "/accounts/signup/",
        {**SIGNUP, "email": "eve.other@example.fr", "rpps": alice.prescriber_profile.rpps},
    )
    assert (known_rpps.status_code, known_rpps.get("Location")) == (302, unknown["Location"])
