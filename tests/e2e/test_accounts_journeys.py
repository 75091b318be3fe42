"""Account journeys in Chromium, in French and in English.

- A prescriber signs up with the keyboard alone, is told to wait, an admin approves the account
  from the pending page, the prescriber is told by e-mail and logs in.
- An agency user logs in with the second factor (TOTP).
- An admin deactivates a prescriber (who is then refused, with the reason) and resets an agency
  user's second factor (who must enrol again, from the QR-code page, at the next login).
"""

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.conftest import PASSWORD, TOTP_SECRET

from .conftest import totp_now

pytestmark = pytest.mark.e2e

LANGUAGES = ["fr", "en"]

# What the user reads, per language (the translations are part of what is tested).
WORDS = {
    "fr": {
        "awaiting": "en attente de validation",
        "approved": "approuvé",
        "deactivated": "désactivé",
        "welcome": "Bienvenue",
    },
    "en": {
        "awaiting": "awaiting approval",
        "approved": "approved",
        "deactivated": "deactivated",
        "welcome": "Welcome",
    },
}

NEW_PRESCRIBER = {
    "email": "claire.martin@example.fr",
    "first_name": "Claire",
    "last_name": "Martin",
    "rpps": "10000000009",
    "password1": PASSWORD,
    "password2": PASSWORD,
}
SIGNUP_TAB_ORDER = [
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


def focused_name(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.name || ''")


def tab_to(page, name: str, limit: int = 40) -> None:
    """Press Tab from where the focus is until the field `name` has it (as a keyboard user)."""
    for _ in range(limit):
        if focused_name(page) == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"field {name!r} cannot be reached with Tab")


def sign_up_with_the_keyboard(prescriber, lang: str) -> dict:
    """Fill and send the sign-up form using only the keyboard; returns the values chosen."""
    page = prescriber.page
    page.keyboard.press("Tab")
    # The first stop on every page is the skip link, and it moves the focus to the content.
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    tab_to(page, "email")
    chosen = {}
    for name in SIGNUP_TAB_ORDER:
        assert focused_name(page) == name, f"Tab order: expected {name}, got {focused_name(page)}"
        if name in NEW_PRESCRIBER:
            page.keyboard.type(NEW_PRESCRIBER[name])
        else:
            # A closed <select> takes arrow keys: move to the next real option.
            page.keyboard.press("ArrowDown")
            chosen[name] = page.evaluate("() => document.activeElement.value")
            assert chosen[name], f"{name}: the arrow key chose nothing"
        if name != SIGNUP_TAB_ORDER[-1]:
            page.keyboard.press("Tab")
    prescriber.check(f"signup-filled-{lang}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return chosen


@pytest.mark.parametrize("lang", LANGUAGES)
def test_prescriber_signs_up_is_approved_by_an_admin_and_logs_in(portal, admin_user, lang):
    words = WORDS[lang]
    prescriber = portal("prescriber")
    prescriber.goto("/accounts/signup/")
    assert prescriber.language() == "fr", "French is the default whatever the browser says"
    prescriber.check("signup-default-language")
    prescriber.switch_language(lang)

    chosen = sign_up_with_the_keyboard(prescriber, lang)
    assert words["awaiting"] in prescriber.text()
    prescriber.check("signup-done-awaiting")
    account = User.objects.get(email=NEW_PRESCRIBER["email"])
    assert (account.status, account.is_active) == ("pending", False)
    profile = account.prescriber_profile
    assert (profile.specialty, profile.practice_setting, profile.region) == (
        chosen["specialty"],
        chosen["practice_setting"],
        chosen["region"],
    )
    assert admin_user.email in [to for m in mail.outbox for to in m.to]

    # Before approval, logging in is refused and the page says why.
    prescriber.login(NEW_PRESCRIBER["email"], PASSWORD)
    assert words["awaiting"] in prescriber.text()
    assert "/accounts/login/" in prescriber.page.url or "inactive" in prescriber.page.url
    prescriber.check("login-refused-pending")

    admin = portal("admin")
    admin.goto("/accounts/login/")
    admin.switch_language(lang)
    admin.check("login")
    admin.login(admin_user.email, PASSWORD, totp_secret=TOTP_SECRET)
    assert words["welcome"] in admin.heading()
    admin.check("home")
    admin.page.get_by_role("link", name=re.compile("Review|Examiner|Vérifier", re.I)).first.click()
    admin.page.wait_for_url("**/accounts/pending/")
    row = admin.page.locator("tr", has_text=NEW_PRESCRIBER["email"])
    assert NEW_PRESCRIBER["rpps"] in row.inner_text()
    admin.check("pending-accounts")
    with admin.page.expect_navigation():
        row.locator("form[action*=approve] button").click()
    assert NEW_PRESCRIBER["email"] in admin.text()
    assert words["approved"] in admin.page.locator(".alert-success").inner_text()
    assert admin.page.locator("tr", has_text=NEW_PRESCRIBER["email"]).count() == 0
    admin.check("approved")

    told = [m for m in mail.outbox if m.to == [NEW_PRESCRIBER["email"]]]
    assert told and "approuvé" in told[-1].body

    prescriber.login(NEW_PRESCRIBER["email"], PASSWORD)
    assert words["welcome"] in prescriber.text()
    assert NEW_PRESCRIBER["email"] in prescriber.page.locator("header").inner_text()
    prescriber.check("home-after-approval")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_agency_logs_in_with_the_second_factor(portal, agency, lang):
    user = portal("agency")
    user.goto("/accounts/login/")
    user.switch_language(lang)
    # A wrong code is refused and nothing is reachable.
    user.page.fill("input[name=login]", agency.email)
    user.page.fill("input[name=password]", PASSWORD)
    with user.page.expect_navigation():
        user.page.locator("main form button[type=submit]").first.click()
    assert "/accounts/2fa/authenticate/" in user.page.url
    wrong = f"{(int(totp_now()) + 1) % 1_000_000:06d}"
    user.page.fill("input[name=code]", wrong)
    with user.page.expect_navigation():
        user.page.locator("main form button[type=submit]").first.click()
    assert "/accounts/2fa/authenticate/" in user.page.url
    assert user.page.locator("[aria-invalid=true], .invalid-feedback, .alert-danger").count() > 0
    user.check("second-factor-wrong-code")
    user.goto("/")
    assert re.search(r"/accounts/(login|2fa/authenticate)/", user.page.url), user.page.url
    assert agency.email not in user.page.locator("header").inner_text()

    user.goto("/accounts/2fa/authenticate/")
    user.page.fill("input[name=code]", totp_now())
    with user.page.expect_navigation():
        user.page.locator("main form button[type=submit]").first.click()
    assert WORDS[lang]["welcome"] in user.heading()
    assert agency.email in user.page.locator("header").inner_text()
    user.check("home")
    assert user.language() == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_admin_deactivates_a_prescriber_and_resets_a_second_factor(
    portal, admin_user, alice, agency, lang
):
    words = WORDS[lang]
    admin = portal("admin")
    admin.goto("/accounts/login/")
    admin.switch_language(lang)
    admin.login(admin_user.email, PASSWORD, totp_secret=TOTP_SECRET)
    admin.page.get_by_role("link", name=re.compile("^(Administration)$")).first.click()
    admin.page.wait_for_url("**/admin/")
    admin.check("django-admin-index")

    def run_action(email: str, action: str) -> None:
        admin.goto("/admin/accounts/user/")
        admin.page.fill("#searchbar", email)
        with admin.page.expect_navigation():
            admin.page.keyboard.press("Enter")
        admin.check(f"admin-users-{action}")
        row = admin.page.locator("#result_list tbody tr", has_text=email)
        assert row.count() == 1
        row.locator("input.action-select").check()
        admin.page.select_option("select[name=action]", action)
        with admin.page.expect_navigation():
            admin.page.locator("button[name=index]").click()
        assert admin.page.locator(".messagelist .success").count() == 1
        admin.check(f"admin-{action}-done")

    run_action(alice.email, "deactivate")
    alice.refresh_from_db()
    assert (alice.status, alice.is_active) == ("deactivated", False)

    run_action(agency.email, "reset_second_factor")
    assert not agency.authenticator_set.exists()

    # The deactivated prescriber cannot log in and is told why.
    refused = portal("alice")
    refused.goto("/accounts/login/")
    refused.switch_language(lang)
    refused.login(alice.email, PASSWORD)
    assert words["deactivated"] in refused.text()
    assert "_auth_user_id" not in refused.page.context.cookies()  # no session for her
    refused.check("login-refused-deactivated")

    # The agency user must enrol a new device before reaching any page.
    enrol = portal("agency")
    enrol.goto("/accounts/login/")
    enrol.switch_language(lang)
    enrol.login(agency.email, PASSWORD)
    assert "/accounts/2fa/totp/activate/" in enrol.page.url, enrol.page.url
    enrol.check("totp-enrolment")
    enrol.goto("/pharmacovigilance/")
    assert "/accounts/2fa/totp/activate/" in enrol.page.url
    assert enrol.page.locator("main img, main svg").count() >= 1, "the QR code is shown"
    secret = enrol.page.locator("#authenticator_secret").input_value().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), f"secret not shown as text: {secret!r}"
    enrol.page.fill("input[name=code]", totp_now(secret))
    with enrol.page.expect_navigation():
        enrol.page.locator("main form button[type=submit]").first.click()
    enrol.check("totp-enrolled")
    enrol.goto("/")
    assert words["welcome"] in enrol.heading()
    assert agency.authenticator_set.filter(type="totp").exists()
