"""One administration shell: every admin page shows the same tab bar with its own tab marked, and
nobody but an admin ever sees it."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from privacy.retention.holds import legal_hold_place
from privacy.retention.models import HoldScope
from tests.privacy.matrix import _retention_post
from workspaces.models import Role

TABS = [
    ("Members", "admin_members"),
    ("Requesters", "admin_requesters"),
    ("Queues", "admin_queues"),
    ("Mailboxes", "admin_mailboxes"),
    ("Fields", "admin_fields"),
    ("Service levels", "admin_sla"),
    ("Retention", "retention_settings"),
    ("Legal holds", "legal_holds"),
    ("Data requests", "subject_requests"),
    ("Audit log", "audit_log"),
    ("Security", "admin_security"),
    ("Single sign-on", "admin_sso"),
]


class _TabBar(HTMLParser):
    """The links of ``<nav class="admin-tabs">``: (text, href, aria-current) in page order."""

    def __init__(self):
        super().__init__()
        self.navs = 0
        self.inside = False
        self.link = None
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and "admin-tabs" in (attrs.get("class") or "").split():
            self.navs += 1
            self.inside = True
        elif tag == "a" and self.inside:
            self.link = [attrs.get("href"), attrs.get("aria-current"), ""]

    def handle_data(self, data):
        if self.link is not None:
            self.link[2] += data

    def handle_endtag(self, tag):
        if tag == "a" and self.link is not None:
            href, current, text = self.link
            self.links.append((text.strip(), href, current))
            self.link = None
        elif tag == "nav":
            self.inside = False


def tab_bar(response) -> _TabBar:
    parser = _TabBar()
    parser.feed(response.content.decode())
    return parser


def url(name, workspace, **kwargs):
    return reverse(name, kwargs={"slug": workspace.slug, **kwargs})


@pytest.fixture
def hold(workspace, admin):
    return legal_hold_place(workspace=workspace, actor=admin.user, scope=HoldScope.WORKSPACE, reason="Audit.")


@pytest.fixture
def custom_field(workspace, admin):
    from tickets.custom_fields import custom_field_create

    return custom_field_create(workspace=workspace, label="Order number", kind="text", actor=admin.user)


# (page, its kwargs beyond the slug, the tab it belongs to)
PAGES = [
    ("admin_members", {}, "admin_members"),
    ("admin_requesters", {}, "admin_requesters"),
    ("admin_queues", {}, "admin_queues"),
    ("retention_settings", {}, "retention_settings"),
    ("legal_holds", {}, "legal_holds"),
    ("subject_requests", {}, "subject_requests"),
    ("audit_log", {}, "audit_log"),
    ("admin_security", {}, "admin_security"),
    ("admin_sso", {}, "admin_sso"),
    ("admin_invite", {}, "admin_members"),
    ("admin_member", {"member_id": "admin"}, "admin_members"),
    ("admin_queue", {"queue_id": "queue"}, "admin_queues"),
    ("admin_mailboxes", {}, "admin_mailboxes"),
    ("legal_hold_new", {}, "legal_holds"),
    ("legal_hold_detail", {"hold_id": "hold"}, "legal_holds"),
    ("admin_fields", {}, "admin_fields"),
    ("admin_field", {"field_id": "custom_field"}, "admin_fields"),
]


def _kwargs(request, kwargs):
    return {name: request.getfixturevalue(fixture).pk for name, fixture in kwargs.items()}


@pytest.mark.parametrize(("page", "kwargs", "tab"), PAGES, ids=[p[0] for p in PAGES])
def test_every_admin_page_shows_the_tabs_with_its_own_marked(
    request, login, workspace, admin, page, kwargs, tab
):
    response = login(admin).get(url(page, workspace, **_kwargs(request, kwargs)))
    assert response.status_code == 200
    bar = tab_bar(response)
    assert bar.navs == 1
    expected = [(text, url(name, workspace), "page" if name == tab else None) for text, name in TABS]
    assert bar.links == expected


def test_the_retention_confirmation_is_under_the_retention_tab(login, workspace, admin):
    response = login(admin).post(url("retention_settings", workspace), _retention_post(tickets_days=50))
    assert [t.name for t in response.templates][0] == "privacy/retention_confirm.html"
    current = [text for text, _href, mark in tab_bar(response).links if mark == "page"]
    assert current == ["Retention"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.REQUESTER])
@pytest.mark.parametrize(("page", "kwargs", "tab"), PAGES, ids=[p[0] for p in PAGES])
def test_no_one_else_reaches_an_admin_page_or_sees_the_tabs(
    request, login, workspace, admin, agent, requester, page, kwargs, tab, role
):
    member = agent if role == Role.AGENT else requester
    response = login(member).get(url(page, workspace, **_kwargs(request, kwargs)))
    assert response.status_code == 404
    assert tab_bar(response).navs == 0


def test_workspace_pages_outside_administration_have_no_tab_bar(login, workspace, admin, agent):
    for member in (admin, agent):
        response = login(member).get(url("ticket_list", workspace))
        assert response.status_code == 200
        assert tab_bar(response).navs == 0
