# ruff: noqa: E501 - the matrix is a table, one URL per line
"""Access matrix: every URL of the portal × anonymous, alice (owner), bob (another prescriber),
agency, admin — on alice's objects, so bob's column is the "other object" case.

The routes are read from the URL resolver: a new URL without an entry here fails
`test_every_route_has_an_entry`. Under /admin/ the rule is generic (Django's admin guards every
page the same way): only the admin gets in, nobody gets a 5xx.

Outcomes: an int is the status code; "login" a redirect to the login page; "->/path" another
redirect (query string ignored).
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.apps import apps

from .conftest import ROLES, World, all_routes

pytestmark = pytest.mark.django_db

LOGIN = "login"


@dataclass(frozen=True)
class Entry:
    url: Callable[[World], str]
    anonymous: int | str
    alice: int | str
    bob: int | str
    agency: int | str
    admin: int | str

    def expected(self) -> dict[str, int | str]:
        return {role: getattr(self, role) for role in ROLES}


def fixed(path: str) -> Callable[[World], str]:
    return lambda w: path


def P(suffix: str = "") -> Callable[[World], str]:  # noqa: N802 - reads like a route
    """A URL under alice's patient."""
    return lambda w: f"/patients/{w.patient.code}/{suffix}"


def case(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/pharmacovigilance/{w.case.pk}/{suffix}"


def report(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/reports/{w.report.pk}/{suffix}"


HOME = "->/"
# Second-factor management asks for the password again first.
REAUTH = "->/accounts/reauthenticate/"
CODE_REAUTH = "->/accounts/reauthenticate/code/"

# fmt: off
MATRIX: dict[str, Entry] = {
    # route                                    url                      anon   alice  bob    agency admin
    "": Entry(fixed("/"),                                               LOGIN, 200,   200,   200,   200),
    "health/": Entry(fixed("/health/"),                                 200,   200,   200,   200,   200),
    "i18n/setlang/": Entry(fixed("/i18n/setlang/"),                     HOME,  HOME,  HOME,  HOME,  HOME),
    # --- accounts (portal) ---
    "accounts/signup/": Entry(fixed("/accounts/signup/"),               200,   HOME,  HOME,  HOME,  HOME),
    "accounts/signup/received/": Entry(
        fixed("/accounts/signup/received/"),                            200,   200,   200,   200,   200),
    "accounts/pending/": Entry(fixed("/accounts/pending/"),             LOGIN, 403,   403,   403,   200),
    "accounts/pending/<int:pk>/approve/": Entry(
        lambda w: f"/accounts/pending/{w.pending.pk}/approve/",         LOGIN, 403,   403,   403,   405),
    "accounts/pending/<int:pk>/reject/": Entry(
        lambda w: f"/accounts/pending/{w.pending.pk}/reject/",          LOGIN, 403,   403,   403,   405),
    # --- accounts (allauth) ---
    "accounts/login/": Entry(fixed("/accounts/login/"),                 200,   HOME,  HOME,  HOME,  HOME),
    "accounts/logout/": Entry(fixed("/accounts/logout/"),               LOGIN, 200,   200,   200,   200),
    "accounts/inactive/": Entry(fixed("/accounts/inactive/"),           200,   200,   200,   200,   200),
    "accounts/reauthenticate/": Entry(fixed("/accounts/reauthenticate/"), LOGIN, 200, 200,   200,   200),
    "accounts/email/": Entry(fixed("/accounts/email/"),                 LOGIN, 200,   200,   200,   200),
    "accounts/confirm-email/": Entry(fixed("/accounts/confirm-email/"), 200,   200,   200,   200,   200),
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": Entry(
        fixed("/accounts/confirm-email/not-a-key/"),                    200,   200,   200,   200,   200),
    "accounts/password/change/": Entry(fixed("/accounts/password/change/"), LOGIN, 200, 200, 200,   200),
    "accounts/password/set/": Entry(fixed("/accounts/password/set/"),   LOGIN, "->/accounts/password/change/", "->/accounts/password/change/", "->/accounts/password/change/", "->/accounts/password/change/"),
    "accounts/password/reset/": Entry(fixed("/accounts/password/reset/"), 200, 200,   200,   200,   200),
    "accounts/password/reset/done/": Entry(
        fixed("/accounts/password/reset/done/"),                        200,   200,   200,   200,   200),
    "accounts/password/reset/key/done/": Entry(
        fixed("/accounts/password/reset/key/done/"),                    200,   200,   200,   200,   200),
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": Entry(
        fixed("/accounts/password/reset/key/1-not-a-key/"),             200,   200,   200,   200,   200),
    "accounts/login/code/confirm/": Entry(
        fixed("/accounts/login/code/confirm/"),                         LOGIN, HOME,  HOME,  HOME,  HOME),
    # Re-authentication by e-mailed code (allauth 65.22+): login by code is off in this portal,
    # so both send back to the password step.
    "accounts/reauthenticate/code/": Entry(
        fixed("/accounts/reauthenticate/code/"),                        LOGIN, REAUTH, REAUTH, REAUTH, REAUTH),
    "accounts/reauthenticate/code/confirm/": Entry(
        fixed("/accounts/reauthenticate/code/confirm/"),                LOGIN, CODE_REAUTH, CODE_REAUTH, CODE_REAUTH, CODE_REAUTH),
    # --- second factor (allauth.mfa) ---
    "accounts/2fa/": Entry(fixed("/accounts/2fa/"),                     LOGIN, 200,   200,   200,   200),
    "accounts/2fa/authenticate/": Entry(fixed("/accounts/2fa/authenticate/"), LOGIN, HOME, HOME, HOME, HOME),
    "accounts/2fa/reauthenticate/": Entry(
        fixed("/accounts/2fa/reauthenticate/"),                         LOGIN, REAUTH, REAUTH, 200, 200),
    "accounts/2fa/totp/activate/": Entry(
        fixed("/accounts/2fa/totp/activate/"),                          LOGIN, REAUTH, REAUTH, REAUTH, REAUTH),
    "accounts/2fa/totp/deactivate/": Entry(
        fixed("/accounts/2fa/totp/deactivate/"),                        LOGIN, 404,   404,   REAUTH, REAUTH),
    "accounts/2fa/recovery-codes/": Entry(
        fixed("/accounts/2fa/recovery-codes/"),                         LOGIN, 404,   404,   404,   404),
    "accounts/2fa/recovery-codes/generate/": Entry(
        fixed("/accounts/2fa/recovery-codes/generate/"),                LOGIN, REAUTH, REAUTH, REAUTH, REAUTH),
    "accounts/2fa/recovery-codes/download/": Entry(
        fixed("/accounts/2fa/recovery-codes/download/"),                LOGIN, 404,   404,   404,   404),
    # --- patients and prescriptions ---
    "patients/": Entry(fixed("/patients/"),                             LOGIN, 200,   200,   200,   200),
    "patients/new/": Entry(fixed("/patients/new/"),                     LOGIN, 200,   200,   403,   403),
    "patients/transfer/": Entry(fixed("/patients/transfer/"),           LOGIN, 403,   403,   403,   200),
    "patients/<str:code>/": Entry(P(),                                  LOGIN, 200,   404,   200,   200),
    "patients/<str:code>/visits/new/": Entry(P("visits/new/"),          LOGIN, 200,   404,   403,   403),
    "patients/<str:code>/visits/<int:pk>/edit/": Entry(
        lambda w: f"/patients/{w.patient.code}/visits/{w.visit.pk}/edit/", LOGIN, 200, 404,  403,   403),
    # htmx endpoints: POST only, whoever asks
    "patients/<str:code>/visits/check/": Entry(P("visits/check/"),      405,   405,   405,   405,   405),
    "patients/<str:code>/visits/plan/": Entry(P("visits/plan/"),        405,   405,   405,   405,   405),
    "patients/<str:code>/stop/": Entry(P("stop/"),                      LOGIN, 200,   404,   403,   403),
    "patients/<str:code>/stop/check/": Entry(P("stop/check/"),          405,   405,   405,   405,   405),
    "patients/<str:code>/stop/plan/": Entry(P("stop/plan/"),            405,   405,   405,   405,   405),
    # restart of a patient still treated: back to the patient page
    "patients/<str:code>/restart/": Entry(P("restart/"),                LOGIN, "->/patients/{code}/", 404, 403, 403),
    # --- pharmacovigilance ---
    "patients/<str:code>/adverse-events/new/": Entry(
        P("adverse-events/new/"),                                       LOGIN, 200,   404,   403,   403),
    "patients/<str:code>/adverse-events/<int:case_id>/follow-up/": Entry(
        lambda w: f"/patients/{w.patient.code}/adverse-events/{w.case.pk}/follow-up/",
                                                                        LOGIN, 200,   404,   403,   403),
    "pharmacovigilance/": Entry(fixed("/pharmacovigilance/"),           LOGIN, 403,   403,   200,   200),
    "pharmacovigilance/cases.csv": Entry(fixed("/pharmacovigilance/cases.csv"), LOGIN, 403, 403, 200, 200),
    "pharmacovigilance/e2b.xml": Entry(fixed("/pharmacovigilance/e2b.xml"), LOGIN, 403, 403, 200, 200),
    "pharmacovigilance/terms/": Entry(fixed("/pharmacovigilance/terms/"), LOGIN, 200, 200,   403,   403),
    "pharmacovigilance/<int:case_id>/": Entry(case(),                   LOGIN, 200,   404,   200,   200),
    "pharmacovigilance/<int:case_id>/e2b.xml": Entry(case("e2b.xml"),   LOGIN, 200,   404,   200,   200),
    "pharmacovigilance/<int:case_id>/transmitted/": Entry(
        case("transmitted/"),                                           LOGIN, 403,   403,   405,   405),
    # --- reports ---
    "reports/": Entry(fixed("/reports/"),                               LOGIN, 403,   403,   200,   200),
    "reports/<int:pk>/": Entry(report(),                                LOGIN, 403,   403,   200,   200),
    "reports/<int:pk>/progress/": Entry(report("progress/"),            LOGIN, 403,   403,   200,   200),
    "reports/<int:pk>/retry/": Entry(report("retry/"),                  LOGIN, 403,   403,   405,   405),
    "reports/<int:pk>/pdf/": Entry(report("pdf/"),                      LOGIN, 403,   403,   200,   200),
    "reports/<int:pk>/summary.json": Entry(report("summary.json"),      LOGIN, 403,   403,   200,   200),
    "reports/<int:pk>/summary.csv": Entry(report("summary.csv"),        LOGIN, 403,   403,   200,   200),
}
# fmt: on


