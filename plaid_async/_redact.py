"""Keep secrets and access tokens out of text: fingerprints and redaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def fingerprint(token: str) -> str:
    """The SHA-256 hex digest of a token: a stable name for it that reveals nothing."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def short_fingerprint(token: str) -> str:
    """What a ``repr`` shows in place of a token: enough to tell two tokens apart."""
    return f"<sha256:{fingerprint(token)[:12]}>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by its short fingerprint.

    Used on anything a server sent back before it becomes part of an exception message: an
    echoing proxy or a debug page must not carry a secret into a log.
    """
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, short_fingerprint(secret))
    return text
