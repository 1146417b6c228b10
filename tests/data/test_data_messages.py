"""The data layer's messages in both languages (issue #19, item 6): the catalog, the errors a
user reads under --lang id, and rejects.csv / quality.csv in Indonesian."""

from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import pandas as pd
import pytest

from asn_eval.data import DataError, load_dataset
from asn_eval.data.messages import Message, catalog
from asn_eval.data.validate import REJECT_COLUMNS, quality_table, rejects_table
from asn_eval.report.build import DEFAULT_DATA_DIR

# Words that mark English inside an Indonesian text, once literal names ('...', file names,
# options) are taken out.
ENGLISH = (
    "the", "a", "an", "of", "and", "or", "is", "are", "was", "not", "no", "with", "in", "on",
    "to", "rows", "row", "lines", "line", "column", "columns", "file", "files", "cell",
    "cells", "expected", "sheet", "date", "dates", "first", "run", "again", "export",
    "rejected", "values", "value", "table", "header", "mapping", "only", "must", "e.g.",
)  # fmt: skip


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _prose(text: str) -> str:
    """``text`` without what stays literal in every language: quoted names, placeholders,
    file names and command-line options."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\{[^}]*\}", " ", text)
    return re.sub(r"\S+\.(csv|yaml|xlsx|parquet|xls)\b|--[\w-]+|asn-eval \w+", " ", text)


def test_every_key_in_both_languages_with_the_same_placeholders():
    english, indonesian = catalog("en"), catalog("id")
    assert set(english) == set(indonesian)
    for key, text in english.items():
        assert _fields(text) == _fields(indonesian[key]), key


@pytest.mark.parametrize("key", sorted(k for k in catalog("id") if not k.startswith("rule.")))
def test_no_english_word_in_an_indonesian_message(key):
    words = re.findall(r"[A-Za-z][\w.]*", _prose(catalog("id")[key]).lower())
    assert not set(words) & set(ENGLISH), (key, set(words) & set(ENGLISH))


@pytest.fixture
def synthetic_copy(tmp_path):
    target = tmp_path / "city"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _error(data_dir: Path, **kw) -> DataError:
    with pytest.raises(DataError) as caught:
        load_dataset(data_dir, **kw)
    return caught.value


def test_missing_column_in_indonesian(synthetic_copy):
    path = synthetic_copy / "training.csv"
    frame = pd.read_csv(path, sep=None, engine="python", dtype=str)
    frame.drop(columns=["jp"]).to_csv(path, index=False)
    error = _error(synthetic_copy)
    assert str(error).startswith("File training.csv has no column 'jp' required for")
    said = error.text("id")
    assert said.startswith(
        "Berkas training.csv tidak punya kolom 'jp' yang wajib ada untuk tabel 'training'. "
        "Kolom yang ditemukan: "
    )
    assert said.endswith(
        "Ganti judul kolom di berkas, atau petakan di 'tables: training: columns:' dalam "
        "berkas pemetaan YAML."
    )


def test_month_first_dates_in_indonesian():
    message = Message(
        "dates.month_first",
        where=Message("dates.where", file="employees.csv", column="birth_date"),
        against=1234,
        present=3000,
        examples=[Message("dates.example", line=5, value="12/31/1980")],
        fix=Message("dates.fix"),
    )
    said = message.text("id")
    assert said.startswith(
        "Berkas employees.csv, kolom 'birth_date': tanggalnya ditulis bulan dulu, seperti "
        "tulisan Excel berpengaturan wilayah Amerika Serikat: 1.234 dari 3.000 tanggal punya "
        "angka kedua lebih dari 12, yang hanya mungkin berupa hari (mis. baris 5: 12/31/1980)"
    )
    assert said.endswith("tambahkan 'date_order: mdy' untuk tabel ini dalam berkas pemetaan YAML.")
    assert "1,234 of 3,000 dates" in str(message)


def test_bad_date_order_in_the_mapping_in_indonesian(synthetic_copy):
    mapping = {"tables": {"employees": {"date_order": "ymd"}}}
    error = _error(synthetic_copy, mapping=mapping)
    assert error.text("id") == (
        "Berkas pemetaan, tabel 'employees': 'date_order' berisi teks 'ymd'. Yang diharapkan: "
        "'date_order: dmy' (hari dulu, 31/12/2024) atau 'date_order: mdy' (bulan dulu, "
        "12/31/2024) untuk seluruh tabel, atau satu entri per kolom tanggal (birth_date, "
        "service_start, service_end), mis. 'date_order: {birth_date: mdy}'."
    )
    assert str(error).startswith("The mapping, table 'employees': 'date_order' holds the text")


def test_reject_share_in_indonesian(kupang_dataset):
    with pytest.raises(DataError) as caught:
        kupang_dataset.check_reject_share(0.001)
    said = caught.value.text("id")
    assert said.startswith(
        "Terlalu banyak baris ditolak untuk menyusun laporan dari sisanya: employees "
        "(employees.csv): 8 dari 3.008 baris ditolak (0,3%; paling sering duplicate_row 3, "
    )
    assert "Paling banyak 0% baris suatu tabel boleh ditolak." in said
    assert said.endswith(
        "atau tambahkan --allow-rejects untuk tetap menyusun laporan dari baris yang diterima."
    )
    assert str(caught.value).startswith(
        "Too many rows were rejected to build a report on the rest: employees (employees.csv): "
        "8 of 3,008 rows rejected (0.3%; most often duplicate_row 3, "
    )


def test_a_plain_english_error_stays_english():
    assert DataError("File x.csv: broken.").text("id") == "File x.csv: broken."


def test_rejects_table_headers_in_both_languages(kupang_dataset):
    rejects = kupang_dataset.rejects
    assert rejects_table(rejects, "en") is rejects
    assert list(rejects_table(rejects, "en").columns) == list(REJECT_COLUMNS)
    indonesian = rejects_table(rejects, "id")
    assert list(indonesian.columns) == [
        "tabel", "berkas", "baris", "kolom", "isi", "kode_aturan", "aturan", "dikesampingkan",
        "sebab",
    ]  # fmt: skip
    row = indonesian[indonesian["kode_aturan"] == "duplicate_row"].iloc[0]
    assert row["aturan"] == "baris ganda"
    assert row["kolom"] == "(seluruh baris)"
    assert re.fullmatch(r"sama dengan baris \d+", row["isi"])
    assert row["dikesampingkan"] == "baris"
    assert set(indonesian["isi"]) & {"(hidden)"} == set()
    # The report's copy has no values.
    report = rejects_table(rejects.drop(columns=["value"]), "id")
    assert "isi" not in report and "kode_aturan" in report
    quality = quality_table(kupang_dataset.quality, "id")
    assert list(quality.columns) == ["tabel", "dibaca", "diterima", "ditolak"]
    assert quality_table(kupang_dataset.quality, "en") is kupang_dataset.quality


def test_cause_in_indonesian():
    rejects = pd.DataFrame(
        [("training", "training.csv", 9, "nip", "(hidden)", "rejected_employee", "row",
          "employees.csv line 807 (nip: nip_sex_digit), because of agencies.csv line 3 "
          "(agency_code: missing_value)")],
        columns=list(REJECT_COLUMNS),
    )  # fmt: skip
    assert rejects_table(rejects, "id")["sebab"].iloc[0] == (
        "employees.csv baris 807 (nip: nip_sex_digit), karena agencies.csv baris 3 "
        "(agency_code: missing_value)"
    )


def test_summary_in_indonesian(kupang_dataset):
    lines = kupang_dataset.summary("id").splitlines()
    assert lines[0].split() == ["tabel", "dibaca", "diterima", "ditolak"]
    assert lines[2].split() == ["employees", "3.008", "3.000", "8"]
    assert "data sintetis: hanya ilustrasi" in lines
    assert kupang_dataset.summary().splitlines()[2].split() == [
        "employees", "3,008", "3,000", "8",
    ]  # fmt: skip
