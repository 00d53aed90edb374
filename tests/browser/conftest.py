"""Playwright against pytest-django's live_server, with Debian's Chromium and axe-core."""
import os
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_PATH = Path(__file__).resolve().parents[2] / "config" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def _live_server_media_url():
    """Give MEDIA_URL a string while the live server runs.

    The app sets MEDIA_URL = None (documents are only served through access-checked views), but
    Django's LiveServerThread wraps every request in _MediaFilesHandler, which does
    urlparse(settings.MEDIA_URL): with None that yields bytes and every request fails with
    "startswith first arg must be str ... not bytes". A prefix no page links to restores it.
    """
    from django.conf import settings

    original = settings.MEDIA_URL
    if original is None:
        settings.MEDIA_URL = "/__live-server-media__/"
    yield
    settings.MEDIA_URL = original


@pytest.fixture(scope="session")
def live_server(_live_server_media_url, live_server):
    return live_server


@pytest.fixture(autouse=True)
def _quick_timeouts(page):
    """Fail in seconds, not the default 30, when something is missing."""
    page.set_default_timeout(8_000)
    page.set_default_navigation_timeout(15_000)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True, "viewport": {"width": 1280, "height": 900}}


def assert_accessible(page) -> None:
    """Run axe-core's WCAG 2.x A/AA rules on the current page; fail listing every violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_PATH))
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }""",
        AXE_TAGS,
    )
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url} ({page.title()}):"]
        for v in violations:
            lines.append(f"  - {v['id']} [{v['impact']}]: {v['help']}; nodes: {', '.join(v['targets'])}")
        pytest.fail("\n".join(lines), pytrace=False)


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show now for this device."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def sign_in(page, live_server, user, device: TOTPDevice, *, check=assert_accessible) -> None:
    """Sign in as a person would: password, then the code from the app. Checks each page with axe."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("heading", name="Sign in").wait_for()
    check(page)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Enter your security code").wait_for()
    check(page)
    device.refresh_from_db()
    page.get_by_label("6-digit code from your authenticator app").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()
