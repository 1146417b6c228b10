"""Indonesian formats, encodings, Excel/Parquet and the column mapping."""

import shutil

import numpy as np
import pandas as pd
import pytest

from asn_eval.config import PROJECT_ROOT
from asn_eval.data import load_dataset, write_dataset
from asn_eval.data.io import (
    format_date_id,
    format_decimal_id,
    format_thousands_id,
    parse_category,
    parse_date,
    parse_int,
    parse_number,
    read_raw,
)
from asn_eval.domain.regulations import SKP_PREDICATES

ROOT = PROJECT_ROOT
KEY = "io-test-key"


def test_indonesian_numbers():
    values = pd.Series(["3,5", "1.234.567", "1.234,5", "Rp 12.500.000", "Rp. 2.500", "3.5",
                        "-2", "", None, "dua", "12,5 %"])  # fmt: skip
    parsed, bad = parse_number(values)
    expected = [3.5, 1234567, 1234.5, 12_500_000, 2500, 3.5, -2]
    np.testing.assert_allclose(parsed[:7], expected)
    assert parsed[7:9].isna().all() and not bad[7:9].any()  # empty is missing, not bad
    assert bad[9] and bad[10]
    ints, bad_int = parse_int(pd.Series(["12", "1.200", "3,5"]))
    assert ints[:2].tolist() == [12, 1200] and bad_int.tolist() == [False, False, True]


def test_indonesian_dates_and_impossible_ones():
    values = pd.Series(["31/12/2024", "2024-12-31", "31 Desember 2024", "1 maret 2005",
                        "5/1/2020", "17 Agt 2021", "30/02/2023", "2023-13-01", ""])  # fmt: skip
    parsed, bad = parse_date(values)
    assert parsed[:3].eq(pd.Timestamp("2024-12-31")).all()
    assert parsed[3] == pd.Timestamp("2005-03-01")
    assert parsed[4] == pd.Timestamp("2020-01-05")  # day first, as written in Indonesia
    assert parsed[5] == pd.Timestamp("2021-08-17")
    assert bad.tolist() == [False] * 6 + [True, True, False]


def test_predicates_in_any_case_or_spacing():
    values = pd.Series(["SANGAT BAIK", "Sangat  baik", " baik ", "kurang / misconduct",
                        "Sangat Baek", None])  # fmt: skip
    labels, bad = parse_category(values, SKP_PREDICATES)
    assert labels[:4].tolist() == ["Sangat Baik", "Sangat Baik", "Baik", "Kurang/Misconduct"]
    assert bad.tolist() == [False, False, False, False, True, False]


def test_formatters_round_trip():
    assert format_decimal_id(np.array([3.25, np.nan]), 2).tolist() == ["3,25", ""]
    assert format_thousands_id([12_500_000], prefix="Rp ").tolist() == ["Rp 12.500.000"]
    dates = pd.Series(pd.to_datetime(["2024-12-31", "2005-03-01"]))
    assert format_date_id(dates, style="long").tolist() == ["31 Desember 2024", "1 Maret 2005"]
    for style in ("dmy", "iso", "long"):
        assert parse_date(format_date_id(dates, style=style))[0].equals(dates)


def test_csv_encodings_and_separators(tmp_path):
    rows = "kode;nama\n1;Dinas Pariwisata\n2;Kecamatan Maulafa \u2013 Timur\n"
    (tmp_path / "a.csv").write_bytes(rows.encode("cp1252"))
    (tmp_path / "b.csv").write_bytes("\ufeff".encode() + rows.replace(";", ",").encode())
    a, b = read_raw(tmp_path / "a.csv"), read_raw(tmp_path / "b.csv")
    assert list(a.columns) == ["kode", "nama"] == list(b.columns)
    assert a["nama"].iloc[1] == b["nama"].iloc[1] == "Kecamatan Maulafa \u2013 Timur"
    assert a.index.tolist() == [2, 3]  # file line numbers


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("io") / "city"
    write_dataset(out, n_employees=120, seed=11, dirty=False)
    return out, load_dataset(out, key=KEY)


