"""The Parquet cache of the validated dataset: exact, keyed, private, atomic and lazy."""

import copy
import dataclasses
import json
import os
import pickle
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asn_eval.config import PROJECT_ROOT
from asn_eval.data import cache, load_dataset
from asn_eval.data.messages import Message
from asn_eval.data.pseudonymise import KEY_ENV_VAR
from asn_eval.data.validate import Dataset

ROOT = PROJECT_ROOT
KUPANG = ROOT / "data" / "kupang-synthetic"
KEY = "cache-test-key"
ACCOUNT = ("quality", "rejects", "policy_gaps")


@pytest.fixture(scope="module")
def loaded():
    return load_dataset(KUPANG, key=KEY)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    cache.validated_dataset(KUPANG, cache_dir=folder, key=KEY)
    return folder


@pytest.fixture
def reads(monkeypatch):
    """The Parquet files read from now on, by file name."""
    seen = []
    real = cache.pq.read_table

    def counting(path, *args, **kwargs):
        seen.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(cache.pq, "read_table", counting)
    return seen


def no_loading(*args, **kwargs):
    raise AssertionError("the data folder was parsed again")


def assert_same(expected: Dataset, got: Dataset) -> None:
    assert list(got.tables) == list(expected.tables)
    for name in expected.tables:
        pd.testing.assert_frame_equal(got.tables[name], expected.tables[name], obj=name)
    for name in ACCOUNT:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)
    assert got.metadata == expected.metadata
    assert all(isinstance(note, Message) for note in got.notes)
    assert said(got.notes) == said(expected.notes)
    assert got.years == expected.years


def test_the_cached_dataset_equals_the_loaded_one_in_values_and_dtypes(loaded, cache_dir,
                                                                       monkeypatch):  # fmt: skip
    monkeypatch.setattr(cache, "load_dataset", no_loading)
    got = cache.validated_dataset(KUPANG, cache_dir=cache_dir, key=KEY)
    assert_same(loaded, got)
    assert len(loaded.rejects) > 0  # the committed data have rejects: they are compared too
    assert got.source == KUPANG.resolve()


GRADES = pd.CategoricalDtype(["C", "B", "A"], ordered=True)


# A note of each shape: a Path, numbers (one of numpy's), a list, messages inside a message.
NOTES = [
    Message("note.metadata_missing", metadata="metadata.yaml", folder=Path("/data/kota"),
            truth="truth.json"),
    Message("note.nip_as_number", file="employees.xlsx", count=np.int64(1234),
            lines=[2, 5, 9, "..."]),
    Message("note.synthetic_overruled", metadata="metadata.yaml", said=Message("note.no_synthetic"),
            evidence=[Message("note.truth_evidence", truth="truth.json")]),
]  # fmt: skip


def said(notes: list) -> list[tuple[str, str, str]]:
    """What a reader sees of each note: its key, its English and its Indonesian."""
    return [(note.key, str(note), note.text("id")) for note in notes]


def small_dataset() -> Dataset:
    full = pd.DataFrame({
        "grade": pd.Categorical(["A", None, "A"], dtype=GRADES),
        "count": pd.array([1, None, 3], dtype="Int64"),
        "date": pd.to_datetime(["2020-01-31", None, "2024-02-29"]),
        "text": ["x", None, "z"],
    })  # fmt: skip
    return Dataset(
        tables={"full": full, "empty": full.iloc[:0].reset_index(drop=True)},
        quality=pd.DataFrame({"table": ["full"], "read": [3], "accepted": [3], "rejected": [0]}),
        rejects=pd.DataFrame(columns=["table", "file", "line", "column", "value", "rule"]),
        metadata={"years": [2020, 2024], "data_date": pd.Timestamp("2024-12-31").date()},
        notes=NOTES,
    )


def test_dtypes_parquet_alone_would_lose_come_back(tmp_path):
    """An empty table loses its categories in Parquet; nullable ints and dates must stay."""
    dataset = small_dataset()
    got = cache.open_cached(cache.write_cached(dataset, tmp_path / "dataset-x"))
    assert got.tables["empty"]["grade"].dtype == GRADES
    assert_same(dataset, got)


