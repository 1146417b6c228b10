"""Writing tables that a spreadsheet opens as data, never as formulas.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is
run as a formula when the CSV or workbook is opened in Excel or LibreOffice: a cell copied
from an export such as ``=HYPERLINK("http://...")`` in a rejected row would become a live
link in ``rejects.csv``. Following the OWASP rule for CSV injection, such cells are written
with a leading single quote, which spreadsheets show as text. Numbers, including negative
ones written as text (``-3.5``, ``-3,5``, ``-1.234,5``), are left alone; so is a lone ``-``,
the usual mark of an empty cell.

Examples
--------
>>> import pandas as pd
>>> safe_cells(pd.DataFrame({"v": ["=1+2", "-3,5", "Dinas A", "@SUM(A1)"]}))["v"].tolist()
["'=1+2", '-3,5', 'Dinas A', "'@SUM(A1)"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?\d[\d.,]*(?:[eE][+-]?\d+)?%?$"


def safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` in which text cells that a spreadsheet would run are quoted.

    Only text columns are looked at (a column operation each); numeric, date and boolean
    columns are returned as they are.
    """
    out = frame.copy()
    for position, dtype in enumerate(out.dtypes):
        textual = pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
        if not (textual or isinstance(dtype, pd.CategoricalDtype)):
            continue
        column = out.iloc[:, position]
        text = column.astype("string")
        risky = text.str.contains(_FORMULA, regex=True).fillna(False).astype(bool)
        risky &= ~text.str.fullmatch(_NUMBER).fillna(False).astype(bool)
        risky &= text.ne("-").fillna(True).astype(bool)
        if risky.any():
            column = column.astype(object).copy()
            column[risky.to_numpy()] = "'" + text[risky]
            out.isetitem(position, column)
    return out


def write_csv_safely(frame: pd.DataFrame, path: str | Path, **to_csv: Any) -> Path:
    """Write ``frame`` as CSV (no index unless asked) with formula-like text cells quoted.

    Keyword arguments go to :meth:`pandas.DataFrame.to_csv`. Returns the path written.
    """
    path = Path(path)
    to_csv.setdefault("index", False)
    safe_cells(frame).to_csv(path, **to_csv)
    return path
