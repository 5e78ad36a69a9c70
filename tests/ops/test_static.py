"""Static files as production serves them: collected under hashed names, compressed, cached for
years by browsers and proxies, and with the site's security headers."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.ops.production import ROOT, collect_portal_static, manage

FETCH = """
import gzip, hashlib, json, re
from django.test import Client
c = Client()
page = c.get("/login/", secure=True)
css = re.search(r'href="(/static/web/expatsi[^"]*[.]css)"', page.content.decode())[1]
r = c.get(css, secure=True, HTTP_ACCEPT_ENCODING="gzip")
body = b"".join(r.streaming_content)
plain = c.get(css, secure=True)
print(json.dumps({
    "page": page.status_code,
    "css": css,
    "status": r.status_code,
    "headers": {k.lower(): v for k, v in r.headers.items()},
    "sha256": hashlib.sha256(gzip.decompress(body)).hexdigest(),
    "plain_encoding": plain.get("Content-Encoding"),
    "unhashed": c.get("/static/web/expatsi.css", secure=True).status_code,
}))
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    static_root = tmp_path_factory.mktemp("static")
    collect_portal_static(static_root)
    var = tmp_path_factory.mktemp("var")
    done = manage(
        "shell", "-c", FETCH, EXPATSI_STATIC_ROOT=str(static_root), EXPATSI_VAR_DIR=str(var)
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pages_link_static_files_by_content_hash(served):
    assert served["page"] == 200
    assert re.fullmatch(r"/static/web/expatsi\.[0-9a-f]{12}\.css", str(served["css"]))
    # Only the hashed copy is kept: an old page can never get a new file under an old name.
    assert served["unhashed"] == 404


def test_hashed_files_are_cached_for_years_and_compressed(served):
    assert served["status"] == 200
    headers = served["headers"]
    assert isinstance(headers, dict)
    assert headers["cache-control"] == "max-age=315360000, public, immutable"
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"]
    assert headers["content-type"].startswith("text/css")
    source = ROOT / "src/expatsi/web/static/web/expatsi.css"
    assert served["sha256"] == hashlib.sha256(Path(source).read_bytes()).hexdigest()
    assert served["plain_encoding"] is None  # a client without gzip gets the file as it is


def test_static_files_carry_the_security_headers(served):
    headers = served["headers"]
    assert isinstance(headers, dict)
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["strict-transport-security"].startswith("max-age=")