def test_datasets_unused_for_a_week_and_old_pickles_go_when_a_new_one_is_written(tmp_path):
    old, recent = (cache.write_cached(small_dataset(), tmp_path / f"dataset-{n}") for n in "ab")
    os.utime(old / cache.META_FILE, (0, 0))
    os.utime(recent / cache.META_FILE, (0, 0))
    assert cache.open_cached(recent) is not None  # used again: kept
    (tmp_path / "dataset-0123456789abcdef.pkl").write_bytes(b"an earlier version's cache")
    cache.write_cached(small_dataset(), tmp_path / "dataset-c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset-b", "dataset-c"]


def test_a_users_files_in_the_cache_folder_are_never_removed(tmp_path):
    """ASN_EVAL_CACHE_DIR may be a folder with a user's files: only what the cache wrote,
    recognised by its name and its JSON, is ever cleaned up, however old."""
    mine = tmp_path / "dataset-notes"
    mine.mkdir()
    (mine / "dataset.json").write_text('{"title": "my notes"}', encoding="utf-8")
    (tmp_path / "dataset-2024.pkl").write_bytes(b"a user's pickle")
    for path in (mine / "dataset.json", mine, tmp_path / "dataset-2024.pkl"):
        os.utime(path, (0, 0))
    cache.write_cached(small_dataset(), tmp_path / "dataset-c")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dataset-2024.pkl",
        "dataset-c",
        "dataset-notes",
    ]
    assert (mine / "dataset.json").read_text(encoding="utf-8") == '{"title": "my notes"}'


def test_a_second_call_does_not_parse_or_validate(tmp_path, monkeypatch, loaded):
    first = cache.validated_dataset(KUPANG, cache_dir=tmp_path, key=KEY)
    monkeypatch.setattr(cache, "load_dataset", no_loading)
    monkeypatch.setattr("asn_eval.data.validate._read_table", no_loading)
    again = cache.validated_dataset(KUPANG, cache_dir=tmp_path, key=KEY)
    assert again.parquet_path("employees") == first.parquet_path("employees")
    pd.testing.assert_frame_equal(again.quality, loaded.quality)


def test_editing_one_data_file_changes_the_key_and_reloads(tmp_path, cache_dir):
    data = shutil.copytree(KUPANG, tmp_path / "data")
    before = cache.dataset_key(data, key=KEY)
    assert before == cache.dataset_key(KUPANG, key=KEY)  # the content decides, not the place
    shutil.copytree(cache_dir, tmp_path / "cache")
    old = cache.validated_dataset(data, cache_dir=tmp_path / "cache", key=KEY)
    path = data / "budget.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")  # the last budget row removed
    assert cache.dataset_key(data, key=KEY) != before
    new = cache.validated_dataset(data, cache_dir=tmp_path / "cache", key=KEY)
    assert len(new.tables["budget"]) == len(old.tables["budget"]) - 1
    assert len(list((tmp_path / "cache").glob("dataset-*"))) == 2


