"""live.js, the pages and the consumers agree on one websocket contract (tickets.live_contract).

live.js is read as text: a small scanner separates its string and number literals from its
comments, so the checks see what the script does, not what its comments say. Frames and close
codes must reach it only through the ``data-*`` attributes the pages render; its handler tables
are keyed by the contract's names and must cover exactly the frames of each route. The consumers
are read as Python source (``ast``): every frame is built from a ``Frame`` of the consumer's
route, never from a literal. That live.js really dispatches on what the attributes say (and not
on names of its own) is also shown in a browser: tests/e2e/test_live_updates.py renames the wire
types and close codes in a page and checks the script follows.
"""

import ast
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tickets import consumers
from tickets.consumers import TicketConsumer, TicketListConsumer
from tickets.live_contract import (
    ATTR_CLOSE,
    ATTR_FRAMES,
    ATTR_ROUTE,
    ATTR_URL,
    CLOSE_ACTIONS,
    ROUTES,
    TICKET,
    TICKET_LIST,
    Close,
    CloseAction,
    Frame,
)
from tickets.routing import websocket_urlpatterns

LIVE_JS = Path(settings.BASE_DIR) / "static" / "js" / "live.js"
CONSUMERS_PY = Path(consumers.__file__)
# The close codes an application may define (RFC 6455, 7.4.2): none may be written in live.js.
APPLICATION_CLOSE_CODES = range(4000, 5000)


# Reading live.js -------------------------------------------------------------------------------


def scan_js(source: str) -> tuple[str, list[str], list[int]]:
    """(code with strings and comments blanked out, string literals, number literals).

    Enough JavaScript for live.js: quotes with escapes, // and /* */ comments. A regex literal
    is left in the code (live.js has no quote or comment opener inside one)."""
    code, strings = [], []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end == -1 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            assert end != -1, "unterminated comment in live.js"
            i = end + 2
        elif char in "\"'`":
            j, text = i + 1, []
            while source[j] != char:
                if source[j] == "\\":
                    text.append(source[j + 1])
                    j += 2
                else:
                    text.append(source[j])
                    j += 1
            strings.append("".join(text))
            code.append('""')
            i = j + 1
        else:
            code.append(char)
            i += 1
    code_text = "".join(code)
    numbers = [int(float(number)) for number in re.findall(r"(?<![\w.$])\d+(?:\.\d+)?\b", code_text)]
    return code_text, strings, numbers


def block_after(code: str, opener: str) -> str:
    """The text between the ``{`` that ends ``opener`` and its matching ``}``."""
    start = code.index(opener) + len(opener)
    assert code[start - 1] == "{", opener
    depth = 1
    for position in range(start, len(code)):
        depth += {"{": 1, "}": -1}.get(code[position], 0)
        if depth == 0:
            return code[start:position]
    raise AssertionError(f"no end to {opener!r}")


def top_level_keys(block: str) -> set[str]:
    """The keys of an object literal's body (nested blocks skipped)."""
    keys, depth = set(), 0
    for line in block.splitlines():
        if depth == 0:
            match = re.match(r"\s*([A-Za-z_$][\w$]*)\s*:", line)
            if match:
                keys.add(match[1])
        depth += line.count("{") - line.count("}")
    return keys


@pytest.fixture(scope="module")
def live_js():
    return scan_js(LIVE_JS.read_text())


def test_live_js_writes_no_frame_type_or_close_code_of_its_own(live_js):
    _code, strings, numbers = live_js
    wire_types = {frame.value for frame in Frame}
    assert not wire_types & set(strings), "live.js must read frame types from data-live-frames"
    codes = {int(code) for code in Close}
    written = [number for number in numbers if number in codes or number in APPLICATION_CLOSE_CODES]
    assert not written, f"live.js must read close codes from data-live-close, not write {written}"


def test_live_js_reads_the_contract_from_the_attributes_the_pages_render(live_js):
    code, strings, _numbers = live_js
    for attribute in (ATTR_ROUTE, ATTR_URL, ATTR_FRAMES, ATTR_CLOSE):
        assert attribute in strings, f"live.js does not read {attribute}"
    # It dispatches through the table built from data-live-frames, never on its own keys.
    assert not re.search(r"handlers\s*\[\s*data\.type", code)
    assert re.search(r"handlerOf\s*\[\s*data\.type\s*\]", code)


def test_live_js_handles_exactly_the_frames_of_each_route(live_js):
    code, _strings, _numbers = live_js
    pages = dict(re.findall(r"(\w+)\s*:\s*(\w+)", block_after(code, "var PAGES = {")))
    assert set(pages) == set(ROUTES), "live.js needs one page behaviour per route"
    for name, route in ROUTES.items():
        opener = f"function {pages[name]}("
        assert opener in code, f"live.js has no {opener}...)"
        handlers = top_level_keys(block_after(code[code.index(opener) :], "var handlers = {"))
        assert handlers == {frame.name for frame in route.frames}, name


