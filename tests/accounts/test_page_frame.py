"""The page frame (rtuportal/templatetags/portal_chrome.py): rendered once per language and role,
filled per request. Nothing of one user or request may reach another's page."""

import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from rtuportal.templatetags import portal_chrome


@pytest.fixture(autouse=True)
def _cached(settings):
    settings.DEBUG = False  # the per-process cache, as in production
    portal_chrome._cached.cache_clear()
    yield
    portal_chrome._cached.cache_clear()


def _nav(html: str) -> str:
    return html[html.index("<header>") : html.index("</header>")]


def test_each_user_sees_their_own_email_and_token(alice_client, bob_client):
    alice_page = alice_client.get("/patients/").content.decode()
    bob_page = bob_client.get("/patients/").content.decode()
    assert portal_chrome._cached.cache_info().hits > 0  # bob's nav came from the cache
    assert "alice@example.fr" in _nav(alice_page)
    assert "bob@example.fr" in _nav(bob_page)
    assert "alice@example.fr" not in bob_page
    tokens = [
        set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        for page in (alice_page, bob_page)
    ]
    assert all(tokens) and not tokens[0] & tokens[1]
    assert "@@chrome:" not in alice_page + bob_page


def test_the_language_switch_returns_to_the_page_it_was_on(alice_client):
    page = alice_client.get("/patients/?q=BAC&status=stopped").content.decode()
    assert '<input name="next" type="hidden" value="/patients/?q=BAC&amp;status=stopped">' in page
    other = alice_client.get("/").content.decode()
    assert '<input name="next" type="hidden" value="/">' in other


def test_the_role_and_the_language_choose_the_menu(alice_client, agency_client, client):
    prescriber = _nav(alice_client.get("/patients/").content.decode())
    agency = _nav(agency_client.get("/reports/").content.decode())
    anonymous = _nav(client.get("/accounts/login/").content.decode())
    assert "Mes patients" in prescriber and "Pharmacovigilance" not in prescriber
    assert "Pharmacovigilance" in agency and "Mes patients" not in agency
    assert "Connexion" in anonymous and "Déconnexion" not in anonymous
    client.cookies["django_language"] = "en"
    assert "Log in" in _nav(client.get("/accounts/login/").content.decode())


def test_values_are_escaped_and_a_marker_in_a_value_stays_text(alice):
    alice.email = "<b>@@chrome:csrf@@</b>@example.fr"
    request = RequestFactory().get("/patients/", {"q": '"><script>@@chrome:email@@'})
    template = Template('{% load portal_chrome %}{% chrome "nav" %}')
    context = Context(
        {
            "user": alice,
            "request": request,
            "csrf_token": "TOKEN123",
            "is_prescriber": True,
        }
    )
    with translation.override("fr"):
        html = template.render(context)
    assert "&lt;b&gt;@@chrome:csrf@@&lt;/b&gt;@example.fr" in html
    assert "%22%3E%3Cscript%3E%40%40chrome%3Aemail%40%40" in html  # the path as the request has it
    assert "<script>" not in html and "<b>" not in html
    assert html.count('value="TOKEN123"') == 2  # language switch and logout
    assert "TOKEN123</b>" not in html


def test_a_page_without_request_or_token_renders_without_them(alice):
    template = Template('{% load portal_chrome %}{% chrome "nav" %}{% chrome "footer" %}')
    with translation.override("en"):
        html = template.render(Context({"user": alice}))
    assert "csrfmiddlewaretoken" not in html
    assert '<input name="next" type="hidden" value="">' in html
    assert "Patients are identified by a pseudonymous code only." in html


def test_an_unknown_part_is_an_error():
    with pytest.raises(ValueError, match="unknown part"):
        Template('{% load portal_chrome %}{% chrome "body" %}').render(Context({}))
