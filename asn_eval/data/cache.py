"""The validated dataset kept as Parquet: load and validate once, read each table when needed.

A report reads one data folder many times (the parent process, then one kernel per chapter).
Parsing and validating it costs seconds at a city's size and minutes at a province's, and
gives the same tables every time while the files, the loading code and the pseudonymisation
key stay the same. :func:`validated_dataset` does that work once and writes the result to
``<cache_dir>/dataset-<key>/``, where ``key`` is :func:`dataset_key`::

    dataset-<key>/
        dataset.json            format version, metadata, notes (catalog key and values),
                                years, table list, categories
        tables/<table>.parquet  one file per contract table (pseudonymised, no NIP or name)
        quality.parquet  rejects.parquet  policy_gaps.parquet

Every later call opens that folder instead: the tables are read from Parquet only when first
used (:class:`LazyTables`), a caller may read only some columns
(:meth:`~asn_eval.data.Dataset.table`), and an engine such as DuckDB may scan a table's file
in place (:meth:`~asn_eval.data.Dataset.parquet_path`).

The folder holds pseudonymised records of individuals: it is private to its owner (mode
0700) and belongs under a temporary or cache folder, never inside a report folder, which
people share. It appears whole or not at all: it is written under a temporary name and
renamed into place, so a reader never sees half of it, and of two processes writing the same
key one wins and the other uses its folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, ItemsView, Iterator, Mapping, Sequence, ValuesView
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DataError
from .messages import Message
from .pseudonymise import get_key
from .validate import Dataset, load_dataset

FORMAT_VERSION = 4  # 3: dataset.json records each file's size and hash; 4: notes as messages
PREFIX = "dataset-"
META_FILE = "dataset.json"
TABLES_DIR = "tables"
# The account of the validation, kept beside the tables: dataset attribute -> file.
ACCOUNT = {"quality": "quality.parquet", "rejects": "rejects.parquet",
           "policy_gaps": "policy_gaps.parquet"}  # fmt: skip
PRIVATE = 0o700
# A writer's temporary folder older than this was left by a crash and is removed.
STALE_SECONDS = 24 * 3600
# A cached dataset of other data (or older code) not opened for this long is removed when a
# new one is written: it would only be used again if those exact files came back.
UNUSED_SECONDS = 7 * 24 * 3600
_PACKAGE = Path(__file__).resolve().parent.parent
_UNREAD = object()  # the value of a table not yet read from its Parquet file


class DamagedCache(Exception):
    """A cache folder whose files no longer match what was written (a full disk, a crash
    during a copy, a file changed by hand).

    Attributes
    ----------
    folder
        The cache folder.
    file
        The damaged file, relative to ``folder`` (``tables/performance.parquet``).
    reason
        ``"missing"``, ``"size"`` or ``"content"``: the key of the line that says so in
        each language (``cli.cache_damage.*`` of the report's templates).
    problem
        The same in English words, with the sizes.
    """

    def __init__(self, folder: Path, file: str, reason: str, problem: str):
        super().__init__(f"{folder}: {problem}")
        self.folder = folder
        self.file = file
        self.reason = reason
        self.problem = problem


class CacheError(Exception):
    """A dataset that cannot be kept in the cache exactly (it is then used from memory)."""


# --- the key ----------------------------------------------------------------------------
def key_identity(secret: bytes) -> str:
    """A name for the pseudonymisation key that does not reveal it (a hash of the key).

    Two keys give different pseudonyms, so the cache of one must not serve the other.
    """
    return hashlib.sha256(b"asn-eval pseudonymisation key\0" + secret).hexdigest()


def dataset_key(data_dir: str | Path, *, key: str | bytes | None = None) -> str:
    """The cache key of a data folder: what decides the validated dataset, hashed.

    It covers the content and relative path of every file in ``data_dir``, the loading and
    validation code (``asn_eval/data/*.py`` and ``asn_eval/domain/regulations.py``), the pandas and
    pyarrow versions, and the identity of the pseudonymisation key (:func:`key_identity`,
    never the key itself). Any change in these gives a new key, so a cached dataset is
    exactly what :func:`~asn_eval.data.load_dataset` would return now.

    Parameters
    ----------
    data_dir
        The data folder.
    key
        Pseudonymisation key, as for :func:`~asn_eval.data.load_dataset`; default
        ``$ASN_EVAL_KEY`` or the per-installation key file.
    """
    data_dir = Path(data_dir)
    digest = hashlib.sha256()
    digest.update(f"format {FORMAT_VERSION}; pandas {pd.__version__}; "
                  f"pyarrow {pa.__version__}\0".encode())  # fmt: skip
    code = sorted((_PACKAGE / "data").glob("*.py")) + [_PACKAGE / "domain" / "regulations.py"]
    for path in code:
        digest.update(path.name.encode() + b"\0" + _file_hash(path))
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(data_dir).as_posix().encode() + b"\0" + _file_hash(path))
    digest.update(key_identity(get_key(key)).encode())
    return digest.hexdigest()[:20]


def _file_hash(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.digest()


# --- the entry point --------------------------------------------------------------------
def validated_dataset(
    data_dir: str | Path,
    *,
    cache_dir: str | Path,
    key: str | bytes | None = None,
    verify: str = "hash",
    on_damage: Callable[[DamagedCache], None] | None = None,
) -> Dataset:
    """The validated, pseudonymised dataset of ``data_dir``, loaded once per data version.

    When ``cache_dir`` holds the dataset of this :func:`dataset_key`, it is opened without
    parsing or validating anything (its quality, rejects and notes come from the cache).
    Otherwise the folder is loaded and validated (:func:`~asn_eval.data.load_dataset`),
    written to the cache, and the dataset returned reads its tables back from there, so the
    frames built while loading can be freed. If the cache cannot be written (no space, no
    permission, a value Parquet or JSON cannot hold exactly) a warning says so and the
    dataset is returned from memory.

    Parameters
    ----------
    data_dir
        Folder with the data tables and ``metadata.yaml``.
    cache_dir
        Folder for the cache, created private (0700) when missing. Keep it outside any
        report folder: it holds pseudonymised records of individuals.
    key
        Pseudonymisation key; default ``$ASN_EVAL_KEY`` or the per-installation key file.
    verify
        How a cached folder is checked before it is used (see :func:`open_cached`): a
        damaged one is rebuilt from ``data_dir`` with one line on stderr saying so.
    on_damage
        Called with the :class:`DamagedCache` instead of that English line (the report
        says it on its progress, in the report's language).

    Returns
    -------
    Dataset
        With ``source`` the resolved ``data_dir``; tables are read on first use.

    Raises
    ------
    DataError
        As :func:`~asn_eval.data.load_dataset`, when the data cannot be used (nothing is
        cached then).

    Examples
    --------
    >>> ds = validated_dataset("data/kupang-synthetic", cache_dir="/tmp/c")  # doctest: +SKIP
    >>> ds.parquet_path("performance").name  # doctest: +SKIP
    'performance.parquet'
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return load_dataset(data_dir, key=key)  # raises the loader's message
    cache_dir = Path(cache_dir)
    folder = cache_dir / f"{PREFIX}{dataset_key(data_dir, key=key)}"
    try:
        dataset = open_cached(folder, verify=verify)
    except DamagedCache as damaged:
        # Rebuilt from the raw data, with one line saying so. A folder holding files the
        # cache never writes is not ours to remove: the data are then kept in memory.
        if on_damage is None:
            print(
                f"asn-eval: the cached copy of the checked data is damaged ({damaged.problem}); "
                f"checking {data_dir} again.",
                file=sys.stderr,
            )
        else:
            on_damage(damaged)
        _discard(folder)
        dataset = None
    if dataset is None:
        loaded = load_dataset(data_dir, key=key)
        try:
            write_cached(loaded, folder)
        except (OSError, CacheError, pa.ArrowException) as error:
            warnings.warn(
                f"The validated dataset could not be cached in {cache_dir} ({error}); it is "
                "kept in memory, and the next process will load and validate the data again.",
                RuntimeWarning,
                stacklevel=2,
            )
            dataset = loaded
        else:
            del loaded
            dataset = open_cached(folder, verify="none")
            if dataset is None:
                raise CacheError(f"The cache folder {folder} was written but cannot be read.")
    dataset.source = data_dir.resolve()
    return dataset


# --- writing ----------------------------------------------------------------------------
def write_cached(dataset: Dataset, folder: str | Path) -> Path:
    """Write ``dataset`` to ``folder`` as Parquet and JSON, atomically; return ``folder``.

    The files are written to a private temporary folder beside ``folder`` and renamed into
    place in one step. When another process renamed its folder first, that one is kept and
    the temporary folder removed.

    Raises
    ------
    CacheError
        When a value would not come back exactly (metadata JSON cannot hold, a column
        Parquet cannot store).
    """
    folder = Path(folder)
    folder.parent.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
    _remove_stale(folder.parent)
    _meta_json(dataset)  # refuse what JSON would not keep before writing anything
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        (tmp / TABLES_DIR).mkdir(mode=PRIVATE)
        for name in dataset.tables:
            _write_frame(dataset.tables[name], tmp / TABLES_DIR / f"{name}.parquet")
        for attribute, file in ACCOUNT.items():
            _write_frame(getattr(dataset, attribute), tmp / file)
        # Last: a folder without it is incomplete. It records each file's size and hash,
        # which opening checks, so that a file damaged later is noticed, not read.
        _write_private(tmp / META_FILE, _meta_json(dataset, files=_fingerprints(tmp)))
        _fsync_folder(tmp)
        try:
            os.rename(tmp, folder)
        except OSError:
            written = _readable_folder(folder)
            # Its content checked too: a damaged folder left in place is not "written".
            if written and damage(folder, written, full=True) is None:
                return folder  # another process wrote the same key first
            if folder.lstat().st_uid != os.getuid():
                raise CacheError(f"{folder} belongs to another user") from None
            foreign = _foreign_files(folder)
            if foreign:
                raise CacheError(
                    f"{folder} is damaged and holds files the cache did not write "
                    f"({', '.join(foreign)}); it is left as it is"
                ) from None
            _discard(folder)  # a broken or older folder of ours: replace it
            os.rename(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _fsync_folder(folder.parent)
    return folder


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the files themselves are synced
    finally:
        os.close(fd)


def _fingerprints(folder: Path) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size": bytes, "blake2b": hex}}`` of every Parquet file."""
    return {
        path.relative_to(folder).as_posix(): {"size": path.stat().st_size, "blake2b": _digest(path)}
        for path in sorted(folder.rglob("*.parquet"))
    }


def _digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    try:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise CacheError(f"{path.stem}: {error}") from None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        # Timestamps in microseconds: Spark 3.5 cannot read Parquet's nanosecond timestamps,
        # and the cache is what a cluster reads (asn_eval.engine); dates lose nothing.
        pq.write_table(
            table,
            handle,
            compression="zstd",
            coerce_timestamps="us",
            allow_truncated_timestamps=False,
        )
        handle.flush()
        os.fsync(handle.fileno())  # on disk before the folder is renamed into place


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _meta_json(dataset: Dataset, *, files: dict | None = None) -> str:
    """The JSON file's text; refuses what would not read back equal."""
    categories: dict[str, dict[str, Any]] = {}
    frames = {**{n: dataset.tables[n] for n in dataset.tables},
              **{a: getattr(dataset, a) for a in ACCOUNT}}  # fmt: skip
    for name, frame in frames.items():
        for column, dtype in frame.dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                # Parquet keeps the categories only through its rows: an empty table or an
                # unused category would come back without them.
                categories.setdefault(name, {})[str(column)] = {
                    "categories": dtype.categories.tolist(),
                    "ordered": bool(dtype.ordered),
                }
    meta = {
        "format": FORMAT_VERSION,
        "tables": list(dataset.tables),
        "metadata": dataset.metadata,
        "notes": [_note_json(note) for note in dataset.notes],
        "years": dataset.years,
        "categories": categories,
        "files": files or {},
    }
    text = json.dumps(meta, default=_encode, ensure_ascii=False, indent=1)
    back = json.loads(text, object_hook=_decode)
    if back["metadata"] != dataset.metadata:
        raise CacheError("the metadata hold values that JSON does not keep")
    # A note comes back as a message of the same key that reads the same in each language
    # (its Paths come back as text, which a message writes alike).
    if [_note_said(_note_back(n)) for n in back["notes"]] != list(map(_note_said, dataset.notes)):
        raise CacheError("the notes hold values that JSON does not keep")
    for name, columns in back["categories"].items():
        for column, spec in columns.items():
            kept = pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
            if kept != frames[name][column].dtype:
                raise CacheError(f"{name}.{column}: categories that JSON does not keep")
    return text


def _note_json(note: Message | str) -> Any:
    """A note as JSON keeps it: ``{"key": ..., "values": {...}}`` (a value that is itself a
    message likewise, under ``"message"``); Paths as text, numpy numbers as Python ones. An
    English sentence (a dataset built by hand) stays a sentence."""
    if isinstance(note, str):
        return note
    return {"key": note.key, "values": {k: _value_json(v) for k, v in note.values.items()}}


def _value_json(value: Any) -> Any:
    if isinstance(value, Message):
        return {"message": _note_json(value)}
    if isinstance(value, list | tuple):
        return [_value_json(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    raise CacheError(f"a note holds a {type(value).__name__}, which the cache's JSON does not keep")


def _note_back(kept: Any) -> Message | str:
    """The note that :func:`_note_json` wrote."""
    if isinstance(kept, str):
        return kept
    return Message(kept["key"], **{k: _value_back(v) for k, v in kept["values"].items()})


def _value_back(value: Any) -> Any:
    if isinstance(value, dict):
        return _note_back(value["message"])
    if isinstance(value, list):
        return [_value_back(item) for item in value]
    return value


def _note_said(note: Message | str) -> tuple[str, ...]:
    """What a reader sees of a note: its key and its text in each language."""
    if isinstance(note, str):
        return ("", note)
    return (note.key, note.text("en"), note.text("id"))


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not kept in the cache's JSON")


def _decode(mapping: dict) -> Any:
    if set(mapping) == {"__datetime__"}:
        return dt.datetime.fromisoformat(mapping["__datetime__"])
    if set(mapping) == {"__date__"}:
        return dt.date.fromisoformat(mapping["__date__"])
    return mapping


def _remove_stale(cache_dir: Path) -> None:
    """Remove what no run will read again: crashed writers' temporary folders, datasets
    unused for :data:`UNUSED_SECONDS`, and the pickles of earlier versions (ours only)."""
    now = time.time()
    # Only what this module writes, recognised by name and content: ASN_EVAL_CACHE_DIR may
    # point at a folder that also holds a user's files.
    stale = [
        (tmp, STALE_SECONDS)
        for tmp in cache_dir.glob(f".{PREFIX}*.tmp")
        if tmp.is_dir() and not tmp.is_symlink()
    ]
    stale += [
        (old, 0) for old in cache_dir.glob(f"{PREFIX}*.pkl") if _OLD_PICKLE.fullmatch(old.name)
    ]
    for folder in cache_dir.glob(f"{PREFIX}*"):
        if folder.is_dir() and not folder.is_symlink() and _written_here(folder):
            # Opening a dataset touches its JSON: its time is the last use.
            stale.append((folder / META_FILE, UNUSED_SECONDS))
    for path, age in stale:
        try:
            info = path.lstat()
            if info.st_uid != os.getuid() or now - info.st_mtime <= age:
                continue
            if path.name == META_FILE:
                _discard(path.parent)
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass


# The pickles of versions before the columnar cache: "dataset-" and 16 hex digits.
_OLD_PICKLE = re.compile(rf"{PREFIX}[0-9a-f]{{16}}\.pkl")


def _written_here(folder: Path) -> bool:
    """Whether ``folder`` is a cache folder this module wrote (any format version): its
    JSON names a format and the tables."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "format" in meta and "tables" in meta


def _foreign_files(folder: Path) -> list[str]:
    """What ``folder`` holds that a cache folder of this module never does, by name."""
    known = {META_FILE, TABLES_DIR, *ACCOUNT.values()}
    try:
        foreign = [p.name for p in folder.iterdir() if p.name not in known]
        tables = folder / TABLES_DIR
        if tables.is_dir() and not tables.is_symlink():
            foreign += [f"{TABLES_DIR}/{p.name}" for p in tables.iterdir()
                        if p.suffix != ".parquet" or not p.is_file() or p.is_symlink()]  # fmt: skip
        elif tables.exists() or tables.is_symlink():
            foreign.append(TABLES_DIR)
    except OSError as error:
        return [f"({error.strerror or error})"]
    return sorted(foreign)


def _discard(folder: Path) -> None:
    """Remove a cache folder of ours; one holding anything else is left as it is."""
    if _foreign_files(folder):
        return
    trash = folder.with_name(f".{folder.name}.{os.getpid()}.discarded.tmp")
    try:
        os.rename(folder, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


# --- reading ----------------------------------------------------------------------------
def _readable_folder(folder: Path) -> dict | None:
    """The JSON of a complete cache folder that only its owner can read, else None."""
    try:
        info = folder.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o077
    if not private or info.st_uid != os.getuid():
        return None  # not ours, or readable by others: not trusted, not used
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"), object_hook=_decode)
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT_VERSION:
        return None
    try:
        # Each note rebuilt and written in both languages: one the catalog no longer knows
        # (a key renamed since) makes the folder unused, so that it is rebuilt.
        [_note_said(_note_back(note)) for note in meta["notes"]]
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        return None
    if meta.get("files"):
        return meta  # complete when written; open_cached checks each file against it
    files = [folder / TABLES_DIR / f"{name}.parquet" for name in meta["tables"]]
    files += [folder / file for file in ACCOUNT.values()]
    return meta if all(path.is_file() for path in files) else None


def damage(folder: str | Path, meta: dict, *, full: bool = True) -> str | None:
    """What is wrong with the files of a cache folder, or None when each has the size (and,
    with ``full``, the content hash) that :func:`write_cached` recorded."""
    found = _damage(Path(folder), meta, full=full)
    return None if found is None else found.problem


def _damage(folder: Path, meta: dict, *, full: bool) -> DamagedCache | None:
    for name, expected in meta.get("files", {}).items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            return DamagedCache(folder, name, "missing", f"{name} is missing")
        if size != expected["size"]:
            problem = f"{name} has {size:,} bytes, {expected['size']:,} when written"
            return DamagedCache(folder, name, "size", problem)
        if full and _digest(path) != expected["blake2b"]:
            problem = f"{name} no longer has the content it was written with"
            return DamagedCache(folder, name, "content", problem)
    return None


def open_cached(folder: str | Path, *, verify: str = "size") -> Dataset | None:
    """The dataset cached in ``folder``, its tables unread; None when there is none.

    A folder that is incomplete, of another format version, or not private to this user
    is not used. ``verify`` checks each file against what was recorded when it was
    written: ``"size"`` (cheap, for chapter kernels), ``"hash"`` (also the content, as the
    report's data check does once before the chapters start) or ``"none"``. A damaged
    folder raises :class:`DamagedCache`.
    """
    folder = Path(folder)
    meta = _readable_folder(folder)
    if meta is None:
        return None
    if verify != "none":
        damaged = _damage(folder, meta, full=verify == "hash")
        if damaged is not None:
            raise damaged
    try:
        os.utime(folder / META_FILE)  # the last use, for _remove_stale
    except OSError:
        pass
    kept = meta["categories"]
    paths = {name: folder / TABLES_DIR / f"{name}.parquet" for name in meta["tables"]}
    account = {a: _read_parquet(folder / f, categories=kept.get(a)) for a, f in ACCOUNT.items()}
    return Dataset(
        tables=LazyTables(paths, categories=kept),
        metadata=meta["metadata"],
        notes=[_note_back(note) for note in meta["notes"]],
        **account,
    )


def _read_parquet(
    path: Path,
    columns: Sequence[str] | None = None,
    *,
    categories: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Read one cached frame with the dtypes it was written with."""
    try:
        table = pq.read_table(path, columns=None if columns is None else list(columns))
    except FileNotFoundError:
        raise DataError(Message("cache.table_removed", path=path)) from None
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    # Arrow's pool keeps the buffers decoding used; a report's processes, side by side,
    # would each pay for them while they run.
    pa.default_memory_pool().release_unused()
    for column in frame.columns:  # written in microseconds, read as pandas' nanoseconds
        dtype = frame[column].dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "M" and dtype != "datetime64[ns]":
            frame[column] = frame[column].astype("datetime64[ns]")
    for column, spec in (categories or {}).items():
        if column in frame:
            dtype = pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
            if frame[column].dtype != dtype:
                frame[column] = frame[column].astype(dtype)
    return frame


class LazyTables(dict):
    """A dict of tables whose values are read from Parquet files when first accessed.

    It behaves as the ``dict[str, DataFrame]`` of an in-memory :class:`Dataset`: indexing,
    ``get``, ``items``, ``values``, ``{**tables}`` and ``dict(tables)`` return frames (each
    read once, then kept), while ``in``, ``len``, iteration and ``keys`` read nothing.
    Putting a frame under a name replaces the cached table: :meth:`parquet_path` then
    returns None for it.

    Parameters
    ----------
    paths
        Parquet file of each table, in table order.
    categories
        Per table, the categories of each categorical column (restored on reading).
    """

    def __init__(
        self,
        paths: Mapping[str, str | Path],
        *,
        categories: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__((name, _UNREAD) for name in paths)
        self._paths = {name: Path(path) for name, path in paths.items()}
        self._categories = dict(categories or {})

    # reading
    def __getitem__(self, name: str) -> pd.DataFrame:
        value = super().__getitem__(name)
        if value is _UNREAD:
            value = _read_parquet(self._paths[name], categories=self._categories.get(name))
            super().__setitem__(name, value)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def __iter__(self) -> Iterator[str]:
        # Overriding iteration also makes dict(tables) and {**tables} go through
        # __getitem__ (CPython copies a dict subclass's storage only when it does not).
        return super().__iter__()

    def items(self) -> ItemsView:
        return ItemsView(self)

    def values(self) -> ValuesView:
        return ValuesView(self)

    def is_read(self, name: str) -> bool:
        """Whether table ``name`` is in memory (read, or put there)."""
        return super().__getitem__(name) is not _UNREAD

    def parquet_path(self, name: str) -> Path | None:
        """The Parquet file of table ``name`` as cached; None when it was replaced."""
        return self._paths.get(name)

    def read(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Table ``name``, or only its ``columns``; a partial read is not kept."""
        if columns is None or self.is_read(name):
            frame = self[name]
            return frame if columns is None else frame[list(columns)]
        return _read_parquet(self._paths[name], columns, categories=self._categories.get(name))

    def identity(self) -> tuple:
        """Names what the tables hold without reading them (for caches of derived frames).

        A cached table is named by its file (whose path is its content's key); a table put
        in its place by the identity and shape of the frame.
        """
        parts = []
        for name in self:
            path = self._paths.get(name)
            if path is not None:
                parts.append((name, str(path)))
            else:
                frame = super().__getitem__(name)
                parts.append((name, id(frame), getattr(frame, "shape", None)))
        return tuple(parts)

    # changing
    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        self._paths.pop(name, None)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._paths.pop(name, None)

    def update(self, other: Any = (), /, **more: Any) -> None:
        pairs = other.items() if isinstance(other, Mapping) else other
        for name, value in [*pairs, *more.items()]:
            self[name] = value

    def __ior__(self, other: Any) -> LazyTables:
        self.update(other)
        return self

    def __or__(self, other: Any) -> dict:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**self, **other}

    def pop(self, name: str, *default: Any) -> Any:
        if name not in self:
            if default:
                return default[0]
            raise KeyError(name)
        value = self[name]
        del self[name]
        return value

    def popitem(self) -> tuple[str, Any]:
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        name = next(reversed(self))
        return name, self.pop(name)

    def setdefault(self, name: str, default: Any = None) -> Any:
        if name in self:
            return self[name]
        self[name] = default
        return default

    def copy(self) -> LazyTables:
        return _rebuild(*self._state())

    # pickling and copying keep unread tables unread
    def _state(self) -> tuple:
        entries = [(name, super(LazyTables, self).__getitem__(name)) for name in self]
        entries = [(name, None if value is _UNREAD else value) for name, value in entries]
        unread = [name for name in self if not self.is_read(name)]
        return entries, dict(self._paths), unread, self._categories

    def __reduce__(self) -> tuple:
        return _rebuild, self._state()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name!r}: {'<unread>' if not self.is_read(name) else 'DataFrame'}"
                          for name in self)  # fmt: skip
        return f"LazyTables({{{shown}}})"


def _rebuild(
    entries: list[tuple[str, Any]],
    paths: dict[str, Path],
    unread: list[str],
    categories: dict,
) -> LazyTables:
    tables = LazyTables({}, categories=categories)
    for name, value in entries:
        dict.__setitem__(tables, name, _UNREAD if name in unread else value)
    tables._paths = dict(paths)
    return tables
