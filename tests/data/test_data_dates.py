"""The order of day and month in a date column is read from the column's own evidence.

A US-locale Excel writes 8 July 2021 as 7/8/2021; read day first it becomes 7 August. Each
test rewrites the dates of a copy of the committed dataset the way an office's export
writes them, and checks that the dates are read right or that the load stops with a
message naming file, column, example lines and the fix; never that a date is swapped.
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from asn_eval.cli.data import main as data_main
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError, load_dataset
from asn_eval.data.io import MONTHS_ID, date_order_evidence, parse_date, parse_month

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
KEY = "test-key"
FIX = (
    "Expected dates day first (31/12/2024) or as ISO dates (2024-12-31). In Excel, select the "
    "column, set its format to Custom 'dd/mm/yyyy' (or 'yyyy-mm-dd') and save the file again, "
    "or convert the column to one of those forms"
)


@pytest.fixture(scope="module")
def committed():
    return load_dataset(DEFAULT, key=KEY)


@pytest.fixture
def data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DEFAULT, target)
    return target


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _rewrite_dates(path: Path, column: str, write, rows=slice(None), *, invalid=None) -> None:
    """Rewrite the day-first dates of ``column`` (``rows`` of them) with ``write(Timestamp)``.

    Cells that are not dates (the dirty 30/02/2023) are rewritten by ``invalid(text)``, or
    kept as they are.
    """
    frame = _read(path)
    dates = pd.to_datetime(frame[column], format="%d/%m/%Y", errors="coerce")
    chosen = frame.index[rows]
    real = chosen[dates[chosen].notna().to_numpy()]
    frame.loc[real, column] = [write(d) for d in dates[real]]
    if invalid is not None:
        broken = chosen[(dates[chosen].isna() & (frame.loc[chosen, column] != "")).to_numpy()]
        frame.loc[broken, column] = [invalid(text) for text in frame.loc[broken, column]]
    frame.to_csv(path, sep=";", index=False)


def _swap(text: str) -> str:
    """An impossible day-first date written month first: 30/02/2023 -> 02/30/2023."""
    day, month, year = text.split("/")
    return f"{month}/{day}/{year}"


def _us(day: pd.Timestamp) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _lines_of(cells: pd.Series, mask: pd.Series) -> str:
    """The first three cells of ``mask`` as the message names them (file line = row + 2)."""
    return ", ".join(f"line {i + 2}: {cells[i]}" for i in cells.index[mask][:3])


def _error(directory: Path, **kw) -> DataError:
    with pytest.raises(DataError) as info:
        load_dataset(directory, key=KEY, **kw)
    return info.value


def test_parsers_read_numeric_dates_in_the_order_they_are_given():
    cells = pd.Series(["7/8/2021", "08/07/2021", "2021-07-08", "8 Juli 2021", "13/7/2021", ""])
    day_first, bad = parse_date(cells)
    month_first, bad_mdy = parse_date(cells, order="mdy")
    july8, aug7 = pd.Timestamp(2021, 7, 8), pd.Timestamp(2021, 8, 7)
    assert day_first.tolist()[:4] == [aug7, july8, july8, july8]
    assert month_first.tolist()[:4] == [july8, aug7, july8, july8]
    assert bad.tolist() == [False] * 6  # 13/7/2021 is 13 July day first
    assert bad_mdy.tolist() == [False] * 4 + [True, False]  # no 13th month
    assert parse_month(pd.Series(["03/2024"]), order="mdy")[0].iloc[0] == pd.Timestamp(2024, 3, 1)
    proof_dmy, proof_mdy = date_order_evidence(cells)
    assert proof_dmy.tolist() == [False, False, False, False, True, False]
    assert proof_mdy.tolist() == [False] * 6


def test_us_locale_training_dates_stop_naming_column_lines_and_fix(data, tmp_path, capsys):
    _rewrite_dates(data / "training.csv", "date", _us, invalid=_swap)
    lines = _read(data / "training.csv")["date"]
    assert lines.iloc[0] == "1/18/2019" and lines.iloc[1] == "7/8/2021"  # file lines 2 and 3
    month_first = int((pd.to_numeric(lines.str.split("/").str[1], errors="coerce") > 12).sum())
    expected = (
        "File training.csv, column 'date': the dates are written month first, as a US-locale "
        f"Excel writes them: {month_first:,} of 33,321 dates have a second number above 12, "
        "which can only be the day (e.g. line 2: 1/18/2019, line 4: 8/15/2021, line 6: "
        "2/25/2023), and none has a first number above 12. Read day first, the other dates "
        "would have day and month swapped (7/8/2021 would become 7 August instead of 8 July), "
        f"so none of the column is accepted. {FIX}; or, if the column is month first "
        "throughout, add 'date_order: mdy' for this table in the mapping YAML."
    )
    assert str(_error(data)) == expected
    # What the clerk sees: exit 2 and the paragraph, not a summary with swapped dates.
    out = tmp_path / "validation"
    assert data_main(["validate", str(data), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"asn-eval validate: {expected}\n")
    assert "accepted" not in captured.out
    assert not (out / "quality.csv").exists()


def test_us_locale_dates_read_on_purpose_with_date_order_mdy(data, committed):
    _rewrite_dates(data / "training.csv", "date", _us, invalid=_swap)
    mapping = {"tables": {"training": {"date_order": "mdy"}}}
    dataset = load_dataset(data, key=KEY, mapping=mapping)
    # Every date is the committed one: 7/8/2021 became 8 July, never 7 August.
    assert_frame_equal(dataset.tables["training"], committed.tables["training"])
    assert_frame_equal(dataset.quality, committed.quality)
    # Only the training table is month first: the other tables still read day first.
    assert_frame_equal(dataset.tables["employees"], committed.tables["employees"])


def test_date_order_per_column_in_the_mapping(data, committed):
    _rewrite_dates(data / "employees.csv", "birth_date", _us, invalid=_swap)
    expected_start = str(_error(data)).split(":")[0]
    assert expected_start == "File employees.csv, column 'birth_date'"
    mapping = {"tables": {"employees": {"date_order": {"birth_date": "mdy"}}}}
    dataset = load_dataset(data, key=KEY, mapping=mapping)
    assert_frame_equal(dataset.tables["employees"], committed.tables["employees"])


def test_a_column_mixing_both_orders_stops_naming_the_month_first_lines(data):
    # Every 50th line written month first and zero-padded, as from a second source.
    _rewrite_dates(
        data / "training.csv", "date", lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
        rows=slice(None, None, 50),
    )  # fmt: skip
    lines = _read(data / "training.csv")["date"]
    first, second = (pd.to_numeric(lines.str.split("/").str[i], errors="coerce") for i in (0, 1))
    day_first, month_first = int((first > 12).sum()), int((second > 12).sum())
    assert str(_error(data)) == (
        f"File training.csv, column 'date' mixes two date orders: {day_first:,} dates can only "
        "be day first (their first number is above 12, e.g. line 4: 15/08/2021) and "
        f"{month_first:,} only month first (their second number is above 12, e.g. line 2: "
        "01/18/2019, line 102: 08/29/2020, line 152: 08/18/2020). A date such as 7/8/2021 "
        "could then be 7 August or 8 July, so none of the column is accepted. "
        f"{FIX}; or correct the month-first lines and run again."
    )
    # Declaring the column month first does not make its day-first dates acceptable.
    message = str(_error(data, mapping={"tables": {"training": {"date_order": "mdy"}}}))
    assert message == (
        "File training.csv, column 'date': the mapping declares the dates month first "
        f"('date_order: mdy'), but {day_first:,} of 33,321 dates can only be read day first "
        f"(their first number is above 12, e.g. {_lines_of(lines, first > 12)}), while "
        f"{month_first:,} can only be month first (e.g. line 2: "
        "01/18/2019): the column mixes two orders. A date such as 7/8/2021 cannot be read "
        "safely, so none of the column is accepted. Remove 'date_order: mdy' from the mapping "
        "if the column is day first, or correct the day-first lines and run again."
    )


def test_iso_export_reads_the_same_dates(data, committed):
    _rewrite_dates(data / "training.csv", "date", lambda d: d.strftime("%Y-%m-%d"))
    _rewrite_dates(data / "employees.csv", "birth_date", lambda d: d.strftime("%Y-%m-%d"))
    dataset = load_dataset(data, key=KEY)
    for table in ("training", "employees"):
        assert_frame_equal(dataset.tables[table], committed.tables[table])


def test_indonesian_export_with_month_names_and_day_first_reads_the_same(data, committed):
    # An Indonesian export mixes '31 Desember 2024' and '31/12/2024': one order, no evidence
    # against it, so both forms read as they are written.
    def long(day: pd.Timestamp) -> str:
        return f"{day.day} {MONTHS_ID[day.month - 1].capitalize()} {day.year}"

    # Chosen by the date, not the line, so that the dirty exact repeats stay repeats.
    _rewrite_dates(
        data / "training.csv", "date", lambda d: long(d) if d.day % 2 == 0 else f"{d:%d/%m/%Y}"
    )
    dates = _read(data / "training.csv")["date"]
    assert dates.iloc[0] == "18 Januari 2019" and dates.iloc[1] == "8 Juli 2021"
    assert dates.str.contains("/").mean() > 0.4
    dataset = load_dataset(data, key=KEY)
    assert_frame_equal(dataset.tables["training"], committed.tables["training"])
    assert_series_equal(dataset.tables["training"]["date"], committed.tables["training"]["date"])


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("ymd", "'date_order' holds the text 'ymd'."),
        (
            {"tanggal": "mdy"},
            "'date_order' names 'tanggal', which is not a date column of the 'training' table.",
        ),  # fmt: skip
    ],
)
def test_date_order_of_the_wrong_shape(data, entry, expected):
    message = str(_error(data, mapping={"tables": {"training": {"date_order": entry}}}))
    assert message == (
        f"The mapping, table 'training': {expected} Expected 'date_order: dmy' (day first, "
        "31/12/2024) or 'date_order: mdy' (month first, 12/31/2024) for the whole table, or one "
        "entry per date column (date), e.g. 'date_order: {date: mdy}'."
    )