def test_another_pseudonymisation_key_is_another_cache(tmp_path, monkeypatch):
    """Pseudonyms depend on the secret: a changed ASN_EVAL_KEY must not reuse old ones."""
    monkeypatch.setenv(KEY_ENV_VAR, "first-secret")
    first_key = cache.dataset_key(KUPANG)
    first = cache.validated_dataset(KUPANG, cache_dir=tmp_path)
    monkeypatch.setenv(KEY_ENV_VAR, "second-secret")
    assert cache.dataset_key(KUPANG) != first_key
    second = cache.validated_dataset(KUPANG, cache_dir=tmp_path)
    ids = [set(d.tables["employees"]["employee_id"]) for d in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 3000 and not ids[0] & ids[1]
    # The folder names and the JSON hold no secret.
    for path in tmp_path.rglob("*"):
        assert "secret" not in path.name
        if path.suffix == ".json":
            assert "secret" not in path.read_text()


def test_a_table_not_used_is_not_read(cache_dir, reads):
    dataset = cache.validated_dataset(KUPANG, cache_dir=cache_dir, key=KEY)
    assert reads == ["quality.parquet", "rejects.parquet", "policy_gaps.parquet"]
    reads.clear()
    # nine contract tables and the optional comparison_services of the committed dataset
    assert "satisfaction" in dataset.tables and len(dataset.tables) == 10
    assert dataset.parquet_path("satisfaction").name == "satisfaction.parquet"
    dataset.tables["performance"]
    dataset.tables.get("performance")
    assert reads == ["performance.parquet"]  # read once, then kept
    assert dataset.tables.get("no such table") is None and reads == ["performance.parquet"]


def test_some_columns_are_read_without_the_rest(cache_dir, reads, loaded):
    dataset = cache.validated_dataset(KUPANG, cache_dir=cache_dir, key=KEY)
    part = dataset.table("performance", columns=["year", "skp_predicate"])
    pd.testing.assert_frame_equal(part, loaded.tables["performance"][["year", "skp_predicate"]])
    assert not dataset.tables.is_read("performance")  # a partial read is not kept
    pd.testing.assert_frame_equal(dataset.table("budget"), loaded.tables["budget"])


def test_duckdb_scans_a_cached_table_in_place(cache_dir, loaded):
    duckdb = pytest.importorskip("duckdb")
    dataset = cache.validated_dataset(KUPANG, cache_dir=cache_dir, key=KEY)
    path = dataset.parquet_path("performance")
    rows = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
    assert rows == len(loaded.tables["performance"])
    assert not dataset.tables.is_read("performance")


def test_the_tables_behave_as_a_dict_of_frames(cache_dir, loaded):
    dataset = cache.validated_dataset(KUPANG, cache_dir=cache_dir, key=KEY)
    for copied in ({**dataset.tables}, dict(dataset.tables), dataset.tables | {}):
        assert type(copied) is dict
        assert all(isinstance(frame, pd.DataFrame) for frame in copied.values())
    assert [name for name, _ in dataset.tables.items()] == list(loaded.tables)
    # Putting another frame in place of a cached table forgets the cached file.
    fewer = dataset.tables["budget"].iloc[:3]
    dataset.tables["budget"] = fewer
    assert dataset.parquet_path("budget") is None and dataset.table("budget") is fewer
    dataset.tables.update(agencies=fewer)
    assert dataset.parquet_path("agencies") is None
    assert dataset.parquet_path("employees") is not None


def test_pickling_copying_and_replace_keep_unread_tables_unread(cache_dir, reads, loaded):
    dataset = cache.validated_dataset(KUPANG, cache_dir=cache_dir, key=KEY)
    dataset.tables["agencies"]
    reads.clear()
    others = [pickle.loads(pickle.dumps(dataset)), copy.deepcopy(dataset), copy.copy(dataset),
              dataclasses.replace(dataset, notes=["x"])]  # fmt: skip
    for other in others:
        assert other.tables.is_read("agencies") and not other.tables.is_read("employees")
    assert reads == []
    for other in others:
        pd.testing.assert_frame_equal(other.tables["employees"], loaded.tables["employees"])
    # The pickled and deep copies read the file themselves; the others share the tables.
    assert reads == ["employees.parquet"] * 3


def test_the_cache_is_private_and_one_shared_with_others_is_not_used(tmp_path, loaded):
    cache.validated_dataset(KUPANG, cache_dir=tmp_path / "new", key=KEY)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700  # made private
    (folder,) = (tmp_path / "new").glob("dataset-*")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*.parquet")} == {0o600}
    folder.chmod(0o755)  # someone opened it to others: no longer trusted
    assert cache.open_cached(folder) is None


def test_a_crashed_writers_folder_is_never_read(tmp_path, monkeypatch, loaded):
    complete = cache.write_cached(loaded, tmp_path / "complete")
    key = cache.dataset_key(KUPANG, key=KEY)
    # A writer died after its tables, before dataset.json, and then another one died while
    # the folder had been renamed into place incompletely (copied by hand, say).
    crashed = tmp_path / f".{cache.PREFIX}{key}.abcd.tmp"
    shutil.copytree(complete, crashed)
    (crashed / cache.META_FILE).unlink()
    calls = []

    def counting(*args, **kwargs):
        calls.append(args)
        return load_dataset(*args, **kwargs)

    monkeypatch.setattr(cache, "load_dataset", counting)
    got = cache.validated_dataset(KUPANG, cache_dir=tmp_path, key=KEY)
    assert len(calls) == 1  # loaded from the data, not from the crashed folder
    assert got.parquet_path("employees").parent.parent.name == f"{cache.PREFIX}{key}"
    assert_same(loaded, got)
    # An old crashed folder is cleaned up by the next writer; a recent one is left alone.
    os.utime(crashed, (0, 0))
    shutil.rmtree(tmp_path / f"{cache.PREFIX}{key}")
    (tmp_path / f"{cache.PREFIX}{key}").mkdir(mode=0o700)  # incomplete: no dataset.json
    cache.validated_dataset(KUPANG, cache_dir=tmp_path, key=KEY)
    assert not crashed.exists() and len(calls) == 2
    assert cache.open_cached(tmp_path / f"{cache.PREFIX}{key}") is not None


def test_a_second_writer_of_the_same_key_leaves_the_first_ones_folder(tmp_path, loaded):
    folder = tmp_path / "dataset-same"
    cache.write_cached(loaded, folder)
    reader = cache.open_cached(folder)
    files = {p: p.stat().st_ino for p in folder.rglob("*")}
    assert cache.write_cached(loaded, folder) == folder  # lost the race: keeps the winner
    assert {p: p.stat().st_ino for p in folder.rglob("*")} == files
    assert [p.name for p in tmp_path.iterdir()] == ["dataset-same"]  # no temporary left
    pd.testing.assert_frame_equal(reader.tables["training"], loaded.tables["training"])


def test_metadata_json_cannot_hold_is_refused_and_the_data_stay_in_memory(tmp_path, monkeypatch):
    real = cache.load_dataset

    def with_odd_metadata(*args, **kwargs):
        dataset = real(*args, **kwargs)
        dataset.metadata[2024] = "a number as key"  # JSON would make it the text "2024"
        return dataset

    monkeypatch.setattr(cache, "load_dataset", with_odd_metadata)
    with pytest.warns(RuntimeWarning, match="could not be cached .*metadata hold values"):
        got = cache.validated_dataset(KUPANG, cache_dir=tmp_path, key=KEY)
    assert got.metadata[2024] == "a number as key" and got.parquet_path("employees") is None
    assert list(tmp_path.iterdir()) == []


def _damaged_copy(clean: Path, tmp_path: Path, damage) -> tuple[Path, Path]:
    """A copy of the clean cache with one kind of damage done to it; returns (cache, folder)."""
    target = tmp_path / "cache"
    shutil.copytree(clean, target, symlinks=True)
    (folder,) = target.glob(f"{cache.PREFIX}*")
    damage(folder / cache.TABLES_DIR)
    return target, folder


def _truncate(tables: Path) -> None:
    path = tables / "performance.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _zero(tables: Path) -> None:
    (tables / "employees.parquet").write_bytes(b"")


def _delete(tables: Path) -> None:
    (tables / "training.parquet").unlink()


def _swap(tables: Path) -> None:
    a, b = tables / "agencies.parquet", tables / "policies.parquet"
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)
    b.write_bytes(a_bytes)