def _assert_same_tables(a, b):
    for name, frame in a.tables.items():
        pd.testing.assert_frame_equal(frame, b.tables[name], check_dtype=False, obj=name)


def test_excel_and_parquet_load_the_same_tables(small, tmp_path):
    csv_dir, from_csv = small
    for suffix in ("xlsx", "parquet"):
        target = tmp_path / suffix
        shutil.copytree(csv_dir, target)
        for name in ("employees", "training"):
            frame = read_raw(csv_dir / f"{name}.csv").reset_index(drop=True)
            (target / f"{name}.csv").unlink()
            if suffix == "xlsx":
                frame.to_excel(target / f"{name}.xlsx", index=False)
            else:
                frame.to_parquet(target / f"{name}.parquet", index=False)
        _assert_same_tables(from_csv, load_dataset(target, key=KEY))


# The shape of an older employees export: upper-case headers with spaces, an end date of its
# own and the agency in one column (data/siasn-mapping.yaml maps SIASN's export as it is;
# tests/data/test_data_siasn.py reads it).
EXPORT_MAPPING = {
    "file": "pegawai.xlsx",
    "columns": {
        "NIP BARU": "nip",
        "NAMA": "name",
        "UNOR INDUK ID": "agency_code",
        "TANGGAL LAHIR": "birth_date",
        "JENIS KELAMIN": "sex",
        "TINGKAT PENDIDIKAN NAMA": "education",
        "GOL AKHIR NAMA": "rank",
        "JENIS JABATAN NAMA": "position_type",
        "TMT CPNS": "service_start",
        "TMT PENSIUN": "service_end",
        "STATUS PEGAWAI": "employment_type",
    },
    "values": {
        "sex": {"M": "L", "F": "P"},
        "education": {"S-1/Sarjana": "S1", "SLTA": "SMA"},
        "position_type": {
            "Jabatan Struktural": "struktural",
            "Jabatan Fungsional Tertentu": "fungsional",
            "Jabatan Pelaksana": "pelaksana",
        },
    },
}


def test_export_headers_via_mapping_yaml(small, tmp_path):
    csv_dir, from_csv = small
    target = tmp_path / "export"
    shutil.copytree(csv_dir, target)
    emp = read_raw(csv_dir / "employees.csv").reset_index(drop=True)
    export = pd.DataFrame(
        {
            "NIP BARU": "'" + emp["nip"],  # Excel users often keep NIPs as text with a quote
            "NAMA": emp["name"],
            "NIK": "5371000000000000",  # extra columns are ignored
            "UNOR INDUK ID": emp["agency_code"],
            "TANGGAL LAHIR": emp["birth_date"],
            "JENIS KELAMIN": emp["sex"].map({"L": "M", "P": "F"}),
            "TINGKAT PENDIDIKAN NAMA": emp["education"].replace(
                {"S1": "S-1/Sarjana", "SMA": "SLTA"}
            ),  # fmt: skip
            "GOL AKHIR NAMA": emp["rank"],
            "JENIS JABATAN NAMA": emp["position_type"].map(
                {
                    "struktural": "Jabatan Struktural",
                    "fungsional": "Jabatan Fungsional Tertentu",
                    "pelaksana": "Jabatan Pelaksana",
                }
            ),  # fmt: skip
            "TMT CPNS": emp["service_start"],
            "TMT PENSIUN": emp["service_end"],
            "STATUS PEGAWAI": emp["employment_type"],
        }
    )
    (target / "employees.csv").unlink()
    export.to_excel(target / "pegawai.xlsx", index=False)
    mapping = {"tables": {"employees": EXPORT_MAPPING}}
    loaded = load_dataset(target, key=KEY, mapping=mapping)
    expected = from_csv.tables["employees"]
    got = loaded.tables["employees"]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)
    # Kept in the data folder as mapping.yaml, the same mapping is read without being named,
    # which is how `asn-eval report --data DIR` reads an office's export.
    (target / "mapping.yaml").write_text(__import__("yaml").safe_dump(mapping), encoding="utf-8")
    by_default = load_dataset(target, key=KEY)
    pd.testing.assert_frame_equal(by_default.tables["employees"], got)
