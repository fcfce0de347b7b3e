"""Script injection: payloads in every text field of a record, of the taxonomy and of the settings
must reach the reader as text.  Every page the build makes is loaded in Chromium, twice: once with
the pages' Content-Security-Policy bypassed (so escaping and sanitising alone must hold) and once
with it enforced; a recorder installed before any page script notes every call a payload would make.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from efflit.pipeline.build import build
from kbtools import FIXTURES

INJECTION = FIXTURES / "injection"

# Installed before any script of the page runs: the marker every payload calls, the dialog
# functions, and a listener for what the Content-Security-Policy blocked.  Each call goes to Python
# at once through a binding, so nothing is lost when the page navigates.
RECORDER = """
(() => {
  const report = (kind, args) => {
    try { window.__xssReport(kind, location.pathname, Array.from(args, String).join(' ')); } catch (e) {}
  };
  window.__xss = function () { report('payload', arguments); };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = function () { report(name, arguments); };
  }
  document.addEventListener('securitypolicyviolation',
    (e) => report('csp-violation', [e.violatedDirective, e.blockedURI, e.sample]));
})();
"""

# What a payload would leave in the DOM even where nothing triggers it (a hover, a click).
DOM_AUDIT = """
() => {
  const found = [];
  const scheme = /^(javascript|vbscript|data):/i;
  const describe = (el) => el.outerHTML.slice(0, 160);
  // Pagefind's own search form, built by its script, is the one javascript: URL the site has.
  const ours = (el, value) => el.matches('form.pagefind-ui__form') && value === 'javascript:void(0);';
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\u0000-\\u0020]/g, '');
      if (name.startsWith('on')) found.push('event handler: ' + describe(el));
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc', 'background', 'poster']
          .includes(name) && scheme.test(value) && !ours(el, value))
        found.push('dangerous URL: ' + describe(el));
      if (name === 'style' && /expression|javascript|url\\(/i.test(attr.value)) found.push('style: ' + describe(el));
    }
  }
  for (const el of document.querySelectorAll('script')) {
    if (!el.src || new URL(el.src).origin !== location.origin) found.push('script: ' + describe(el));
  }
  for (const el of document.querySelectorAll('iframe, frame, object, embed, base, body style, svg foreignObject, svg animate, svg set')) {
    found.push('element: ' + describe(el));
  }
  for (const el of document.querySelectorAll('meta[http-equiv]')) {
    if (el.httpEquiv.toLowerCase() !== 'content-security-policy') found.push('meta: ' + describe(el));
  }
  return found;
}
"""

CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', re.I)
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def injection_site(tmp_path_factory) -> tuple[str, Path]:
    """The tiny knowledge base overlaid with the payload records, taxonomy and settings, built and served."""
    root = tmp_path_factory.mktemp("injection") / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    shutil.copytree(INJECTION, root, dirs_exist_ok=True)
    _, report = build(root)
    assert not report.errors, [str(p) for p in report.errors]
    site = root / "site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", site
    server.shutdown()


def html_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "pagefind" not in p.parts)


def test_payloads_are_in_the_knowledge_base_and_every_page_forbids_inline_script(injection_site):
    _, site = injection_site
    pages = html_pages(site)
    assert 20 <= len(pages) <= 60, pages
    for name in ("papers/xss2023scripted/index.html", "papers/xss2024entities/index.html"):
        assert name in pages
    for name in pages:
        text = (site / name).read_text(encoding="utf-8")
        policies = CSP.findall(text)
        assert len(policies) == 1, f"{name}: {len(policies)} CSP meta tags"
        directives = {d.split()[0]: d.split()[1:] for d in policies[0].split(";") if d.strip()}
        scripts = directives.get("script-src", directives.get("default-src"))
        assert scripts is not None, f"{name}: no script-src"
        assert not set(scripts) & UNSAFE_SCRIPT_SOURCES, f"{name}: script-src {scripts}"
        assert directives.get("object-src") == ["'none'"] and directives.get("base-uri") == ["'none'"], name
        # The policy must come before anything a payload could put on the page.
        assert text.index("Content-Security-Policy") < min(text.find("<title"), text.find("<body")), name
        assert "<script>__xss" not in text, f"{name}: a live <script> payload"


@pytest.mark.parametrize("enforce_csp", [False, True], ids=["csp-bypassed", "csp-enforced"])
def test_no_payload_runs_on_any_page(browser, injection_site, enforce_csp):
    url, site = injection_site
    calls: list[tuple] = []
    dialogs: list[str] = []
    errors: list[str] = []
    leftovers: dict[str, list[str]] = {}
    context = browser.new_context(bypass_csp=not enforce_csp, viewport={"width": 1280, "height": 900})
    context.expose_binding("__xssReport", lambda source, *args: calls.append(args))
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(f"{dialog.type}: {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    try:
        pages = html_pages(site)
        for name in pages:
            response = page.goto(url + name, wait_until="load")
            assert response is not None and response.ok, name
            if '<meta http-equiv="refresh"' in (site / name).read_text(encoding="utf-8"):  # an old id's page
                for _ in range(200):  # the sync API sees the navigation only while it waits
                    if not page.url.endswith(name):
                        break
                    page.wait_for_timeout(50)
                assert not page.url.endswith(name), f"{name} did not send the reader on"
                page.wait_for_load_state("load")
            if found := page.evaluate(DOM_AUDIT):
                leftovers[name] = found
        page.goto("about:blank")  # unload the last page; any late call has arrived by now
    finally:
        context.close()
    assert calls == []
    assert dialogs == []
    assert leftovers == {}
    assert errors == []


def test_the_recorder_catches_a_payload_that_runs(browser, injection_site):
    """The detector itself: a page that does run payloads is caught by both the recorder and the audit."""
    url, _ = injection_site
    calls: list[tuple] = []
    context = browser.new_context(bypass_csp=True)
    context.expose_binding("__xssReport", lambda source, *args: calls.append(args))
    context.add_init_script(RECORDER)
    page = context.new_page()
    canary = "<p>x</p><img src=x onerror=__xss('img')><script>alert(1)</script><a href='javascript:x'>a</a>"
    page.route(url + "canary.html", lambda route: route.fulfill(body=canary, content_type="text/html"))
    try:
        page.goto(url + "canary.html", wait_until="load")
        found = page.evaluate(DOM_AUDIT)
        page.goto("about:blank")
    finally:
        context.close()
    assert sorted(kind for kind, *_ in calls) == ["alert", "payload"]
    assert [f.split(":")[0] for f in found] == ["event handler", "dangerous URL", "script"]


def test_payloads_show_as_text(page, injection_site):
    url, _ = injection_site
    page.goto(url + "papers/xss2023scripted/")
    heading = page.locator("h1").inner_text()
    assert heading == "\"><script>__xss('title')</script><img src=x onerror=__xss('title-img')> Scripted Title"
    assert "<svg onload=__xss('person')>" in page.locator("#main").inner_text()
    summary = page.locator(".summary")
    assert "<img src=x onerror=__xss('raw-img')>" in summary.inner_text()
    assert "\u202etxt.exe\u202c" in summary.inner_text()  # kept as text, shown as written
    for href in summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert href is None or href.startswith(("http://", "https://", "mailto:")), href
    page.goto(url + "papers/xss2024entities/")
    assert page.locator("h1").inner_text().startswith("{{ 7*7 }} {% raw %} &lt;script&gt;")


def test_feeds_and_data_files_stay_well_formed(injection_site):
    _, site = injection_site
    for name in ("feed.xml", "sitemap.xml"):
        ET.parse(site / name)  # raises on a payload that broke out of the XML
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<script>" not in feed
    records = json.loads((site / "downloads/papers.json").read_text(encoding="utf-8"))
    titles = {r["id"]: r["title"] for r in (records if isinstance(records, list) else records["papers"])}
    assert titles["xss2023scripted"].startswith('"><script>')
    json.loads((site / "downloads/papers.csl.json").read_text(encoding="utf-8"))
