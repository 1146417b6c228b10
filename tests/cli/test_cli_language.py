"""The office's command line in its language: ``--lang`` in any case on every command,
``validate``'s own messages in Indonesian, a report's messages in the report's language
whatever the locale, and chapters named and ordered as the report names and orders them.

The data layer's own messages (``DataError`` text, the per-table summary, rejects.csv) come
in the command's language from the data layer's catalog; tests/data/test_data_messages.py
checks their words, these tests that the command prints them whole in its language.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell
from support import write_chapters

from asn_eval.cli import commands as cli
from asn_eval.config import DEFAULT_DATA_DIR
from asn_eval.data import DataError
from asn_eval.data.validate import Dataset, rejects_table

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def _locale(monkeypatch, value: str) -> None:
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", value)


def _grouped(count: int, lang: str) -> str:
    """A count as the user reads it: 20,060 (en), 20.060 (id)."""
    return f"{count:,}".replace(",", "." if lang == "id" else ",")


def _validate_lines(dataset, out: Path, lang: str) -> list[str]:
    rows, cells = dataset.set_aside_counts()
    flagged = int((dataset.tables["employees"]["nip_flag"] != "").sum())
    rows, cells, flagged = (_grouped(n, lang) for n in (rows, cells, flagged))
    if lang == "id":
        return [
            f"{rows} baris ditolak dan {cells} isian dikosongkan (barisnya tetap dipakai); "
            f"{flagged} pegawai ditandai (NIP tidak sesuai dengan tanggal lahir atau jenis "
            "kelamin).",
            f"Daftar penolakan ditulis ke {out / 'rejects.csv'}",
        ]
    return [
        f"{rows} rows rejected and {cells} values set aside (their rows kept); {flagged} "
        "employees flagged (NIP disagrees with birth date or sex).",
        f"rejects written to {out / 'rejects.csv'}",
    ]


@pytest.mark.parametrize(
    ("lang_args", "locale", "expected"),
    [
        (["--lang", "id"], "C.UTF-8", "id"),
        (["--lang", "ID"], "en_US.UTF-8", "id"),
        ([], "id_ID.UTF-8", "id"),
        (["--lang", "En"], "id_ID.UTF-8", "en"),
        ([], "C.UTF-8", "en"),
    ],
    ids=["lang-id", "lang-ID", "locale-id", "lang-En-over-locale", "locale-C"],
)
def test_validate_speaks_the_chosen_language(
    lang_args, locale, expected, kupang_dataset, monkeypatch, capsys, tmp_path
):
    _locale(monkeypatch, locale)
    out = tmp_path / "validation"
    status = cli.main(["validate", str(DEFAULT_DATA_DIR), "--out", str(out), *lang_args])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[-2:] == _validate_lines(kupang_dataset, out, expected)
    # The data layer's table is printed in the command's language, above its own lines.
    assert captured.out.startswith(kupang_dataset.summary(expected))
    rejects = pd.read_csv(out / "rejects.csv")
    assert len(rejects) == len(kupang_dataset.rejects)
    rule = "kode_aturan" if expected == "id" else "rule"
    assert rejects[rule].tolist() == kupang_dataset.rejects["rule"].tolist()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_validate_stops_where_report_stops_in_the_same_words(
    lang, kupang_dataset, monkeypatch, capsys, tmp_path
):
    """The reject-share stop (the committed data's 34 rejects over a share of 0), whole in
    the command's language."""
    strict = Dataset.check_reject_share
    monkeypatch.setattr(Dataset, "check_reject_share", lambda self, *_: strict(self, 0.0))
    with pytest.raises(DataError) as stop:
        strict(kupang_dataset, 0.0)
    out = tmp_path / "validation"
    _locale(monkeypatch, "C.UTF-8")
    status = cli.main(["validate", str(DEFAULT_DATA_DIR), "--out", str(out), "--lang", lang])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == f"asn-eval validate: {stop.value.text(lang)}\n"
    assert captured.err.startswith(
        "asn-eval validate: Terlalu banyak baris ditolak untuk menyusun laporan dari sisanya: "
        if lang == "id"
        else "asn-eval validate: Too many rows were rejected to build a report on the rest: "
    )
    assert captured.out.splitlines()[-2:] == _validate_lines(kupang_dataset, out, lang)


def test_validate_names_the_rejects_written_before_a_stop_in_indonesian(
    monkeypatch, capsys, tmp_path
):
    rejects = pd.DataFrame({"table": ["employees"], "line": [7], "rule": ["bad_nip"]})

    def stop(*_args, **_kwargs):
        raise DataError("employees.csv: the column nip is missing.", rejects=rejects)

    monkeypatch.setattr("asn_eval.data.validate.load_dataset", stop)
    out = tmp_path / "validation"
    assert cli.main(["validate", str(tmp_path), "--out", str(out), "--lang", "id"]) == 2
    assert capsys.readouterr().err == (
        "asn-eval validate: employees.csv: the column nip is missing.\n"
        f"Penolakan sejauh ini ditulis ke {out / 'rejects.csv'}\n"
    )
    assert pd.read_csv(out / "rejects.csv").equals(rejects_table(rejects, "id"))


def test_validate_refuses_an_output_file_in_indonesian(monkeypatch, capsys, tmp_path):
    target = tmp_path / "rejects.xlsx"
    target.write_bytes(b"PK")
    _locale(monkeypatch, "id_ID.UTF-8")
    assert cli.main(["validate", str(DEFAULT_DATA_DIR), "--out", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"asn-eval validate: --out {target} adalah berkas, bukan folder; asn-eval tidak akan "
        "menggantinya. Tidak ada yang diubah. Sebutkan folder baru atau kosong dengan --out.\n"
    )
    assert target.read_bytes() == b"PK"


@pytest.mark.parametrize(
    ("lang_args", "words"),
    [
        ([], "Folder data {folder} tidak ada. Arahkan --data ke folder yang berisi tabel hasil "
             "ekspor (lihat data/README.md)."),
        (["--lang", "ID"], "Folder data {folder} tidak ada. Arahkan --data ke folder yang "
                           "berisi tabel hasil ekspor (lihat data/README.md)."),
        (["--lang", "EN"], "The data folder {folder} does not exist. Point --data at the "
                           "folder that holds the exported tables (see data/README.md)."),
    ],
    ids=["default-id-under-english-locale", "lang-ID", "lang-EN"],
)  # fmt: skip
def test_report_speaks_its_report_language_not_the_locale(
    lang_args, words, monkeypatch, capsys, tmp_path
):
    """A bare ``report`` builds an Indonesian report, so it speaks Indonesian even under an
    English locale; ``--lang`` in any case chooses both."""
    _locale(monkeypatch, "en_US.UTF-8")
    missing = tmp_path / "missing"
    assert cli.main(["report", "--data", str(missing), *lang_args]) == 2
    assert capsys.readouterr().err == f"asn-eval report: {words.format(folder=missing)}\n"


@pytest.mark.parametrize("command", ["report", "validate"])
def test_an_unknown_language_is_refused_with_the_choices(command, capsys):
    args = [command, str(DEFAULT_DATA_DIR)] if command == "validate" else [command]
    with pytest.raises(SystemExit) as refused:
        cli.main([*args, "--lang", "fr"])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"asn-eval {command}: error: argument --lang: invalid choice: 'fr' (choose from 'id', 'en')"
    )


def test_report_progress_names_chapters_as_the_report_does_in_report_order(
    kupang_dataset, tmp_path
):
    """Chapter 1 is made the slowest of those run side by side, so it ends after 2, 3 and 4:
    the end lines still come in report order, each named by its number and title. No
    --lang and an English locale: the messages are the report's Indonesian."""
    notebooks = write_chapters(tmp_path / "notebooks")
    slow = notebooks / "01_introduction.ipynb"
    nb = nbformat.read(str(slow), as_version=4)
    nb.cells.append(new_code_cell("import time\ntime.sleep(8)"))
    nbformat.write(nb, str(slow))
    out = tmp_path / "out"
    environ = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
    environ["LANG"] = "en_US.UTF-8"
    result = subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", "--notebooks", str(notebooks),
         "--year", "2024", "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, timeout=900, env=environ,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows, cells = kupang_dataset.set_aside_counts()
    shown = re.sub(r"dalam \d+ detik", "dalam N detik", result.stdout)
    assert shown.splitlines() == [
        f"Memeriksa data di {DEFAULT_DATA_DIR.resolve()} ...",
        "[1-4/5] 1. Pendahuluan, 2. Kebijakan, 3. Dampak, 4. Tantangan: dijalankan 2 sekaligus",
        "      1. Pendahuluan selesai dalam N detik",
        "      2. Kebijakan selesai dalam N detik",
        "      3. Dampak selesai dalam N detik",
        "      4. Tantangan selesai dalam N detik",
        "[5/5] 5. Kesimpulan: menjalankan 05_conclusion.ipynb",
        "      selesai dalam N detik",
        "Menyusun report.html dan report.pdf ...",
        f"{_grouped(rows, 'id')} baris ditolak dan {_grouped(cells, 'id')} isian dikosongkan "
        f"(barisnya tetap dipakai), masing-masing tercantum di {out / 'rejects.csv'}",
        f"Laporan selesai dalam N detik: {out / 'report.html'}",
    ]
    # Chapters 3 and 1 start together (the longest first, then report order); 3 ended
    # first, so lines printed as chapters end would have named 3 before 1.
    seconds = [int(s) for s in re.findall(r"selesai dalam (\d+) detik", result.stdout)[:4]]
    assert seconds[0] >= 8 > seconds[2]


# --- help: both languages, office options first, two examples each -------------------------
HELP_COMMANDS = [None, "report", "validate", "synth", "notebooks"]
OFFICE_OPTIONS = {
    "report": ["-h, --help", "--data DIR", "--year YYYY", "--out DIR", "--lang {id,en}"],
    "validate": ["-h, --help", "--out DIR", "--lang {id,en}"],
    "synth": ["-h, --help"],
    "notebooks": ["-h, --help"],
}
HEADINGS = {
    "en": {"usage": "usage: ", "office": "office options:", "researcher": "researcher options:",
           "examples": "examples:", "exit": "exit status:"},
    "id": {"usage": "penggunaan: ", "office": "opsi untuk kantor:",
           "researcher": "opsi untuk peneliti:", "examples": "contoh:", "exit": "status keluar:"},
}  # fmt: skip


def _help(argv: list[str], monkeypatch, capsys, locale: str = "C.UTF-8") -> str:
    _locale(monkeypatch, locale)
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as shown:
        cli.main(argv)
    assert shown.value.code == 0
    return capsys.readouterr().out


def _section(text: str, heading: str) -> list[str]:
    """The lines of one help section, up to the next blank line."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def _options(section: list[str]) -> list[str]:
    return [re.split(r"\s{2,}", line.strip())[0] for line in section if line.startswith("  -")]


@pytest.mark.parametrize("command", HELP_COMMANDS)
@pytest.mark.parametrize(
    ("how", "lang"),
    [
        (("C.UTF-8", []), "en"),
        (("id_ID.UTF-8", []), "id"),
        (("C.UTF-8", ["--lang", "ID"]), "id"),
        (("id_ID.UTF-8", ["--lang=en"]), "en"),
    ],
    ids=["locale-C", "locale-id", "lang-ID", "lang=en-over-locale"],
)
def test_help_is_in_the_chosen_language_with_two_working_examples(
    command, how, lang, monkeypatch, capsys
):
    locale, lang_args = how
    words = HEADINGS[lang]
    text = _help([*([command] if command else []), "--help", *lang_args], monkeypatch, capsys,
                 locale)  # fmt: skip
    prog = f"asn-eval {command}" if command else "asn-eval"
    assert text.startswith(words["usage"] + prog + " ")
    examples = [line.strip() for line in _section(text, words["examples"])]
    assert len(examples) == 2
    for example in examples:
        argv = example.split()
        assert argv[0] == "asn-eval" and (command is None or argv[1] == command)
        cli.build_parser("en").parse_args(argv[1:])  # each example is a valid command line
    assert words["exit"] in text.splitlines()
    other = "en" if lang == "id" else "id"
    assert f"{prog} --lang {other} --help" in " ".join(text.split())  # how to get the other


@pytest.mark.parametrize("command", ["report", "validate", "synth", "notebooks"])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_office_options_come_first_and_researcher_options_apart(command, lang, monkeypatch, capsys):
    text = _help([command, "--help", "--lang", lang], monkeypatch, capsys)
    words = HEADINGS[lang]
    lines = text.splitlines()
    assert lines.index(words["office"]) < lines.index(words["researcher"])
    assert _options(_section(text, words["office"])) == OFFICE_OPTIONS[command]
    researcher = _options(_section(text, words["researcher"]))
    parser = cli.build_parser(lang)
    sub = parser._subparsers._group_actions[0].choices[command]
    every = {opt for action in sub._actions for opt in action.option_strings}
    shown = {part.split()[0] for item in OFFICE_OPTIONS[command] + researcher
             for part in item.split(", ")}  # fmt: skip
    assert shown == every  # every option is in one of the two groups
    assert researcher  # each command has options the office does not need


def test_report_help_in_indonesian_reads_as_the_office_would(monkeypatch, capsys):
    text = _help(["report", "--help", "--lang", "id"], monkeypatch, capsys)
    office = " ".join(" ".join(_section(text, "opsi untuk kantor:")).split())
    assert office == (
        "-h, --help tampilkan bantuan ini lalu keluar "
        "--data DIR folder berisi tabel data (bawaan: dataset sintetis proyek) "
        "--year YYYY tahun laporan (bawaan: tahun terakhir dalam data) "
        "--out DIR folder keluaran (bawaan: reports/<tahun>-<bahasa>/) "
        "--lang {id,en} bahasa laporan: id = Bahasa Indonesia (bawaan), en = bahasa Inggris, "
        "huruf besar atau kecil (ID, En); pesan perintah mengikutinya"
    )
    assert _section(text, "contoh:") == [
        "  asn-eval report --data /data/bkpsdm-2025 --year 2025 --out reports/2025-id",
        "  asn-eval report --data /data/bkpsdm-2025 --lang en --out reports/2025-en",
    ]


def test_a_lang_before_the_command_counts_for_the_command(monkeypatch, capsys, tmp_path):
    _locale(monkeypatch, "C.UTF-8")
    missing = tmp_path / "missing"
    assert cli.main(["--lang", "EN", "report", "--data", str(missing)]) == 2
    assert capsys.readouterr().err.startswith(f"asn-eval report: The data folder {missing} ")
    assert cli.main(["--lang", "en", "report", "--lang", "id", "--data", str(missing)]) == 2
    assert capsys.readouterr().err.startswith(f"asn-eval report: Folder data {missing} ")


# --- argparse's own errors ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["report", "--lang", "id", "--year", "abc"],
         "asn-eval report: kesalahan: argumen --year: nilai tidak sah: 'abc'"),
        (["laporan", "--lang", "ID"],
         "asn-eval: kesalahan: argumen COMMAND: pilihan tidak dikenal: 'laporan' (pilih salah "
         "satu: 'report', 'validate', 'synth', 'notebooks')"),
        (["validate", "--lang", "id"],
         "asn-eval validate: kesalahan: argumen berikut wajib diisi: DIR"),
        (["report", "--lang", "id", "--max-reject-share", "2"],
         "asn-eval report: kesalahan: argumen --max-reject-share: perlu bagian antara 0 dan 1, "
         "tertulis '2'"),
        (["report", "--year", "abc", "--lang", "en"],
         "asn-eval report: error: argument --year: invalid int value: 'abc'"),
    ],
)  # fmt: skip
def test_argparse_errors_read_in_the_language_of_the_command_line(argv, said, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == said
    assert err.startswith("penggunaan: " if "id" in [a.lower() for a in argv] else "usage: ")
    import argparse

    assert argparse._("usage: ") == "usage: "  # argparse is left as it was


def test_argparse_entries_are_argparses_own_message_ids():
    """The English entries are argparse's gettext ids word for word: a Python whose argparse
    words a message otherwise shows here, not as an English line in an Indonesian run."""
    import argparse
    import inspect

    from asn_eval.report.narrative import text_group

    source = inspect.getsource(argparse)
    english, indonesian = text_group("cli.argparse", "en"), text_group("cli.argparse", "id")
    assert english.keys() == indonesian.keys()
    ours = {"share"}  # our own type check, worded through argparse's translation
    for key, msgid in english.items():
        quoted = (f"'{msgid}'", f'"{msgid}"', f"'{msgid}\\n'")
        assert key in ours or any(text in source for text in quoted), key
        # Positional placeholders all kept in order; a named one may be left out.
        pattern = r"%(\(\w+\))?[rsd]"
        found = [m.group(0) for m in re.finditer(pattern, indonesian[key])]
        wanted = [m.group(0) for m in re.finditer(pattern, msgid)]
        assert [p for p in found if "(" not in p] == [p for p in wanted if "(" not in p], key
        assert set(found) <= set(wanted), key