def test_live_js_has_a_handler_for_every_close_action(live_js):
    code, _strings, _numbers = live_js
    actions = top_level_keys(block_after(code, "var CLOSE_ACTIONS = {"))
    assert actions == {action.value for action in CloseAction}
    assert {action.value for action in CLOSE_ACTIONS.values()} <= actions


# The pages -------------------------------------------------------------------------------------


class LiveElements(HTMLParser):
    """The attributes of each element that carries ``data-live-route`` (values unescaped)."""

    def __init__(self):
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if ATTR_ROUTE in attributes:
            self.found.append({k: v for k, v in attributes.items() if k.startswith("data-live-")})


def live_elements(html: bytes) -> list[dict[str, str]]:
    parser = LiveElements()
    parser.feed(html.decode())
    return parser.found


def consumer_of(url: str):
    """The consumer class tickets.routing hands ``url`` to."""
    for pattern in websocket_urlpatterns:
        if pattern.pattern.match(url.lstrip("/")):
            return pattern.callback.consumer_class
    raise AssertionError(f"no websocket route for {url}")


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_ticket_page_and_list_hand_the_contract_to_live_js(request, who, workspace, ticket, login):
    client = login(request.getfixturevalue(who))
    pages = [
        (reverse("ticket_detail", args=[workspace.slug, ticket.number]), TICKET, TicketConsumer),
        (reverse("ticket_list", args=[workspace.slug]), TICKET_LIST, TicketListConsumer),
    ]
    for page_url, route, consumer in pages:
        response = client.get(page_url)
        assert response.status_code == 200
        kwargs = {"slug": workspace.slug}
        if route is TICKET:
            kwargs["number"] = ticket.number
        assert live_elements(response.content) == [route.attributes(**kwargs)]
        (element,) = live_elements(response.content)
        assert json.loads(element[ATTR_FRAMES]) == {frame.name: frame.value for frame in route.frames}
        close = {str(code.value): action.value for code, action in CLOSE_ACTIONS.items()}
        assert json.loads(element[ATTR_CLOSE]) == close
        assert consumer_of(element[ATTR_URL]) is consumer


# The consumers and the routing -------------------------------------------------------------------


def test_routing_serves_each_route_of_the_contract_with_the_consumer_that_names_it():
    served = {str(pattern.pattern): pattern.callback.consumer_class for pattern in websocket_urlpatterns}
    assert served == {TICKET.path: TicketConsumer, TICKET_LIST.path: TicketListConsumer}
    assert {consumer.route for consumer in served.values()} == set(ROUTES.values())


def _frames_built(class_node: ast.ClassDef) -> set[str]:
    """Names of the ``Frame`` members passed to ``self.frame(...)`` in a class body."""
    names = set()
    for node in ast.walk(class_node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "frame"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
        ):
            (frame_type, *_rest) = node.args
            assert isinstance(frame_type, ast.Attribute) and isinstance(frame_type.value, ast.Name)
            assert frame_type.value.id == "Frame", ast.unparse(node)
            names.add(frame_type.attr)
    return names


def test_every_frame_the_consumers_send_is_a_frame_of_their_route():
    tree = ast.parse(CONSUMERS_PY.read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    for consumer in (TicketConsumer, TicketListConsumer):
        built = _frames_built(classes[consumer.__name__])
        assert built == {frame.name for frame in consumer.route.frames}, consumer.__name__
    # The one place a frame's dict is made is the ``frame`` method, which checks the route.
    (frame_method,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "frame"]
    inside_frame_method = {id(node) for node in ast.walk(frame_method)}
    for node in ast.walk(tree):
        # No frame is written as a dict literal with a "type" key elsewhere...
        if isinstance(node, ast.Dict) and id(node) not in inside_frame_method:
            keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
            assert "type" not in keys, ast.unparse(node)
        # ...and no close code as a number.
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            assert node.value not in APPLICATION_CLOSE_CODES, ast.unparse(node)


def test_a_consumer_refuses_to_build_a_frame_of_another_route():
    assert TicketListConsumer().frame(Frame.ROW_REMOVED, id=3) == {"type": "row.removed", "id": 3}
    with pytest.raises(ValueError):
        TicketListConsumer().frame(Frame.MESSAGE, id=3, html="")
    with pytest.raises(ValueError):
        TicketConsumer().frame(Frame.ROW, id=3, html="")


def test_every_frame_and_close_code_belongs_to_the_contract():
    assert {frame for route in ROUTES.values() for frame in route.frames} == set(Frame)
    assert set(CLOSE_ACTIONS) == set(Close)
    assert all(int(code) in APPLICATION_CLOSE_CODES for code in Close)
