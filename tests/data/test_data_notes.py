"""The notes a reader must see about the data, as a clerk reads them in either language.

``Dataset.notes`` are catalog messages: ``asn-eval validate DIR --lang id`` prints each one
whole in Indonesian after the summary ("catatan: ..."), ``--lang en`` in the English it has
always had, and a dataset opened from the cache says the same. Every test copies the
committed dataset and breaks it the way an office's folder is broken.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from asn_eval.config import PROJECT_ROOT
from asn_eval.data import cache, load_dataset
from asn_eval.data.messages import Message

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
ASN_EVAL = ROOT / ".venv" / "bin" / "asn-eval"
KEY = "test-key"
BOM = "\ufeff"

MISSING_ID = (
    "metadata.yaml tidak ada di {folder}: tahun data diambil dari tabel 'performance', "
    "tanggal data dianggap akhir tahun terakhir, wilayah dan uraian data ('region', "
    "'description') tidak diketahui, dan data dianggap data sebenarnya (bukan sintetis) "
    "kecuali folder itu berisi truth.json. Tambahkan metadata.yaml (lihat data/README.md)."
)
MISSING_EN = (
    "metadata.yaml is missing in {folder}: the years are taken from the performance table, "
    "the data date is taken as the end of the last year, region and description are "
    "unknown, and the data count as real (not synthetic) unless the folder holds "
    "truth.json. Add metadata.yaml (see data/README.md)."
)
NO_FLAG_ID = (
    "metadata.yaml tidak memuat isian 'synthetic', tetapi folder itu berisi truth.json, yang "
    "hanya dibuat oleh pembangkit data sintetis: data diperlakukan sebagai data sintetis dan "
    "setiap hasil keluarannya memuat keterangan data sintetis."
)
NO_FLAG_EN = (
    "metadata.yaml does not say synthetic, but the folder holds truth.json, which only the "
    "synthetic generator writes: the data are treated as synthetic and every output carries "
    "the synthetic notice."
)
NIP_ID = (
    "employees.csv: 1 NIP (baris 2) tersimpan sebagai angka, bukan teks: Excel hanya "
    "menyimpan 15 angka dari sebuah bilangan, sehingga angka terakhir NIP yang 18 angka hilang "
    "dan NIP itu bisa jadi milik pegawai lain. Baris itu ditolak (nip_as_number), tidak "
    "dicocokkan dengan pegawai mana pun. Atur format kolom NIP menjadi Text, ketik ulang NIP "
    "tersebut, lalu ekspor ulang."
)
NIP_EN = (
    "employees.csv: 1 NIP (line 2) was stored as a number, not as text: Excel keeps 15 of a "
    "number's digits, so the last digits of the 18-digit NIP are lost and it could be another "
    "employee's. That row is rejected (nip_as_number), not matched to anyone. Format the NIP "
    "column as Text, type the NIP again and export again."
)


@pytest.fixture
def data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DEFAULT, target)
    return target


def _validate(data: Path, lang: str, out: Path) -> list[str]:
    """The lines ``asn-eval validate DATA --lang LANG`` prints (it must succeed)."""
    result = subprocess.run(
        [str(ASN_EVAL), "validate", str(data), "--lang", lang, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _notes(lines: list[str], lead: str) -> list[str]:
    return [line[len(lead) :] for line in lines if line.startswith(lead)]


def _set_nip(path: Path, lines: list[int], value: str) -> None:
    """Write ``value`` as the NIP (the first cell) of each file line in ``lines``."""
    rows = path.read_text(encoding="utf-8-sig").splitlines()
    for line in lines:
        cells = rows[line - 1].split(";")
        cells[0] = value
        rows[line - 1] = ";".join(cells)
    path.write_bytes((BOM + "\n".join(rows) + "\n").encode("utf-8"))


# --- through the command a clerk runs --------------------------------------------------------
def test_validate_says_a_missing_metadata_yaml_in_indonesian(data, tmp_path):
    (data / "metadata.yaml").unlink()
    said = _validate(data, "id", tmp_path / "id")
    assert _notes(said, "catatan: ") == [MISSING_ID.format(folder=data), NO_FLAG_ID]
    assert not _notes(said, "note: ")
    english = _validate(data, "en", tmp_path / "en")
    assert _notes(english, "note: ") == [MISSING_EN.format(folder=data), NO_FLAG_EN]


def test_validate_says_a_nip_stored_as_a_number_in_indonesian(data, tmp_path):
    # What Excel writes to a CSV for a NIP cell formatted as a number.
    _set_nip(data / "employees.csv", [2], "1.97610E+17")
    said = _validate(data, "id", tmp_path / "id")
    assert _notes(said, "catatan: ") == [NIP_ID]
    assert _notes(_validate(data, "en", tmp_path / "en"), "note: ") == [NIP_EN]


# --- each note, in both languages ------------------------------------------------------------
def test_several_nips_stored_as_numbers(data):
    _set_nip(data / "employees.csv", [2, 3, 4, 5], "1.97610E+17")
    (note,) = load_dataset(data, key=KEY).notes
    assert note.text("id") == (
        "employees.csv: 4 NIP (baris 2, 3, 4, ...) tersimpan sebagai angka, bukan teks: Excel "
        "hanya menyimpan 15 angka dari sebuah bilangan, sehingga angka terakhir NIP yang 18 "
        "angka hilang dan NIP itu bisa jadi milik pegawai lain. Baris-baris itu ditolak "
        "(nip_as_number), tidak dicocokkan dengan pegawai mana pun. Atur format kolom NIP "
        "menjadi Text, ketik ulang NIP-NIP itu, lalu ekspor ulang."
    )
    assert str(note) == (
        "employees.csv: 4 NIPs (lines 2, 3, 4, ...) were stored as a number, not as text: Excel "
        "keeps 15 of a number's digits, so the last digits of the 18-digit NIP are lost and it "
        "could be another employee's. Those rows are rejected (nip_as_number), not matched to "
        "anyone. Format the NIP column as Text, type the NIPs again and export again."
    )


def test_synthetic_false_overruled(data):
    (data / "metadata.yaml").write_text(
        "synthetic: false\nyears: [2019, 2025]\ngenerator: asn-eval synth --seed 7\n",
        encoding="utf-8",
    )
    dataset = load_dataset(data, key=KEY)
    (note,) = dataset.notes
    assert note.text("id") == (
        "metadata.yaml menyatakan 'synthetic: false', tetapi folder itu berisi truth.json, yang "
        "hanya dibuat oleh pembangkit data sintetis dan metadata.yaml menyebut pembangkit "
        "datanya (asn-eval synth --seed 7): data diperlakukan sebagai data sintetis dan setiap "
        "hasil keluarannya memuat keterangan data sintetis."
    )
    assert str(note) == (
        "metadata.yaml says synthetic: false, but the folder holds truth.json, which only the "
        "synthetic generator writes and metadata.yaml names the generator (asn-eval synth "
        "--seed 7): the data are treated as synthetic and every output carries the synthetic "
        "notice."
    )
    assert f"catatan: {note.text('id')}" in dataset.summary("id").splitlines()


def _break_policies(data: Path, *, drop_row: bool) -> None:
    path = data / "policies.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[2].startswith("5371002;13 Februari 2023;")
    lines[2] = lines[2].replace("13 Februari 2023", "31 Februari 2023")  # no such date
    if drop_row:
        assert lines[5].startswith("5371005;")
        del lines[5]  # an agency without a row
    path.write_text(BOM + "\n".join(lines) + "\n", encoding="utf-8")


def test_one_agency_left_out_of_the_policy_analyses(data):
    _break_policies(data, drop_row=False)
    dataset = load_dataset(data, key=KEY)
    (note,) = dataset.notes
    indonesian = (
        "1 perangkat daerah dikeluarkan dari semua analisis kebijakan karena tanggal penerapan "
        "kebijakannya tidak diketahui (1 karena barisnya di policies.csv ditolak, 0 karena tidak "
        "punya baris di sana); perangkat daerah itu tidak dihitung sebagai perangkat daerah "
        "yang tidak pernah menerapkan kebijakan. Perbaiki barisnya supaya perangkat daerah itu "
        "ikut dianalisis lagi."
    )
    assert note.text("id") == indonesian
    assert f"catatan: {indonesian}" in dataset.summary("id").splitlines()
    assert str(note) == (
        "1 agency is left out of every policy analysis because the adoption dates are unknown "
        "(1 with a rejected row in policies.csv, 0 without a row there); they are not counted "
        "as agencies that never adopted. Correct those rows to bring them back."
    )


def test_agencies_left_out_of_the_policy_analyses(data):
    _break_policies(data, drop_row=True)
    (note,) = load_dataset(data, key=KEY).notes
    assert note.text("id") == (
        "2 perangkat daerah dikeluarkan dari semua analisis kebijakan karena tanggal penerapan "
        "kebijakannya tidak diketahui (1 karena barisnya di policies.csv ditolak, 1 karena tidak "
        "punya baris di sana); perangkat daerah tersebut tidak dihitung sebagai perangkat "
        "daerah yang tidak pernah menerapkan kebijakan. Perbaiki baris-baris itu supaya "
        "perangkat daerah tersebut ikut dianalisis lagi."
    )
    assert str(note) == (
        "2 agencies are left out of every policy analysis because the adoption dates are "
        "unknown (1 with a rejected row in policies.csv, 1 without a row there); they are not "
        "counted as agencies that never adopted. Correct those rows to bring them back."
    )


def test_a_renamed_optional_column_is_not_lost_silently(data, tmp_path):
    # An office's export calls the SKP score column by its own name: the contract lets a file
    # leave skp_score out, so the file is accepted, and the note says every score reads empty.
    path = data / "performance.csv"
    rows = path.read_text(encoding="utf-8-sig").splitlines()
    rows[0] = rows[0].replace("skp_score", "nilai_skp")
    path.write_bytes((BOM + "\n".join(rows) + "\n").encode("utf-8"))
    assert _notes(_validate(data, "id", tmp_path / "id"), "catatan: ") == [
        "performance.csv tidak punya kolom 'skp_score' (tabel performance): semua isian "
        "skp_score dibaca kosong. Jika berkas itu menyimpannya dengan judul kolom lain, ganti "
        "judul itu menjadi 'skp_score' atau petakan dalam YAML pemetaan (lihat data/README.md)."
    ]
    (note,) = load_dataset(data, key=KEY).notes
    assert str(note) == (
        "performance.csv has no column 'skp_score' (performance table): every skp_score value "
        "is read as empty. If the file holds it under another header, rename that header to "
        "'skp_score' or map it in a mapping YAML (see data/README.md)."
    )


def test_a_file_without_names_needs_no_note(data):
    # Names are dropped right after validation, so leaving them out loses nothing.
    path = data / "employees.csv"
    rows = [";".join(c for i, c in enumerate(r.split(";")) if i != 1)
            for r in path.read_text(encoding="utf-8-sig").splitlines()]  # fmt: skip
    assert rows[0].startswith("nip;agency_code;")
    path.write_bytes((BOM + "\n".join(rows) + "\n").encode("utf-8"))
    assert load_dataset(data, key=KEY).notes == []


def test_the_committed_data_have_no_notes():
    assert load_dataset(DEFAULT, key=KEY).notes == []


# --- through the cache -----------------------------------------------------------------------
def test_notes_come_back_from_the_cache_in_both_languages(data, tmp_path, monkeypatch):
    (data / "metadata.yaml").unlink()
    _set_nip(data / "employees.csv", [2], "1.97610E+17")
    first = cache.validated_dataset(data, cache_dir=tmp_path / "cache", key=KEY)
    (folder,) = (tmp_path / "cache").glob("dataset-*")
    kept = json.loads((folder / cache.META_FILE).read_text(encoding="utf-8"))["notes"]
    assert kept[0] == {
        "key": "note.metadata_missing",
        "values": {"metadata": "metadata.yaml", "folder": str(data), "truth": "truth.json"},
    }
    assert kept[1]["values"]["said"] == {"message": {"key": "note.no_synthetic", "values": {}}}

    def no_loading(*args, **kwargs):
        raise AssertionError("the data folder was loaded again")

    monkeypatch.setattr(cache, "load_dataset", no_loading)
    again = cache.validated_dataset(data, cache_dir=tmp_path / "cache", key=KEY)
    for dataset in (first, again):
        assert all(isinstance(note, Message) for note in dataset.notes)
        assert [note.text("id") for note in dataset.notes] == [
            MISSING_ID.format(folder=data), NO_FLAG_ID, NIP_ID,
        ]  # fmt: skip
        assert [str(note) for note in dataset.notes] == [
            MISSING_EN.format(folder=data), NO_FLAG_EN, NIP_EN,
        ]  # fmt: skip
        assert f"catatan: {NIP_ID}" in dataset.summary("id").splitlines()
