"""Helpers the tests share: fixture locations, writing files, reading problems."""

from __future__ import annotations

import functools
import posixpath
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from efflit.memory import cache
from efflit.pipeline.check import check

FIXTURES = Path(__file__).parent / "fixtures"
REPOSITORY = Path(__file__).parent.parent


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems(root: Path) -> list[str]:
    """Every problem of ``efflit check`` as `path:line:col: severity: message` lines."""
    _, report = check(root)
    return [f"{p.position}: {p.severity.value}: {p.message}" for p in report.sorted()]


def errors(root: Path) -> list[str]:
    return [p for p in problems(root) if ": error: " in p]


RECORD = """\
id: {id}
title: {title}
authors:
  - Ada Example
year: 2023
tags:
  - inference/quantization
source:
  - person: efflit test suite
added: 2026-11-25
"""


OUR_SCRIPTS = re.compile(r"^(static/[\w-]+\.js|pagefind/pagefind-ui\.js)$")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "xlink:href", "srcset", "background", "data"}
SCRIPT_CAPABLE = ["iframe", "frame", "frameset", "object", "embed", "applet", "base", "foreignobject"]


def assert_no_script(site: Path) -> None:
    """No page, SVG image or feed of ``site`` holds inline script, a foreign script, an event
    handler, a script URL, an element that embeds a document, or a CSS expression; nor does the
    HTML a feed carries as escaped text (`type="html"`), which a feed reader renders."""
    for file in sorted([*site.rglob("*.html"), *site.rglob("*.svg"), *site.rglob("*.xml")]):
        name = file.relative_to(site).as_posix()
        with warnings.catch_warnings():  # XML read as HTML on purpose: as lenient as a browser
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
        _assert_no_script_in(name, soup)
        for carried in soup.find_all(["content", "summary", "subtitle", "title"], attrs={"type": "html"}):
            _assert_no_script_in(f"{name} ({carried.name})", BeautifulSoup(carried.get_text(), "html.parser"))


def _assert_no_script_in(name: str, soup: BeautifulSoup) -> None:
    for script in soup.find_all("script"):
        src = script.get("src")
        assert src and not script.string, f"{name}: inline script {script}"
        assert OUR_SCRIPTS.match(posixpath.normpath(posixpath.join(posixpath.dirname(name), src))), (
            f"{name}: foreign script {src}"
        )
    assert not soup.find_all(SCRIPT_CAPABLE), f"{name}: {soup.find_all(SCRIPT_CAPABLE)}"
    for tag in soup.find_all(True):
        for attribute, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            assert not attribute.lower().startswith("on"), f"{name}: event handler in {tag}"
            if attribute.lower() in URL_ATTRIBUTES:
                bare = re.sub(r"[\x00-\x20]", "", value).lower()
                assert not bare.startswith(("javascript:", "data:", "vbscript:")), f"{name}: {attribute} in {tag}"
            if attribute.lower() == "style":
                assert "expression(" not in value.lower(), f"{name}: CSS expression in {tag}"
    for style in soup.find_all("style"):
        assert "expression(" not in style.get_text().lower(), f"{name}: CSS expression in <style>"
    # The one refresh allowed: an old id's page sending readers on to the paper's own page.
    for refresh in soup.find_all("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)}):
        assert re.fullmatch(r"0; url=(\.\./)+papers/[a-z0-9_-]+/", refresh.get("content", "")), f"{name}: {refresh}"


def eventually(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Whether ``condition`` holds within ``seconds`` (for work efflit leaves to a background process)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def forget_memory() -> None:
    """Forget what this process keeps of the cache files it read or wrote, so that the next read
    unpickles the file on disk, as another process would."""
    cache._known.clear()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """A built site served on 127.0.0.1 while the block runs; its address, ending in "/"."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
