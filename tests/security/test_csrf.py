"""CSRF is enforced on every POST of the portal: a forged POST (no token) is refused with the
"form expired" page and writes nothing; the same POST with the token is not refused for CSRF."""

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from patients.models import Patient
from prescriptions.models import Visit

from .conftest import World, all_routes
from .test_access_matrix import MATRIX, _admin_url

pytestmark = pytest.mark.django_db

CSRF_PAGE_MARKERS = ("Formulaire expiré", "Form expired")


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def token_of(client: Client) -> str:
    client.get("/")  # any page with a form (the navbar has two) sets the cookie
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def writer(route: str, world: World):
    """A role that may reach this URL (so only CSRF can refuse its POST)."""
    entry = MATRIX.get(route)
    if entry is None:
        return None, None
    for role in ("alice", "agency", "admin"):
        if getattr(entry, role) in (200, 405):
            return role, getattr(world, role)
    return "anonymous", None


def is_csrf_refusal(response) -> bool:
    body = response.content.decode(errors="replace")
    return response.status_code == 403 and any(m in body for m in CSRF_PAGE_MARKERS)


def snapshot() -> tuple:
    return (
        Patient.objects.count(),
        Visit.objects.count(),
        list(User.objects.order_by("pk").values_list("status", flat=True)),
    )


def test_every_post_without_token_is_refused_and_writes_nothing(world):
    before = snapshot()
    not_refused = []
    routes = [r for r in all_routes() if not r.startswith("admin/")]
    for route in routes:
        if route not in MATRIX:
            continue  # reported by the access-matrix test
        url = MATRIX[route].url(world)
        role, user = writer(route, world)
        for who, account in {("anonymous", None), (role, user)}:
            response = csrf_client(account).post(url, {"x": "1"})
            if not is_csrf_refusal(response):
                not_refused.append(f"{url} as {who}: {response.status_code}")
    for route in (r for r in all_routes() if r.startswith("admin/")):
        url = _admin_url(route)
        response = csrf_client(world.admin).post(
            url, {"action": "deactivate", "_selected_action": [world.alice.pk]}
        )
        if not is_csrf_refusal(response):
            not_refused.append(f"{url} as admin: {response.status_code}")
    assert not not_refused, "\n".join(not_refused)
    assert snapshot() == before


def test_the_refusal_is_csrf_only(world):
    """Control: with its token the same POST goes through (approve, admin action, logout)."""
    admin = csrf_client(world.admin)
    token = token_of(admin)
    response = admin.post(
        f"/accounts/pending/{world.pending.pk}/approve/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    world.pending.refresh_from_db()
    assert world.pending.status == "approved"

    response = admin.post(
        "/admin/accounts/user/",
        {
            "csrfmiddlewaretoken": token,
            "action": "deactivate",
            "_selected_action": [world.bob.pk],
        },
    )
    assert response.status_code == 302
    world.bob.refresh_from_db()
    assert world.bob.status == "deactivated"


def test_login_form_itself_needs_the_token(world):
    """Login CSRF: a forged form must not log the victim into the attacker's account."""
    from tests.conftest import PASSWORD

    client = csrf_client()
    response = client.post("/accounts/login/", {"login": world.alice.email, "password": PASSWORD})
    assert is_csrf_refusal(response)
    assert "_auth_user_id" not in client.session


def test_language_switch_needs_the_token():
    client = csrf_client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert is_csrf_refusal(response)
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
