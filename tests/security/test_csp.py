"""Content-Security-Policy: a strict policy on every response, and templates that need nothing
inline (no inline scripts, no event-handler attributes, no inline styles), so it breaks nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

SRC = Path(__file__).resolve().parents[2] / "src" / "expatsi"
# Rendered to PDF by WeasyPrint on the server, never served to a browser: CSP does not apply.
PDF_TEMPLATES = {"card_pdf.html", "bill_pdf.html", "statement_pdf.html", "order_pdf.html"}


def directives(header: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = set(values)
    return out


def assert_strict(header: str) -> None:
    d = directives(header)
    assert d["default-src"] == {"'self'"}
    assert d["script-src"] == {"'self'"}
    assert d["style-src"] == {"'self'"}
    assert d["img-src"] == {"'self'", "data:"}
    assert d["frame-ancestors"] == {"'none'"}
    assert d["form-action"] == {"'self'"}
    assert d["base-uri"] == {"'none'"}
    assert d["object-src"] == {"'none'"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/login/", "/zh-hans/login/", "/cards/verify/", "/admin/login/", "/api/v1/docs"]
)
def test_pages_carry_a_strict_policy(path: str) -> None:
    r = Client().get(path)
    assert r.status_code == 200
    assert_strict(r["Content-Security-Policy"])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/cards/trust-list", "/healthz"])
def test_the_api_carries_it_too(path: str) -> None:
    r = Client().get(path)
    assert r.status_code == 200
    assert_strict(r["Content-Security-Policy"])


class InlineFinder(HTMLParser):
    """Collects what a strict policy would block: inline script, on*= handlers, inline style."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k.lower(): v for k, v in attrs}
        for name in names:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
        if "style" in names:
            self.problems.append(f"<{tag} style=…> inline style")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script":
            kind = (names.get("type") or "").lower()
            self._in_inline_script = not names.get("src") and kind != "application/json"
        elif tag == "a" and (names.get("href") or "").lower().startswith("javascript:"):
            self.problems.append("javascript: link")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:40]!r}")


def templates() -> list[Path]:
    return sorted(p for p in SRC.rglob("templates/**/*.html") if p.name not in PDF_TEMPLATES)


def test_there_are_templates_to_scan() -> None:
    assert len(templates()) > 30


@pytest.mark.parametrize("template", templates(), ids=lambda p: str(p.relative_to(SRC)))
def test_templates_need_nothing_inline(template: Path) -> None:
    # Template tags are not HTML: blank them so that {% if %} inside a tag does not confuse the parser.
    text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", " ", template.read_text(), flags=re.S)
    finder = InlineFinder()
    finder.feed(text)
    assert finder.problems == []


def test_the_scanner_finds_what_it_looks_for() -> None:
    finder = InlineFinder()
    finder.feed(
        '<button onclick="go()">x</button><script>alert(1)</script><p style="x">'
        '<script type="application/json">{}</script><script src="/s.js"></script>'
    )
    assert len(finder.problems) == 3
