"""Indeks Profesionalitas ASN (Peraturan BKN 8/2019): points, index, band, inputs from tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.domain import regulations as reg
from asn_eval.indices._common import _as_series, _fmt, _html_table, _numeric, _row, _text_table
from asn_eval.indices.skp import skp_band
from asn_eval.indices.training import _serving, meets_jp_minimum

# Course types that count as seminar/workshop: the data contract's single "seminar/workshop"
# type (regulations.TRAINING_TYPES) and the two separate words some exports use.
SEMINAR_TYPES: tuple[str, ...] = ("seminar/workshop", "seminar", "workshop")
DIMENSIONS: tuple[str, ...] = tuple(reg.IP_ASN_WEIGHTS)
IP_ASN_LEVEL_DTYPE = pd.CategoricalDtype(
    [label for _, label in reversed(reg.IP_ASN_BANDS)], ordered=True
)


_IP_ASN_INPUTS: tuple[str, ...] = (
    "education",
    "leadership_training",
    "functional_training",
    "training_jp",
    "seminar",
    "performance",
    "discipline",
)


def ip_asn_points() -> pd.DataFrame:
    """Sub-indicator points of the IP ASN (Peraturan BKN 8/2019) as one editable table.

    Columns ``dimension``, ``indicator``, ``value``, ``points``, ``confirmed``. Rows with
    ``confirmed == False`` come from one secondary source or memory (shared/DOMAIN.md):
    correct them in a copy and pass it as ``ip_asn(..., points=table)``, or once for
    everyone in :data:`asn_eval.domain.regulations.IP_ASN_POINTS`.
    """
    return pd.DataFrame(
        list(reg.IP_ASN_POINTS), columns=["dimension", "indicator", "value", "points", "confirmed"]
    )


def _check_points(points: pd.DataFrame) -> pd.DataFrame:
    needed = {"dimension", "indicator", "value", "points"}
    if not needed <= set(points.columns):
        lacking = ", ".join(sorted(needed - set(points.columns)))
        raise ValueError(f"points has no column {lacking}; start from ip_asn_points()")
    # Kompetensi items add up and are capped; the other dimensions take one row each.
    for dim in ("kualifikasi", "kinerja", "disiplin"):
        weight = reg.IP_ASN_WEIGHTS[dim]
        most = points.loc[points["dimension"] == dim, "points"].max()
        if most > weight:
            raise ValueError(
                f"points gives {_fmt(most)} in dimension {dim}, above its weight {weight} "
                "(Peraturan BKN 8/2019)"
            )
    return points


def _lookup_points(
    values: pd.Series, points: pd.DataFrame, indicator: str, column: str
) -> pd.Series:
    table = points.loc[points["indicator"] == indicator]
    mapping = dict(zip(table["value"].astype(str), table["points"].astype(float), strict=True))
    text = values.astype(object).where(values.notna(), None)
    text = text.map(lambda v: None if v is None else str(v).strip())
    bad = text.notna() & ~text.isin(list(mapping))
    if bad.any():
        label = bad.idxmax()
        allowed = ", ".join(repr(v) for v in mapping)
        raise ValueError(
            f"{column} has unknown value {_fmt(values[label])} in row {label}; "
            f"expected one of {allowed}"
        )
    return text.map(mapping).astype(float)


def _flag(values: pd.Series, column: str) -> pd.Series:
    """True/False (or 1/0) flags; NaN stays missing."""
    ok = values.isna() | values.isin([True, False, 0, 1])
    if not ok.all():
        label = (~ok).idxmax()
        raise ValueError(
            f"{column} has {_fmt(values[label])} in row {label}; expected True or False"
        )
    return values.map(lambda v: np.nan if pd.isna(v) else float(bool(v)))


@dataclass(frozen=True, eq=False)
class IpAsnResult:
    """IP ASN per employee: dimension scores, total and band.

    Attributes
    ----------
    scores
        The input's index with ``kualifikasi``, ``kompetensi``, ``kinerja``, ``disiplin``,
        ``ip_asn`` and ``level`` (ordered :data:`IP_ASN_LEVEL_DTYPE`), plus any passed-
        through identifier columns.
    points
        The points table used.
    """

    scores: pd.DataFrame
    points: pd.DataFrame

    @property
    def unconfirmed_points(self) -> bool:
        """Whether any points used come from an unconfirmed row."""
        if "confirmed" not in self.points.columns:
            return False
        return not bool(self.points["confirmed"].all())

    def to_frame(self) -> pd.DataFrame:
        """Per-employee scores (for aggregation; reports show groups, not individuals)."""
        return self.scores.copy()

    def distribution(self, *, by: str | None = None) -> pd.DataFrame:
        """Employees and shares per band (and mean index), optionally by a column."""
        frame = self.scores.dropna(subset=["ip_asn"])
        keys = [by] if by else []
        counts = (
            frame.groupby([*keys, "level"], observed=False).size().rename("employees").reset_index()
        )
        totals = (
            counts.groupby(keys)["employees"].transform("sum")
            if keys
            else counts["employees"].sum()
        )
        counts["share"] = counts["employees"] / totals
        return counts

    def means(self, *, by: str | None = None) -> pd.DataFrame:
        """Mean score of each dimension and of the index, per group of ``by`` (or overall).

        Only employees with complete inputs count. Columns: ``by`` (when given),
        ``employees``, ``kualifikasi``, ``kompetensi``, ``kinerja``, ``disiplin``,
        ``ip_asn`` and ``level`` (the band of the mean index).
        """
        frame = self.scores.dropna(subset=["ip_asn"])
        columns = [*DIMENSIONS, "ip_asn"]
        if by:
            grouped = frame.groupby(by, observed=True)
            out = grouped[columns].mean()
            out.insert(0, "employees", grouped.size())
            out = out.reset_index()
        else:
            out = frame[columns].mean().to_frame().T
            out.insert(0, "employees", len(frame))
        out["level"] = ip_asn_level(out["ip_asn"]).to_numpy()
        return out

    def statement(self) -> str:
        valid = self.scores["ip_asn"].dropna()
        if valid.empty:
            return "No employee has complete IP ASN inputs."
        mean = valid.mean()
        level = ip_asn_level(float(mean))
        caveat = " Some sub-indicator points are unconfirmed." if self.unconfirmed_points else ""
        missing = len(self.scores) - len(valid)
        missing_text = f" ({missing} without complete inputs)" if missing else ""
        return (
            f"Mean IP ASN is {mean:.1f} ({level}) over {len(valid)} employees"
            f"{missing_text}.{caveat}"
        )

    def _header(self) -> list[tuple[str, str]]:
        weights = ", ".join(f"{k} {v}" for k, v in reg.IP_ASN_WEIGHTS.items())
        return [("Measure", "IP ASN (Peraturan BKN 8/2019)"), ("Weights", weights)]

    def __str__(self) -> str:
        return _text_table(self._header(), self.distribution(), self.statement())

    def _repr_html_(self) -> str:
        return _html_table(self._header(), self.distribution(), self.statement())


def ip_asn_level(score: Any) -> str | float | pd.Series:
    """IP ASN band of a total score (Peraturan BKN 8/2019).

    91-100 Sangat Tinggi, 81-90 Tinggi, 71-80 Sedang, 61-70 Rendah, 60 and below Sangat
    Rendah (:data:`asn_eval.domain.regulations.IP_ASN_BANDS`); a total between printed bands
    (e.g. 90.5) belongs to the lower band.

    Examples
    --------
    >>> ip_asn_level(90), ip_asn_level(91)
    ('Tinggi', 'Sangat Tinggi')
    """
    series, scalar = _as_series(score, "ip_asn")
    what = "IP ASN totals must be numbers from 0 to 100"
    values = _numeric(series, "ip_asn", scalar, what)
    bad = values.notna() & ((values < 0) | (values > 100))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(f"ip_asn has {_fmt(series[label])}{_row(label, scalar)}; {what}")
    edges = np.array([low for low, _ in reversed(reg.IP_ASN_BANDS)])
    labels = np.array([lab for _, lab in reversed(reg.IP_ASN_BANDS)], dtype=object)
    position = np.searchsorted(edges, values.fillna(0).to_numpy(), side="right") - 1
    out = pd.Series(
        np.where(values.notna(), labels[np.clip(position, 0, None)], None),
        index=series.index,
        dtype=IP_ASN_LEVEL_DTYPE,
        name="level",
    )
    if scalar:
        level = out.iloc[0]
        return float("nan") if pd.isna(level) else str(level)
    return out


def ip_asn(
    data: pd.DataFrame,
    *,
    points: pd.DataFrame | None = None,
    keep: list[str] | None = None,
) -> IpAsnResult:
    """Indeks Profesionalitas ASN per employee (Peraturan BKN 8/2019).

    IP ASN = kualifikasi (max 25) + kompetensi (max 40) + kinerja (max 30) + disiplin
    (max 5), each from the points table, with the bands of
    :data:`asn_eval.domain.regulations.IP_ASN_BANDS` (91+ Sangat Tinggi, 81-90 Tinggi, 71-80
    Sedang, 61-70 Rendah, 60 and below Sangat Rendah; a total between printed bands
    belongs to the lower one).

    Parameters
    ----------
    data
        One row per employee with columns ``education`` (SD..S3), ``leadership_training``,
        ``functional_training`` (bool: has the training for the position),
        ``training_jp`` (JP in the year; 20 JP or more earns the training_20jp points),
        ``seminar`` (bool: seminar/workshop in the last two years), ``performance`` (a
        PP 46/2011 or PermenPANRB 6/2022 predicate) and ``discipline`` (``"none"``,
        ``"ringan"``, ``"sedang"``, ``"berat"``). :func:`ip_asn_inputs` builds it from the
        canonical tables. A missing input gives a missing index for that employee.
    points
        Points table like :func:`ip_asn_points` (the default); pass a corrected copy to
        replace unconfirmed figures.
    keep
        Columns of ``data`` to carry into the result (e.g. ``["agency_code"]``).

    Returns
    -------
    IpAsnResult

    Examples
    --------
    >>> row = pd.DataFrame({"education": ["S2"], "leadership_training": [True],
    ...     "functional_training": [False], "training_jp": [24.0], "seminar": [True],
    ...     "performance": ["Baik"], "discipline": ["none"]})
    >>> float(ip_asn(row).scores["ip_asn"].iloc[0])
    90.0
    """
    missing = [c for c in _IP_ASN_INPUTS if c not in data.columns]
    if missing:
        raise ValueError(
            f"data has no column {', '.join(missing)}; ip_asn needs {', '.join(_IP_ASN_INPUTS)} "
            "(ip_asn_inputs() builds them from the canonical tables)"
        )
    table = _check_points(ip_asn_points() if points is None else points)
    out = pd.DataFrame(index=data.index)
    for col in keep or []:
        out[col] = data[col]
    out["kualifikasi"] = _lookup_points(data["education"], table, "education", "education")
    jp = _numeric(data["training_jp"], "training_jp", False, "JP must be a number")
    if (jp < 0).any():
        label = (jp < 0).idxmax()
        raise ValueError(
            f"training_jp has {_fmt(data['training_jp'][label])} in row {label}; "
            "JP cannot be negative"
        )
    flags = {
        "leadership_training": _flag(data["leadership_training"], "leadership_training"),
        "functional_training": _flag(data["functional_training"], "functional_training"),
        "training_20jp": meets_jp_minimum(jp).astype(float).where(jp.notna()),
        "seminar": _flag(data["seminar"], "seminar"),
    }
    kompetensi = pd.Series(0.0, index=data.index)
    for indicator, flag in flags.items():
        award = table.loc[
            (table["indicator"] == indicator) & (table["value"].astype(str) == "yes"), "points"
        ]
        kompetensi = kompetensi + flag * (float(award.iloc[0]) if len(award) else 0.0)
    out["kompetensi"] = kompetensi.clip(upper=reg.IP_ASN_WEIGHTS["kompetensi"])
    out["kinerja"] = _lookup_points(data["performance"], table, "performance", "performance")
    out["disiplin"] = _lookup_points(data["discipline"], table, "discipline", "discipline")
    out["ip_asn"] = out[["kualifikasi", "kompetensi", "kinerja", "disiplin"]].sum(
        axis=1, min_count=4
    )
    out["level"] = ip_asn_level(out["ip_asn"])
    return IpAsnResult(scores=out, points=table)


def ip_asn_inputs(
    employees: pd.DataFrame,
    performance: pd.DataFrame,
    training: pd.DataFrame,
    *,
    year: int,
) -> pd.DataFrame:
    """Build :func:`ip_asn` inputs for one year from the canonical tables.

    Choices (documented because the regulation's form wording is not in the data):
    leadership and functional training count if the employee ever had a course of type
    ``kepemimpinan`` / ``fungsional`` up to the end of ``year``; ``training_jp`` is all JP
    in ``year`` (the 20 JP minimum accumulates across courses); ``seminar`` is any
    seminar or workshop in ``year`` or the year before; ``performance`` is the SKP
    predicate of ``year``, else the PP 46/2011 band of its ``skp_score``; ``discipline``
    is the sanction level of ``year``. Employees serving at some time in ``year`` only.

    Returns
    -------
    DataFrame
        Indexed by ``employee_id`` with ``agency_code`` and the :func:`ip_asn` columns.
    """
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    staff = _serving(employees, year)
    ids = staff["employee_id"]
    courses = training.loc[training["employee_id"].isin(ids)]
    upto = courses.loc[courses["date"] <= end]
    # Employees with a course of each kind up to the year's end (one set per kind, not one
    # set of kinds per employee).
    kinds = upto["type"].astype(object)
    leaders = pd.Index(upto.loc[kinds == "kepemimpinan", "employee_id"].unique())
    functional = pd.Index(upto.loc[kinds == "fungsional", "employee_id"].unique())
    in_year = courses.loc[courses["date"].between(start, end)]
    recent = courses.loc[courses["date"].between(pd.Timestamp(year - 1, 1, 1), end)]
    seminar_ids = set(recent.loc[recent["type"].isin(SEMINAR_TYPES), "employee_id"])
    perf = performance.loc[performance["year"] == year].drop_duplicates("employee_id")
    perf = perf.set_index("employee_id")
    predicate = perf["skp_predicate"].astype(object) if "skp_predicate" in perf else None
    if "skp_score" in perf:
        fallback = skp_band(perf["skp_score"]).astype(object)
        predicate = fallback if predicate is None else predicate.where(predicate.notna(), fallback)
    frame = pd.DataFrame(index=pd.Index(ids, name="employee_id"))
    frame["agency_code"] = staff.set_index("employee_id")["agency_code"]
    if "agency_code" in perf:
        # The agency of that year (transfers) wins over the current one.
        frame["agency_code"] = perf["agency_code"].reindex(frame.index).fillna(frame["agency_code"])
    frame["education"] = staff.set_index("employee_id")["education"].astype(object)
    frame["leadership_training"] = frame.index.isin(leaders)
    frame["functional_training"] = frame.index.isin(functional)
    frame["training_jp"] = (
        in_year.groupby("employee_id")["jp"].sum().reindex(frame.index).fillna(0.0)
    )
    frame["seminar"] = frame.index.isin(list(seminar_ids))
    frame["performance"] = (
        predicate.reindex(frame.index) if predicate is not None else pd.Series(np.nan, frame.index)
    )
    frame["discipline"] = perf["sanction_level"].astype(object).reindex(frame.index)
    return frame
