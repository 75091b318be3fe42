"""A small load client: one process, one thread per simulated user, standard library only.

Each user keeps its own HTTP/1.1 keep-alive connection and cookies, and binds its socket to its
own loopback address (127.0.0.10, .11, ...; all of 127/8 is loopback on Linux) so that the
portal's per-IP login rate limit sees 52 people, not one. Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import random
import re
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 code (30 s, 6 digits, SHA-1), as allauth.mfa's hotp_value computes it."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret.encode("ascii"), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


# The tags a form is made of, with their attributes (quoted values may hold ">"), and the
# attributes of one tag. A regular-expression scan instead of html.parser: the client runs on
# the same 2 cores as the server, and html.parser cost it 3.3 ms per visit form (about 1 ms of
# CPU per request of the mix); this gives the same fields (checked on every page of the mix).
_TAG = re.compile(
    r"<(/?)(form|input|select|option|textarea)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.IGNORECASE,
)
_ATTR = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _attrs(text: str) -> dict:
    attrs = {}
    for m in _ATTR.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if value is None:
            value = m.group(4)
        attrs.setdefault(m.group(1).lower(), None if value is None else html.unescape(value))
    return attrs


def parse_forms(page: str) -> list[dict]:
    """The forms of a page, each with the fields a browser would submit (defaults included)."""
    page = _COMMENT.sub("", page)
    forms: list[dict] = []
    select: str | None = None
    for m in _TAG.finditer(page):
        closing, tag, a = m.group(1), m.group(2).lower(), _attrs(m.group(3))
        if closing:
            if tag == "select":
                select = None
            continue
        if tag == "form":
            forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}})
            continue
        if not forms:
            continue
        fields = forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            select = name
            fields.setdefault(name, "")
        elif tag == "option" and select:
            if "selected" in a or not fields.get(select):
                fields[select] = a.get("value", "")
        elif tag == "textarea" and name:
            close = page.find("</textarea", m.end())
            fields[name] = html.unescape(page[m.end() : close if close >= 0 else len(page)])
    return forms


def form_fields(page: str, contains: str | None = None) -> dict:
    for form in parse_forms(page):
        if (form["method"] or "get").lower() == "post" and (
            contains is None or contains in form["fields"]
        ):
            return dict(form["fields"])
    raise LookupError(f"no POST form with {contains!r}")


@dataclass
class Sample:
    page: str
    started: float  # time.monotonic() at send
    seconds: float
    status: int
    ok: bool
    measured: bool


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    saved_visits: list[tuple[str, str]] = field(default_factory=list)  # (code, date)
    reports: list[dict] = field(default_factory=list)
    measuring: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def error(self, text: str) -> None:
        with self.lock:
            if len(self.errors) < 200:
                self.errors.append(text)


class Browser:
    """One user: a keep-alive connection from its own loopback address, and its cookies."""

    def __init__(self, host: str, port: int, source_ip: str, recorder: Recorder) -> None:
        self.host, self.port, self.source_ip = host, port, source_ip
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                self.host, self.port, timeout=60, source_address=(self.source_ip, 0)
            )
        return self.conn

    def request(
        self, page: str, method: str, path: str, data: dict | None = None, expect: int = 200
    ) -> tuple[int, str, str]:
        """Returns (status, location, body); records the latency under `page`."""
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Language": "fr"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.host}:{self.port}{path}"
        measured = self.recorder.measuring
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                # A keep-alive connection closed by the server between requests: retry once
                # on a new connection (what a browser does); anything else is an error.
                if attempt == 2 or not isinstance(
                    exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                ):
                    elapsed = time.monotonic() - started
                    self.recorder.add(Sample(page, started, elapsed, 0, False, measured))
                    self.recorder.error(f"{page} {method} {path}: {exc!r}")
                    raise
        elapsed = time.monotonic() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if "max-age=0" in value.lower() or val in ('""', ""):
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val.strip()
        location = response.getheader("Location") or ""
        ok = response.status == expect
        self.recorder.add(Sample(page, started, elapsed, response.status, ok, measured))
        text = payload.decode("utf-8", "replace")
        if not ok:
            snippet = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:300]
            self.recorder.error(
                f"{page} {method} {path}: {response.status} (expected {expect}) {snippet}"
            )
        return response.status, location, text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login(browser: Browser, email: str, password: str, totp_secret: str | None = None) -> None:
    _, _, html = browser.request("login_form", "GET", "/accounts/login/")
    fields = form_fields(html, "login")
    fields.update(login=email, password=password)
    status, location, _ = browser.request("login", "POST", "/accounts/login/", fields, expect=302)
    if status != 302:
        raise RuntimeError(f"login of {email} refused ({status})")
    if totp_secret:
        path = _path(location)
        if "/2fa/authenticate" not in path:
            raise RuntimeError(f"{email}: expected the second-factor step, got {location}")
        _, _, html = browser.request("2fa_form", "GET", path)
        fields = form_fields(html, "code")
        fields["code"] = totp(totp_secret)
        status, location, _ = browser.request("2fa", "POST", path, fields, expect=302)
        if status != 302:
            raise RuntimeError(f"second factor of {email} refused ({status})")


class Pacer:
    """Paced closed loop: one request every `interval` seconds on average (jittered), never
    bursting to catch up; interval 0 = as fast as the server answers."""

    def __init__(self, interval: float, rng: random.Random) -> None:
        self.interval, self.rng = interval, rng
        self.next = time.monotonic() + rng.uniform(0, interval)

    def wait(self, stop: threading.Event) -> bool:
        if self.interval > 0:
            delay = self.next - time.monotonic()
            if delay > 0 and stop.wait(delay):
                return False
            self.next = max(self.next, time.monotonic() - self.interval) + self.interval * (
                self.rng.uniform(0.5, 1.5)
            )
        return not stop.is_set()


def prescriber_loop(
    browser: Browser,
    account: dict,
    patients: list[dict],
    today: str,
    interval: float,
    stop: threading.Event,
    seed: int,
) -> None:
    rng = random.Random(seed)
    pacer = Pacer(interval, rng)
    queue = list(patients)
    while not stop.is_set():
        if not pacer.wait(stop):
            return
        browser.request("patient_list", "GET", "/patients/")
        if not queue:
            # Pool used up: keep browsing without saving.
            code = rng.choice(patients)["code"] if patients else None
            if code and pacer.wait(stop):
                browser.request("patient_page", "GET", f"/patients/{code}/")
            continue
        patient = queue.pop(0)
        code = patient["code"]
        if not pacer.wait(stop):
            return
        browser.request("patient_page", "GET", f"/patients/{code}/")
        if not pacer.wait(stop):
            return
        status, _, html = browser.request("visit_form", "GET", f"/patients/{code}/visits/new/")
        if status != 200:
            continue
        fields = form_fields(html, "visit_date")
        fields.update(
            visit_date=today,
            daily_dose_mg=patient["daily_dose_mg"],
            dose_morning_mg=patient["dose_morning_mg"],
            dose_noon_mg=patient["dose_noon_mg"],
            dose_evening_mg=patient["dose_evening_mg"],
            dose_bedtime_mg=patient["dose_bedtime_mg"],
            alcohol_g_per_day=patient["alcohol_g_per_day"],
            craving=patient["craving"],
            abstinent=patient["abstinent"],
            acknowledge_warnings="on",
        )
        if not pacer.wait(stop):
            # Stopping between the form and the save: the visit is simply not sent.
            return
        status, location, _ = browser.request(
            "visit_save", "POST", f"/patients/{code}/visits/new/", fields, expect=302
        )
        if status == 302:
            with browser.recorder.lock:
                browser.recorder.saved_visits.append((code, today))
            if not pacer.wait(stop):
                return
            browser.request("patient_page", "GET", _path(location))


PROGRESS = re.compile(r'<progress[^>]*value="(\d+)"')
STATUS = re.compile(r"text-bg-(success|danger|primary|secondary)")
STATUS_NAMES = {"success": "done", "danger": "failed", "primary": "running", "secondary": "pending"}


def agency_loop(
    browser: Browser,
    stop: threading.Event,
    max_reports: int,
    poll: float,
    pause: float,
    seed: int,
) -> None:
    rng = random.Random(seed)
    if stop.wait(rng.uniform(0, 3)):
        return
    for _ in range(max_reports):
        if stop.is_set():
            return
        _, _, html = browser.request("report_list", "GET", "/reports/")
        fields = form_fields(html, "preset")
        fields.update(preset="all", language="fr")
        requested = time.monotonic()
        status, location, _ = browser.request(
            "report_request", "POST", "/reports/", fields, expect=302
        )
        if status != 302:
            continue
        detail = _path(location)
        browser.request("report_page", "GET", detail)
        report = {"path": detail, "status": "pending", "seconds": None}
        with browser.recorder.lock:
            browser.recorder.reports.append(report)
        while not stop.wait(poll):
            _, _, html = browser.request("report_progress", "GET", f"{detail}progress/")
            found = STATUS.search(html)
            report["status"] = STATUS_NAMES[found.group(1)] if found else "?"
            if report["status"] in ("done", "failed"):
                report["seconds"] = time.monotonic() - requested
                if report["status"] == "failed":
                    browser.recorder.error(f"report {detail} failed")
                browser.request("report_page", "GET", detail)
                break
        if stop.wait(pause):
            return


def run(
    *,
    host: str,
    port: int,
    accounts: dict,
    duration: float,
    rate: float,
    warmup: float = 5.0,
    max_reports: int = 3,
    poll: float = 2.0,
    report_pause: float = 5.0,
    hello: bool = False,
    users: int | None = None,
) -> Recorder:
    """Log everyone in, run `warmup` s unmeasured then `duration` s measured, stop, return."""
    recorder = Recorder()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    prescribers = accounts["prescribers"][: users or len(accounts["prescribers"])]
    interval = len(prescribers) / rate if rate > 0 else 0.0
    browsers: list[Browser] = []

    def start(target, *args) -> None:
        thread = threading.Thread(target=_guard, args=(recorder, target, *args), daemon=True)
        threads.append(thread)
        thread.start()

    if hello:
        for i, _account in enumerate(prescribers):
            browser = Browser(host, port, f"127.0.0.{10 + i}", recorder)
            browsers.append(browser)
            start(hello_loop, browser, interval, stop, i)
    else:
        # Logins one after the other (the real PBKDF2 cost), before the measured window.
        logins_started = time.monotonic()
        for i, account in enumerate(prescribers):
            browser = Browser(host, port, f"127.0.0.{10 + i}", recorder)
            login(browser, account["email"], accounts["password"])
            browsers.append(browser)
        agency_browsers = []
        for j, account in enumerate(accounts.get("agency", [])):
            browser = Browser(host, port, f"127.0.0.{200 + j}", recorder)
            login(browser, account["email"], accounts["password"], account["totp_secret"])
            agency_browsers.append(browser)
        recorder.login_seconds = time.monotonic() - logins_started  # type: ignore[attr-defined]
        for i, (browser, account) in enumerate(zip(browsers, prescribers, strict=True)):
            start(
                prescriber_loop,
                browser,
                account,
                account["patients"],
                accounts["today"],
                interval,
                stop,
                i,
            )
        for j, browser in enumerate(agency_browsers):
            start(agency_loop, browser, stop, max_reports, poll, report_pause, 1000 + j)
            browsers.append(browser)
    time.sleep(warmup)
    recorder.measuring = True
    recorder.window_started = time.monotonic()  # type: ignore[attr-defined]
    time.sleep(duration)
    recorder.measuring = False
    recorder.window_seconds = time.monotonic() - recorder.window_started  # type: ignore[attr-defined]
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    for browser in browsers:
        browser.close()
    return recorder


def hello_loop(browser: Browser, interval: float, stop: threading.Event, seed: int) -> None:
    pacer = Pacer(interval, random.Random(seed))
    while pacer.wait(stop):
        browser.request("hello", "GET", "/")


def _guard(recorder: Recorder, target, *args) -> None:
    try:
        target(*args)
    except Exception as exc:  # noqa: BLE001 - a user's crash is an error of the run, reported
        recorder.error(f"{target.__name__} stopped: {exc!r}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def _timeline(measured: list[Sample], step: float = 5.0) -> list[dict]:
    """Requests, median and p95 per `step` seconds of the window: when the slow ones came."""
    if not measured:
        return []
    start = min(s.started for s in measured)
    buckets: dict[int, list[float]] = {}
    for sample in measured:
        buckets.setdefault(int((sample.started - start) // step), []).append(sample.seconds * 1000)
    return [
        {
            "from_s": index * step,
            "requests": len(times),
            "median_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
        }
        for index, times in sorted(buckets.items())
    ]


def summarize(recorder: Recorder) -> dict:
    measured = [s for s in recorder.samples if s.measured]
    window = getattr(recorder, "window_seconds", 0) or 1
    pages: dict[str, dict] = {}
    for sample in measured:
        pages.setdefault(sample.page, []).append(sample)
    table = {}
    for page, samples in sorted(pages.items()):
        times = [s.seconds * 1000 for s in samples]
        table[page] = {
            "count": len(samples),
            "median_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
            "max_ms": max(times),
            "errors": sum(not s.ok for s in samples),
        }
    return {
        "window_seconds": window,
        "requests": len(measured),
        "requests_per_second": len(measured) / window,
        "errors_measured": sum(not s.ok for s in measured),
        "errors_total": sum(not s.ok for s in recorder.samples)
        + sum(1 for e in recorder.errors if "stopped:" in e),
        "pages": table,
        "all_ms": {
            "median": percentile([s.seconds * 1000 for s in measured], 50),
            "p95": percentile([s.seconds * 1000 for s in measured], 95),
        },
        "timeline": _timeline(measured),
        "saved_visits": len(recorder.saved_visits),
        "reports": list(recorder.reports),
        "error_samples": recorder.errors[:20],
        "login_seconds": getattr(recorder, "login_seconds", None),
    }