def _same_bytes_other_content(tables: Path) -> None:
    """The hardest case for a size check: same length, one byte changed in the middle."""
    path = tables / "performance.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_truncate, "tables/performance.parquet has {size} bytes, {written} when written"),
        (_zero, "tables/employees.parquet has 0 bytes, {written} when written"),
        (_delete, "tables/training.parquet is missing"),
        (_swap, "tables/agencies.parquet has {size} bytes, {written} when written"),
        (_same_bytes_other_content, "tables/performance.parquet no longer has the content it "
         "was written with"),
    ],
    ids=["truncated", "zero-byte", "deleted", "swapped", "one-byte-changed"],
)  # fmt: skip
def test_a_damaged_cache_is_rebuilt_with_one_line_and_gives_the_clean_tables(
    damage, problem, cache_dir, loaded, tmp_path, capsys
):
    target, folder = _damaged_copy(cache_dir, tmp_path, damage)
    meta = json.loads((folder / cache.META_FILE).read_text(encoding="utf-8"))
    name = problem.split(" ")[0]
    written = meta["files"][name]["size"]
    size = (folder / name).stat().st_size if (folder / name).exists() else 0
    expected = problem.format(size=f"{size:,}", written=f"{written:,}")
    capsys.readouterr()
    got = cache.validated_dataset(KUPANG, cache_dir=target, key=KEY)
    err = capsys.readouterr().err
    assert err == (
        f"asn-eval: the cached copy of the checked data is damaged ({expected}); "
        f"checking {KUPANG} again.\n"
    )
    for table in loaded.tables:
        pd.testing.assert_frame_equal(got.table(table), loaded.tables[table])
    for attribute in ACCOUNT:
        pd.testing.assert_frame_equal(getattr(got, attribute), getattr(loaded, attribute))
    # rebuilt in place: the next open is clean and silent
    cache.validated_dataset(KUPANG, cache_dir=target, key=KEY)
    assert capsys.readouterr().err == ""


