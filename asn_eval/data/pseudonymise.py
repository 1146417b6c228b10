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
import tempfile
import time
from pathlib import Path

import pandas as pd

from .errors import DataError
from .messages import Message

KEY_ENV_VAR = "ASN_EVAL_KEY"
EMPLOYEE_ID_LENGTH = 16  # hex characters kept from the digest (64 bits)


def key_path() -> Path:
    """Where the per-installation key lives when no environment variable is set."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "asn-eval" / "key"


def get_key(key: str | bytes | None = None) -> bytes:
    """Return the pseudonymisation key: the argument, ``$ASN_EVAL_KEY``, or the key file.

    The key file is created (random 32 bytes, hex, mode 0600) on first use, atomically:
    processes that start together all read the one key that was written first, never an
    empty or half-written file.
    """
    if key is not None:
        return key.encode() if isinstance(key, str) else bytes(key)
    from_env = os.environ.get(KEY_ENV_VAR)
    if from_env:
        return from_env.encode()
    path = key_path()
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Write a new key to a private temporary file beside ``path``, then link it into place.

    ``os.link`` fails when ``path`` exists, so of several processes exactly one key wins,
    and the name only ever points at a complete file. Where hard links are not supported,
    an exclusive create is the fallback (readers then wait for the content).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won; its key is complete
        except OSError:  # no hard links on this file system
            _create_key_file_exclusive(path, Path(tmp).read_text())
    finally:
        os.unlink(tmp)


def _create_key_file_exclusive(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _read_key_file(path: Path, *, wait: float = 2.0) -> bytes:
    """The key in ``path``; waits briefly for a file another process is still writing."""
    deadline = time.monotonic() + wait
    while True:
        text = path.read_text().strip()
        if text or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if not text:
        raise DataError(Message("key.empty_file", path=path))
    return text.encode()


def pseudonymise(
    values: pd.Series, key: bytes, *, known: dict[str, str] | None = None
) -> pd.Series:
    """HMAC-SHA256 of each value (as text), hex, truncated to 16 characters.

    Each distinct value is hashed once and the pseudonyms are mapped back, so a table with
    many rows per employee costs one HMAC per employee, not per row. ``known`` (value ->
    pseudonym, made with the same ``key``) is consulted first and receives the new ones, so
    that the tables of one dataset hash each NIP once between them.
    """
    text = values.astype(str)
    ids = {} if known is None else known
    for value in pd.unique(text):
        if value not in ids:
            digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            ids[value] = digest[:EMPLOYEE_ID_LENGTH]
    return text.map(ids)
