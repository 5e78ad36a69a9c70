"""``expatsi card verify|fetch-lists``: check a card's QR code with no server (and no Django).

A verifier keeps three files in its lists directory (default ``var/verifier/``): the trust anchor's
public key (``anchor.pem``, pinned on first fetch), the signed trust list (``trust-list.cose``) and
the signed revocation list (``revocations.cose``). ``verify`` checks signature, validity dates and
revocation together and says how old its revocation list is. Exit status: 0 valid, 1 any other
answer (expired, revoked, tampered …), 2 bad input (unreadable image, missing lists).
``expatsi card export-lists`` (card_verify_export.py) writes the three files on the server itself.
"""

from __future__ import annotations

import argparse
import os
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from expatsi.cli import EXIT_FAILURE, EXIT_OK, Parser, add_command
from expatsi.credentials import qr, trust
from expatsi.credentials import token as qr_token
from expatsi.rules.errors import RuleError

ANCHOR_FILE = "anchor.pem"
TRUST_FILE = "trust-list.cose"
REVOCATIONS_FILE = "revocations.cose"
STALE_AFTER = 24 * 3600  # a revocation list older than a day is reported as stale
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")


def defaultlists_dir() -> Path:
    """``$EXPATSI_VAR_DIR/verifier`` (default ``var/verifier``). The one place outside the settings
    that reads an ``EXPATSI_`` variable: these commands run without Django, on a verifier's machine
    that has none of the server's configuration, so the settings module cannot be loaded."""
    return Path(os.environ.get("EXPATSI_VAR_DIR", "var")) / "verifier"


def lists_dir(args: argparse.Namespace) -> Path:
    return Path(args.lists) if args.lists else defaultlists_dir()


def _anchor_from_pem(pem: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise RuleError("invalid_anchor", f"{source} is not a PEM public key", "anchor") from None
    if not isinstance(key, Ed25519PublicKey):
        raise RuleError("invalid_anchor", f"{source} is not an Ed25519 public key", "anchor")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def load_lists(directory: Path) -> tuple[trust.TrustList, trust.RevocationList]:
    """The cached lists, each checked against the pinned anchor key."""
    files = [directory / n for n in (ANCHOR_FILE, TRUST_FILE, REVOCATIONS_FILE)]
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise RuleError(
            "lists_missing",
            f"{', '.join(missing)} not found in {directory}: run `expatsi card fetch-lists "
            "--url URL` or `expatsi card export-lists` first",
            "lists",
        )
    anchor = _anchor_from_pem(files[0].read_bytes(), str(files[0]))
    try:
        return (
            trust.load_trust_list(files[1].read_bytes(), anchor),
            trust.load_revocation_list(files[2].read_bytes(), anchor),
        )
    except trust.TrustError as exc:
        raise RuleError("invalid_lists", str(exc), "lists") from None


def _code_text(value: str) -> str:
    """The argument is the code's text, or a path to an image of the code."""
    path = Path(value)
    looks_like_file = value.lower().endswith(IMAGE_SUFFIXES) or os.sep in value
    if not value.startswith(qr_token.PREFIX) and (path.is_file() or looks_like_file):
        if not path.is_file():
            raise RuleError("file_not_found", f"no such file: {value}", "code")
        try:
            found = qr.read_image(path.read_bytes(), field="code")
        except RuleError as exc:  # too many pixels (checked before decoding), corrupt, truncated
            raise RuleError(exc.code, f"{value}: {exc.message}", "code") from None
        except Exception:  # anything else zxing-cpp or Pillow may raise for a strange file
            raise RuleError(
                "unreadable_image", f"{value} is not an image that can be read", "code"
            ) from None
        if not found:
            raise RuleError("no_code_found", f"no QR code found in {value}", "code")
        return found[0]
    return value


def _age_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    if seconds < 172800:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"


def _verify(args: argparse.Namespace) -> dict[str, Any]:
    text = _code_text(args.code)
    trust_list, revocations = load_lists(lists_dir(args))
    now = int(time.time())
    result = qr_token.verify(text, trust_list, revocations, now=now).as_dict()
    age = int(result["revocation_list_age_seconds"] or 0)
    result["revocation_list_issued_at"] = time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(revocations.issued_at)
    )
    result["revocation_list_age"] = _age_text(age)
    result["revocation_list_stale"] = age > STALE_AFTER
    args._exit_code = EXIT_OK if result["result"] == "valid" else EXIT_FAILURE
    return result