def test_a_kernel_checks_sizes_only_and_the_parent_the_content(cache_dir, tmp_path):
    target, folder = _damaged_copy(cache_dir, tmp_path, _same_bytes_other_content)
    meta = json.loads((folder / cache.META_FILE).read_text(encoding="utf-8"))
    assert cache.damage(folder, meta, full=False) is None  # same size: a kernel opens it
    assert "no longer has the content" in cache.damage(folder, meta, full=True)
    with pytest.raises(cache.DamagedCache):
        cache.open_cached(folder, verify="hash")


def test_the_report_is_told_what_is_damaged_by_a_reason_it_can_say_in_its_language(
    cache_dir, loaded, tmp_path, capsys
):
    target, folder = _damaged_copy(cache_dir, tmp_path, _delete)
    told: list[cache.DamagedCache] = []
    got = cache.validated_dataset(KUPANG, cache_dir=target, key=KEY, on_damage=told.append)
    assert capsys.readouterr().err == ""  # the callback says it, not the English line
    assert [(d.folder, d.file, d.reason) for d in told] == [
        (folder, "tables/training.parquet", "missing")
    ]
    pd.testing.assert_frame_equal(got.table("training"), loaded.tables["training"])


def test_a_damaged_folder_holding_a_users_file_is_left_as_it_is(cache_dir, loaded, tmp_path):
    """ASN_EVAL_CACHE_DIR may point at a user's folder: a file the cache never writes, put
    into a cache folder, is never deleted with it; the data then come from memory."""
    target, folder = _damaged_copy(cache_dir, tmp_path, _truncate)
    mine = folder / "catatan saya.txt"
    mine.write_text("jangan dihapus", encoding="utf-8")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.warns(RuntimeWarning, match="holds files the cache did not write"):
        got = cache.validated_dataset(
            KUPANG, cache_dir=target, key=KEY, on_damage=lambda damaged: None
        )
    assert mine.read_text(encoding="utf-8") == "jangan dihapus"
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert got.parquet_path("performance") is None  # in memory, not the damaged file
    for table in loaded.tables:
        pd.testing.assert_frame_equal(got.table(table), loaded.tables[table])


# --- notes ----------------------------------------------------------------------------------
def test_notes_are_kept_as_key_and_values_and_read_the_same_in_both_languages(tmp_path):
    folder = cache.write_cached(small_dataset(), tmp_path / "dataset-x")
    kept = json.loads((folder / cache.META_FILE).read_text(encoding="utf-8"))["notes"]
    assert kept[0] == {
        "key": "note.metadata_missing",
        "values": {"metadata": "metadata.yaml", "folder": "/data/kota", "truth": "truth.json"},
    }
    assert kept[1]["values"] == {"file": "employees.xlsx", "count": 1234, "lines": [2, 5, 9, "..."]}
    got = cache.open_cached(folder).notes
    assert got[1].text("id").startswith("employees.xlsx: 1.234 NIP (baris 2, 5, 9, ...) tersimpan")
    assert str(got[1]).startswith("employees.xlsx: 1,234 NIPs (lines 2, 5, 9, ...) were stored")
    assert got[0].text("id").startswith("metadata.yaml tidak ada di /data/kota: tahun data")
    assert said(got) == said(NOTES)


def test_a_folder_of_the_previous_format_is_rebuilt(tmp_path):
    """Format 3 kept each note as an English sentence: such a folder is not used, and the
    next write replaces it."""
    folder = cache.write_cached(small_dataset(), tmp_path / "dataset-x")
    meta = json.loads((folder / cache.META_FILE).read_text(encoding="utf-8"))
    meta.update(format=3, notes=[str(note) for note in NOTES])
    (folder / cache.META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    assert cache.open_cached(folder) is None
    cache.write_cached(small_dataset(), folder)
    assert said(cache.open_cached(folder).notes) == said(NOTES)


def test_a_note_the_catalog_no_longer_knows_makes_the_folder_unused(tmp_path):
    folder = cache.write_cached(small_dataset(), tmp_path / "dataset-x")
    meta = json.loads((folder / cache.META_FILE).read_text(encoding="utf-8"))
    meta["notes"][0]["key"] = "note.renamed_since"
    (folder / cache.META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    assert cache.open_cached(folder) is None


def test_a_note_json_would_not_keep_is_refused(tmp_path):
    dataset = dataclasses.replace(
        small_dataset(), notes=[Message("note.truth_evidence", truth={"truth.json"})]
    )
    with pytest.raises(cache.CacheError, match="notes? hold"):
        cache.write_cached(dataset, tmp_path / "dataset-x")
    assert not (tmp_path / "dataset-x").exists()
