"""`gateway receipts verify FILE`: check one signed consent receipt offline against the JWKS (SPEC §3.6, §9).

The keys come from `--jwks` (a saved `/.well-known/jwks.json`, or its URL), or else from the configured
database: every signing key the gateway still holds, retired ones included. A receipt signed by a key that
has since been rotated out and deleted verifies only with a JWKS saved while that key was published.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import CommandFailed, fail_cleanly
from gateway.cli.verification_keys import database_keys, jwks_from
from gateway.consent.receipt_tokens import InvalidReceipt, ReceiptFault, verify_receipt

MAX_FILE_BYTES = 1_000_000


@click.group()
def receipts() -> None:
    """Signed consent receipts."""


@receipts.command("verify")
@click.argument("receipt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--jwks",
    "jwks_source",
    default=None,
    help="The gateway's JWKS: a saved /.well-known/jwks.json or its URL (default: the keys in the "
    "configured database).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@fail_cleanly
def receipts_verify(receipt_file: Path, jwks_source: str | None, as_json: bool) -> None:
    """Check the receipt in RECEIPT_FILE (its JWS, optionally followed by one newline); exit 1 naming why
    when any byte of it was changed, its key is unknown or it is not a consent receipt."""
    token = _read_token(receipt_file)
    keys = jwks_from(jwks_source) if jwks_source is not None else database_keys()
    try:
        kid, claims = verify_receipt(token, keys)
    except InvalidReceipt as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "file": str(receipt_file), "reason": exc.reason.value,
                                   "detail": str(exc), "kid": exc.kid}))  # fmt: skip
        raise CommandFailed(f"the receipt in {receipt_file} is not valid: {exc}{_kid(exc)}") from None
    if as_json:
        click.echo(json.dumps({"ok": True, "file": str(receipt_file), "kid": kid, "claims": claims}))
        return
    click.echo("\n".join(_proves(receipt_file, kid, claims)))


def _kid(exc: InvalidReceipt) -> str:
    return f" (kid {exc.kid})" if exc.kid and exc.reason is ReceiptFault.UNKNOWN_KEY else ""


def _proves(path: Path, kid: str, claims: dict[str, Any]) -> list[str]:
    school, app = claims.get("school") or {}, claims.get("app") or {}
    audience = claims.get("audience") or {}
    whom = (
        "the whole school"
        if audience.get("whole_school")
        else f"groups {', '.join(audience.get('group_ids') or []) or '(none)'}"
    )
    lines = [
        f"receipt {path}: ok, signed by {claims.get('iss')} with key {kid}",
        f"  {claims.get('decision')} at {claims.get('decided_at')} by {claims.get('actor')}: "
        f"school {school.get('name')} (URN {school.get('urn')}, {school.get('id')}), "
        f"app {app.get('name')} ({app.get('client_id')}) of {(claims.get('developer') or {}).get('name')}",
        f"  grant {claims.get('grant_id')}, receipt {claims.get('seq')} ({claims.get('jti')}), previous "
        f"receipt's SHA-256: {claims.get('prev_hash') or 'none (the first)'}",
        f"  scopes: {' '.join(claims.get('scopes') or []) or 'none (the grant has ended)'}",
    ]
    for resource, fields in sorted((claims.get("fields") or {}).items()):
        lines.append(f"    {resource}: {', '.join(fields)}")
    for approval in claims.get("sensitive_approvals") or []:
        lines.append(
            f"  sensitive {approval.get('scope')}: approved by {approval.get('approved_by')} "
            f"at {approval.get('approved_at')}"
        )
    lines.append(f"  audience: {whom}, {audience.get('excluded_count', 0)} pupils excluded")
    return lines


def _read_token(path: Path) -> str:
    """The file's bytes as the JWS: only one trailing newline is allowed beside it, nothing is trimmed."""
    data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    if len(data) > MAX_FILE_BYTES:
        raise CommandFailed(f"{path} is over {MAX_FILE_BYTES} bytes: it is not a receipt")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # refused by the check as malformed, naming why
