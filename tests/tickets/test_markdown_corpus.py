"""Every pathological body of tests/markdown_corpus.py renders, without an error, to inert HTML.

Not timed here (the machine is shared): the time budget is enforced by ``make bench``
(bench/markdown_bench.py), at the longest body a message may have.
"""

import pytest

from helpdesk.markdown import render_markdown
from tests.markdown_corpus import CASES, corpus, inert_problems
from tickets.models import MESSAGE_BODY_MAX_LENGTH

# A quarter of the longest body: long enough for every nesting limit and run to show, short
# enough for the suite. The bench renders them at the full length.
LENGTH = MESSAGE_BODY_MAX_LENGTH // 4


@pytest.mark.parametrize(("name", "body"), corpus(LENGTH), ids=list(CASES))
def test_a_pathological_body_renders_to_inert_html(name, body):
    html = str(render_markdown(body))
    assert isinstance(html, str)
    assert inert_problems(html) == [], name
    assert "\x00" not in html


def test_the_corpus_bodies_have_the_length_asked_for():
    for name, body in corpus(1000):
        assert len(body) == 1000, name


def test_a_control_character_in_a_body_does_not_reach_the_page():
    html = str(render_markdown("a\x00b\u202ec"))
    assert "\x00" not in html and "\u202e" not in html
    assert "[U+202E]" in html
