"""Every page a browser journey visits is checked with axe-core (WCAG 2.2 A/AA).

Checks run at points where the test itself is talking to the browser: before each action on a
page (click, fill, goto, ...), after each ``goto``/``reload``, and once more on the pages still
open at the end of the test, as scripts left them. A
Playwright event handler could not run them: it runs beside the test, which may navigate away
mid-check. A marker in the page's window says its document was checked, so a new document
(a navigation) is checked once, however many actions follow.

axe is evaluated through the DevTools protocol, which the pages' Content Security Policy does
not apply to, so the pages are tested under the policy they really ship with.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
# axe ships these WCAG rules as "experimental", off unless named; label-in-name (2.5.3) is one.
EXPERIMENTAL_RULES = ["label-content-name-mismatch"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "rules": {rule: {"enabled": True} for rule in EXPERIMENTAL_RULES},
    "resultTypes": ["violations"],
}
CHECKED_MARK = "__a11yChecked"

PAGE_ACTIONS = [
    "click",
    "dblclick",
    "fill",
    "press",
    "type",
    "check",
    "uncheck",
    "set_checked",
    "select_option",
    "set_input_files",
    "tap",
    "hover",
    "focus",
    "dispatch_event",
    "close",
]
LOCATOR_ACTIONS = PAGE_ACTIONS[:-1] + ["press_sequentially", "clear", "select_text", "drag_to"]
NAVIGATIONS = ["goto", "reload", "go_back", "go_forward"]

# Origins of the app servers under test (added by the live_asgi fixture); other pages, such as
# the test OpenID provider's own login page, are not ours to fix.
app_origins: set[str] = set()


class AccessibilityViolation(AssertionError):
    pass


@dataclass
class Violation:
    rule: str
    impact: str
    help: str
    targets: list[str]

    def describe(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help}; at {', '.join(self.targets)}"


def run_axe(page: Page) -> list[Violation]:
    """Serious and critical WCAG A/AA violations on the page's current document."""
    page.evaluate(f"() => {{ if (!window.axe) {{ {AXE_SCRIPT}\n }} }}")
    results = page.evaluate("options => window.axe.run(document, options)", AXE_OPTIONS)
    return [
        Violation(
            rule=item["id"],
            impact=item["impact"],
            help=item["help"],
            targets=[" ".join(map(str, node["target"])) for node in item["nodes"]],
        )
        for item in results["violations"]
        if item["impact"] in FAILING_IMPACTS
    ]


def report(url: str, violations: list[Violation]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    lines += [f"  - {violation.describe()}" for violation in violations]
    return "\n".join(lines)


def is_app_page(url: str) -> bool:
    return any(url == origin or url.startswith(origin + "/") for origin in app_origins)


@dataclass
class Auditor:
    """Checks each new document of app pages once; raises on the first failing one."""

    checked_urls: list[str] = field(default_factory=list)
    _busy: bool = False

    def check(self, page: Page, again: bool = False) -> None:
        """Check the page's document unless done before (``again``: unless it failed before,
        so what scripts changed since is checked too)."""
        if self._busy or page.is_closed() or not is_app_page(page.url):
            return
        self._busy = True
        try:
            page.wait_for_load_state("load")
            try:
                mark = page.evaluate(f"() => window.{CHECKED_MARK} || ''")
                if mark == "failed" or (mark and not again):
                    return
                url = page.url
                violations = run_axe(page)
                outcome = "failed" if violations else "passed"
                page.evaluate(f"outcome => {{ window.{CHECKED_MARK} = outcome; }}", outcome)
            except PlaywrightError as error:
                if "context was destroyed" in str(error) or "navigation" in str(error).lower():
                    return  # the page moved on mid-check; its next document gets checked instead
                raise
            self.checked_urls.append(url)
            if violations:
                raise AccessibilityViolation(report(url, violations))
        finally:
            self._busy = False

    def _before(self, method, page_of):
        @functools.wraps(method)
        def wrapper(target, *args, **kwargs):
            self.check(page_of(target))
            return method(target, *args, **kwargs)

        return wrapper

    def _after(self, method):
        @functools.wraps(method)
        def wrapper(page, *args, **kwargs):
            self.check(page)
            response = method(page, *args, **kwargs)
            self.check(page)
            return response

        return wrapper

    def install(self, monkeypatch) -> None:
        """Hook Playwright's page and locator actions for this test (monkeypatch undoes it)."""
        for name in PAGE_ACTIONS:
            monkeypatch.setattr(Page, name, self._before(getattr(Page, name), lambda page: page))
        for name in LOCATOR_ACTIONS:
            monkeypatch.setattr(
                Locator, name, self._before(getattr(Locator, name), lambda locator: locator.page)
            )
        for name in NAVIGATIONS:
            monkeypatch.setattr(Page, name, self._after(getattr(Page, name)))

    def finish(self, contexts) -> None:
        """Check the pages still open when the test ends, as the test left them."""
        for context in contexts:
            for page in context.pages:
                self.check(page, again=True)
