"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

One browser for the whole session; each test opens its own contexts (one per person, so cookies
never leak between the prescriber and the admin). Every page a journey reaches goes through
`Portal.check`: a full-page screenshot under test-artifacts/screenshots/, an axe-core scan that
fails on any critical or serious violation, and a check that the browser logged no error
(a CSP refusal, a missing static file, a JavaScript exception).
"""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.conftest import require_service, totp_now

# Playwright's sync API runs an asyncio loop in this thread; the ORM calls the tests make between
# browser steps are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_REPORT = ARTIFACTS / "axe"
BLOCKING_IMPACTS = {"critical", "serious"}


@pytest.fixture(scope="session")
def browser() -> Iterator:
    require_service("Chromium (/usr/bin/chromium)", Path(CHROMIUM).exists())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


class Portal:
    """One person at one browser: navigation helpers plus the per-page checks."""

    def __init__(self, browser, axe, base_url: str, journey: str, who: str) -> None:
        # Accept-Language is English on purpose: the portal must still open in French.
        self.context = browser.new_context(
            base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.axe = axe
        self.journey = journey
        self.who = who
        self.shots = 0
        self.errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        # Failed sub-resources are reported with their URL by _on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def _on_response(self, response) -> None:
        """A sub-resource (CSS, JS, image) that fails is a broken page for the user."""
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} {response.request.resource_type} {response.url}")

    # --- navigation -------------------------------------------------------------------------
    def goto(self, path: str):
        response = self.page.goto(path)
        assert response is not None
        return response

    def language(self) -> str:
        return self.page.locator("html").get_attribute("lang") or ""

    def switch_language(self, code: str) -> None:
        """Use the navbar switch like a user: choose the language, press the button."""
        if self.language() == code:
            return
        select = self.page.locator("#language-select")
        # portal.js submits on change; the button is the no-JS path. Either way: one navigation.
        with self.page.expect_navigation():
            select.select_option(code)
        if self.language() != code:
            with self.page.expect_navigation():
                select.locator("xpath=following-sibling::button").click()
        assert self.language() == code

    def login(self, email: str, password: str, *, totp_secret: str | None = None) -> None:
        self.goto("/accounts/login/")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").first.click()
        if totp_secret:
            assert "/accounts/2fa/authenticate/" in self.page.url, self.page.url
            self.check("second-factor")
            self.page.fill("input[name=code]", totp_now(totp_secret))
            with self.page.expect_navigation():
                self.page.locator("main form button[type=submit]").first.click()

    def logout(self) -> None:
        with self.page.expect_navigation():
            self.page.locator("header form[action*=logout] button").click()

    # --- what a user would notice -----------------------------------------------------------
    def text(self) -> str:
        return self.page.locator("body").inner_text()

    def heading(self) -> str:
        return self.page.locator("main h1").first.inner_text().strip()

    def check(self, name: str) -> None:
        """Screenshot, accessibility scan and browser-error check of the page now shown."""
        self.page.wait_for_load_state("load")
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        stem = f"{self.journey}-{self.who}-{self.shots:02d}-{slug}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{stem}.png", full_page=True)
        results = self.axe.run(self.page)
        violations = results.response.get("violations", [])
        AXE_REPORT.mkdir(parents=True, exist_ok=True)
        (AXE_REPORT / f"{stem}.json").write_text(
            json.dumps(
                [
                    {
                        "id": v["id"],
                        "impact": v["impact"],
                        "help": v["help"],
                        "targets": [n["target"] for n in v["nodes"]],
                    }
                    for v in violations
                ],
                indent=1,
            )
        )
        blocking = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
            for v in violations
            if v["impact"] in BLOCKING_IMPACTS
        ]
        assert not blocking, f"{stem} ({self.page.url}): accessibility violations {blocking}"
        assert not self.errors, f"{stem} ({self.page.url}): browser errors {self.errors}"
        assert self.page.title().strip(), f"{stem}: page without a title"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def portal(
    browser, axe, live_server, django_db_serialized_rollback, transactional_db, request
) -> Iterator:
    """Factory of Portal sessions, closed at the end of the test.

    Serialized rollback: the flush after a transactional test would otherwise wipe the rows the
    data migrations seed (reaction terms, CRPV directory) for every later test."""
    cache.clear()  # TOTP codes are single-use per period (allauth keeps them in the cache)
    opened: list[Portal] = []

    def open_portal(who: str, journey: str | None = None) -> Portal:
        name = journey or re.sub(r"^test_", "", request.node.name).replace("[", "-").rstrip("]")
        session = Portal(browser, axe, live_server.url, name, who)
        opened.append(session)
        return session

    yield open_portal
    for session in opened:
        session.close()


def pytest_collection_modifyitems(items) -> None:
    """Every browser test is transactional with serialized rollback, whatever the order its
    fixtures are set up in: the live server's thread must see committed rows, and the rows the
    data migrations seed (reaction terms, CRPV directory) must be back for the next test."""
    marker = pytest.mark.django_db(transaction=True, serialized_rollback=True)
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(marker)