def outcome(response) -> int | str:
    if response.status_code in (301, 302):
        location = urlsplit(response["Location"]).path
        if location == "/accounts/login/":
            return LOGIN
        return f"->{location}"
    return response.status_code


def portal_routes() -> list[str]:
    return [r for r in all_routes() if not r.startswith("admin/")]


def test_every_route_has_an_entry():
    missing = [r for r in portal_routes() if r not in MATRIX]
    assert not missing, f"new URLs without an access-matrix entry: {missing}"
    stale = [r for r in MATRIX if r not in portal_routes()]
    assert not stale, f"matrix entries for URLs that no longer exist: {stale}"


def test_access_matrix(world, clients):
    """One pass over the whole matrix (the world is built once); every difference is listed."""
    differences = []
    for route in portal_routes():
        entry = MATRIX.get(route)
        if entry is None:
            continue  # reported by test_every_route_has_an_entry
        url = entry.url(world)
        expected = {
            role: (value.format(code=world.patient.code) if isinstance(value, str) else value)
            for role, value in entry.expected().items()
        }
        got = {role: outcome(clients[role].get(url)) for role in ROLES}
        if got != expected:
            differences.append(
                f"{url}: "
                + ", ".join(
                    f"{r} {got[r]} (want {expected[r]})" for r in ROLES if got[r] != expected[r]
                )
            )
    assert not differences, "\n".join(differences)


