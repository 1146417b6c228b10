"""Keyed pseudonyms for NIPs (HMAC-SHA256), with a per-installation key.

The key comes from the environment variable ``ASN_EVAL_KEY`` or, failing that, from a
file under the user's configuration folder (``~/.config/asn-eval/key``, or
``$XDG_CONFIG_HOME/asn-eval/key``) created with owner-only permissions on first use.
It is never written into the repository or any output: without it, an ``employee_id``
cannot be traced back to a NIP by hashing candidate NIPs (UU 27/2022).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

KEY_ENV_VAR = "ASN_EVAL_KEY"
EMPLOYEE_ID_LENGTH = 16  # hex characters kept from the digest (64 bits)


def key_path() -> Path:
    """Where the per-installation key lives when no environment variable is set."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "asn-eval" / "key"


def get_key(key: str | bytes | None = None) -> bytes:
    """Return the pseudonymisation key: the argument, ``$ASN_EVAL_KEY``, or the key file.

    The key file is created (random 32 bytes, hex, mode 0600) on first use.
    """
    if key is not None:
        return key.encode() if isinstance(key, str) else bytes(key)
    from_env = os.environ.get(KEY_ENV_VAR)
    if from_env:
        return from_env.encode()
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each value (as text), hex, truncated to 16 characters."""
    cache: dict[str, str] = {}

    def one(value: str) -> str:
        if value not in cache:
            digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            cache[value] = digest[:EMPLOYEE_ID_LENGTH]
        return cache[value]

    return values.astype(str).map(one)
