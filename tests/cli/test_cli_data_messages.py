"""``asn-eval validate`` prints the data layer's messages whole in its language, writes
rejects.csv and quality.csv in it, and stops on rejected rows by report's rule and options."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from asn_eval.cli import commands as cli
from asn_eval.config import DEFAULT_DATA_DIR, MAX_REJECT_SHARE
from asn_eval.data import DataError, load_dataset
from asn_eval.data.io import write_csv_safely


def _validate(tmp_path, *args: str, data=DEFAULT_DATA_DIR) -> tuple[int, object]:
    out = tmp_path / "validation"
    return cli.main(["validate", str(data), "--out", str(out), *args]), out


def test_a_missing_column_reads_whole_in_indonesian(tmp_path, capsys):
    data = tmp_path / "city"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "training.csv"
    frame = pd.read_csv(path, sep=None, engine="python", dtype=str)
    frame.drop(columns=["jp"]).to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    status, out = _validate(tmp_path, "--lang", "ID", data=data)
    err, written = capsys.readouterr().err.splitlines()
    assert status == 2
    assert err.startswith(
        "asn-eval validate: Berkas training.csv tidak punya kolom 'jp' yang wajib ada untuk "
        "tabel 'training'. Kolom yang ditemukan: "
    )
    assert err == f"asn-eval validate: {caught.value.text('id')}"
    assert written == f"Penolakan sejauh ini ditulis ke {out / 'rejects.csv'}"
    assert "File training.csv" not in err and "Traceback" not in err
    status, _ = _validate(tmp_path, "--lang", "en", data=data)
    assert capsys.readouterr().err.splitlines()[0] == f"asn-eval validate: {caught.value}"


def test_rejects_and_quality_in_indonesian(tmp_path, capsys, kupang_dataset):
    status, out = _validate(tmp_path, "--lang", "id")
    assert status == 0
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    assert list(rejects.columns) == [
        "tabel", "berkas", "baris", "kolom", "isi", "kode_aturan", "aturan", "dikesampingkan",
        "sebab",
    ]  # fmt: skip
    assert rejects["kode_aturan"].tolist() == kupang_dataset.rejects["rule"].tolist()
    assert "tanggal tidak sah" in set(rejects["aturan"])
    quality = pd.read_csv(out / "quality.csv")
    assert list(quality.columns) == ["tabel", "dibaca", "diterima", "ditolak"]
    assert capsys.readouterr().out.startswith("tabel ")


def test_english_rejects_are_as_before(tmp_path, kupang_dataset):
    status, out = _validate(tmp_path, "--lang", "en")
    assert status == 0
    for frame, name in ((kupang_dataset.rejects, "rejects.csv"), (kupang_dataset.quality,
                                                                  "quality.csv")):  # fmt: skip
        path = tmp_path / f"expected-{name}"
        write_csv_safely(frame, path, index=False)
        assert (out / name).read_bytes() == path.read_bytes()
    assert list(pd.read_csv(out / "rejects.csv").columns) == [
        "table", "file", "line", "column", "value", "rule", "set_aside", "cause",
    ]  # fmt: skip


def test_max_reject_share_and_allow_rejects(tmp_path, capsys):
    status, out = _validate(tmp_path, "--lang", "id", "--max-reject-share", "0")
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(
        "asn-eval validate: Terlalu banyak baris ditolak untuk menyusun laporan dari sisanya: "
        "employees (employees.csv): 8 dari 3.008 baris ditolak (0,3%;"
    )
    assert (out / "rejects.csv").exists()  # written before the stop
    status, _ = _validate(tmp_path, "--lang", "id", "--max-reject-share", "0", "--allow-rejects")
    assert status == 0
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit) as refused:
        _validate(tmp_path, "--max-reject-share", "2")
    assert refused.value.code == 2
    assert "--max-reject-share" in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["id", "en"])
def test_validate_help_lists_report_rejects_options(lang, capsys):
    with pytest.raises(SystemExit):
        cli.main(["validate", "--help", "--lang", lang])
    help_text = " ".join(capsys.readouterr().out.split())
    researcher = help_text.index("--mapping")
    assert help_text.index("--max-reject-share") > researcher
    assert help_text.index("--allow-rejects") > researcher
    assert f"{MAX_REJECT_SHARE:.2f}" in help_text
    word = "bawaan" if lang == "id" else "default"
    assert f"({word}: {MAX_REJECT_SHARE:.2f})" in help_text


def test_an_issuer_of_the_wrong_type_stops_with_exit_2_naming_file_and_key(tmp_path, capsys):
    data = tmp_path / "city"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "metadata.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    meta["issuer"] = {"office": "BKPSDM Kota Kupang", "contact": 821234}
    path.write_text(yaml.safe_dump(meta), encoding="utf-8")
    status, _ = _validate(tmp_path, "--lang", "id", data=data)
    assert status == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"asn-eval validate: Berkas metadata.yaml di {data}: isian 'issuer' 'contact' berisi "
        "nilai 821234, bukan teks. Yang diharapkan: satu baris teks; beri tanda petik pada "
        "nomor telepon (\"contact: '0380 821234'\"), yang tanpa itu dibaca YAML sebagai angka. "
        "Perbaiki isian itu."
    )