def _render_verify(result: dict[str, Any]) -> str:
    lines = [f"{result['result'].upper().replace('_', ' ')}: {result['message']}"]
    card = result.get("card")
    if card:
        for key in (
            "name",
            "nationality",
            "card_number",
            "permit_number",
            "ssn",
            "category",
            "employer",
            "valid_from",
            "valid_to",
        ):
            lines.append(f"  {key.replace('_', ' ')}: {card.get(key) or '—'}")
    stale = " (STALE: fetch the lists again)" if result["revocation_list_stale"] else ""
    lines.append(
        f"revocation list issued {result['revocation_list_issued_at']}, "
        f"{result['revocation_list_age']} old{stale}"
    )
    return "\n".join(lines)


def _get(url: str) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise RuleError("invalid_url", "the server URL must start with http:// or https://", "url")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - scheme checked above
            return bytes(response.read())
    except OSError as exc:
        raise RuleError("fetch_failed", f"could not fetch {url}: {exc}", "url") from None


def _fetch(args: argparse.Namespace) -> dict[str, Any]:
    """Download the lists; the anchor key is pinned on first fetch (or given with --anchor)."""
    base = args.url.rstrip("/") + "/api/v1/cards"
    directory = lists_dir(args)
    pinned = directory / ANCHOR_FILE
    if args.anchor:
        anchor_pem = Path(args.anchor).read_bytes()
    elif pinned.is_file():
        anchor_pem = pinned.read_bytes()
    else:
        anchor_pem = _get(f"{base}/anchor.pem")
    anchor = _anchor_from_pem(anchor_pem, "the trust anchor key")
    trust_doc = _get(f"{base}/trust-list")
    revocations_doc = _get(f"{base}/revocations")
    try:
        trust_list = trust.load_trust_list(trust_doc, anchor)
        revocations = trust.load_revocation_list(revocations_doc, anchor)
    except trust.TrustError as exc:
        raise RuleError(
            "invalid_lists", f"{exc} (is the pinned anchor key right?)", "url"
        ) from None
    write(pinned, public_pem(anchor))
    write(directory / TRUST_FILE, trust_doc)
    write(directory / REVOCATIONS_FILE, revocations_doc)
    return summary(directory, trust_list, revocations, source=args.url)


def summary(
    directory: Path, trust_list: trust.TrustList, revocations: trust.RevocationList, source: str
) -> dict[str, Any]:
    return {
        "lists": str(directory),
        "source": source,
        "keys": sorted(kid.hex() for kid in trust_list.entries),
        "revoked": len(revocations.hashes),
        "revocation_list_issued_at": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(revocations.issued_at)
        ),
    }


def lists_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lists",
        metavar="DIR",
        help="directory of the cached anchor key, trust list and revocation list "
        "(default: var/verifier/)",
    )


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "verify",
        _verify,
        help="verify a card's QR code offline (its text, or a PNG/JPEG image of it); exit 0 when "
        "valid, 1 for any other answer, 2 for bad input",
        render=_render_verify,
    )
    p.add_argument("code", metavar="TEXT|IMAGE", help="the code's text (EXP1:…) or an image file")
    lists_arg(p)

    p = add_command(
        subparsers,
        "fetch-lists",
        _fetch,
        help="download the trust list and revocation list from a server into the lists directory",
    )
    p.add_argument("--url", required=True, help="the server, e.g. https://si.example.gov.cn")
    p.add_argument("--anchor", metavar="PEM", help="pin this trust anchor public key")
    lists_arg(p)