def test_objects_are_checked_as_a_pair(world, clients, bob):
    """A case id reached through another patient's code is not found, even by its reporter."""
    from tests.factories import PatientFactory

    bobs_patient = PatientFactory(prescriber=bob)
    url = f"/patients/{bobs_patient.code}/adverse-events/{world.case.pk}/follow-up/"
    assert clients["alice"].get(url).status_code == 404
    assert clients["bob"].get(url).status_code == 404
    # A visit of alice's patient edited through bob's patient code.
    url = f"/patients/{bobs_patient.code}/visits/{world.visit.pk}/edit/"
    assert clients["bob"].get(url).status_code == 404


def test_a_patient_that_does_not_exist_looks_like_another_prescribers(clients):
    """404 for both: a prescriber cannot probe which codes exist."""
    assert clients["bob"].get("/patients/BAC-ZZZZ-9999/").status_code == 404


def _admin_url(route: str) -> str:
    path = route.replace("^", "").replace("$", "")
    app_label, model_name = (path.split("/") + ["", ""])[1:3]
    object_id, history_id = "1", "1"
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        model = None
    if model is not None:
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            object_id = str(obj.pk)
            record = obj.history.order_by("pk").first() if hasattr(obj, "history") else None
            history_id = str(record.pk) if record is not None else "1"
    path = path.replace("([^/]+)/history/([^/]+)/", f"{object_id}/history/{history_id}/")
    path = path.replace("<path:object_id>", object_id)
    if "(?P<app_label>" in path:
        path = "admin/accounts/"
    path = path.replace("(?P<url>.*)", "nowhere/")
    return "/" + path


def test_admin_site_is_for_admins_only(world, clients):
    routes = [r for r in all_routes() if r.startswith("admin/")]
    assert len(routes) > 20
    differences = []
    for route in routes:
        url = _admin_url(route)
        for role in ("anonymous", "alice", "bob", "agency"):
            got = outcome(clients[role].get(url))
            # Anyone but an admin is sent to a login page (403 on the admin login itself when
            # already logged in without staff rights); never shown an admin page.
            if got not in (LOGIN, "->/admin/login/", "->/admin/", 403):
                differences.append(f"{url}: {role} {got}")
        got = outcome(clients["admin"].get(url))
        if not (isinstance(got, str) or got < 500):
            differences.append(f"{url}: admin {got}")
    assert not differences, "\n".join(differences)
    admin = clients["admin"]
    for url in [
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{world.alice.pk}/change/",
    ]:
        assert admin.get(url).status_code == 200, url
    # Accounts are deactivated, never deleted (patients and history hang on them).
    assert admin.get(f"/admin/accounts/user/{world.alice.pk}/delete/").status_code == 403
