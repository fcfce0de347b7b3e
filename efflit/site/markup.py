"""Markdown summaries to safe HTML.

Python-Markdown passes raw HTML through and makes ``javascript:`` links live,
so raw HTML is switched off (it shows as text) and the output goes through
nh3 with an explicit allow-list as a second, independent guard.
"""

from __future__ import annotations

import html
import re
from functools import cache

import markdown
import nh3

from efflit.kb.models import SUMMARY_LINK_SCHEMES

ALLOWED_TAGS = {"p", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# Python-Markdown's link parsing is quadratic in unmatched brackets; summaries never need many.
MAX_BRACKETS = 200

_markdown = markdown.Markdown(extensions=[], output_format="html")
_markdown.preprocessors.deregister("html_block")
_markdown.inlinePatterns.deregister("html")
_BRACKETS = re.compile(r"[\[\]]")


@cache  # pages, feed and search ask for the same summary: render it once
def render_markdown(text: str) -> str:
    """Sanitised HTML for a summary written in Markdown."""
    if len(_BRACKETS.findall(text)) > MAX_BRACKETS:
        text = _BRACKETS.sub(lambda m: "\\" + m.group(), text)
    html = _markdown.reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(SUMMARY_LINK_SCHEMES),
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
        url_relative="deny",  # relative links would point into our own site
    )


def plain_text(text: str) -> str:
    """The summary without markup, for meta descriptions and search."""
    return " ".join(html.unescape(nh3.clean(render_markdown(text), tags=set())).split())
