"""Competency development: JP per employee and year against the 20 JP minimum (PP 17/2020)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.domain import regulations as reg
from asn_eval.indices._common import _fmt, _html_table, _numeric, _text_table

# Training types of the data contract; regulations.TRAINING_TYPES lumps seminar/workshop.
TRAINING_TYPES: tuple[str, ...] = ("kepemimpinan", "fungsional", "teknis", "seminar", "workshop")
_KNOWN_TRAINING_TYPES = frozenset(TRAINING_TYPES) | frozenset(reg.TRAINING_TYPES)


def _serving(employees: pd.DataFrame, year: int) -> pd.DataFrame:
    """Employees serving at some time in ``year`` (all, if service dates are absent)."""
    keep = pd.Series(True, index=employees.index)
    if "service_start" in employees:
        keep &= ~(employees["service_start"] > pd.Timestamp(year, 12, 31))
    if "service_end" in employees:
        keep &= ~(employees["service_end"] < pd.Timestamp(year, 1, 1))
    return employees.loc[keep]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True, eq=False)
class TrainingHours:
    """JP per employee in one year against the minimum (PP 11/2017 as amended, art. 203).

    Attributes
    ----------
    per_employee
        One row per employee: ``employee_id`` (and ``agency_code`` when known), ``jp``,
        ``courses``, ``meets_minimum``, ``jp_<route>`` and ``jp_<type>`` columns.
    year, minimum
        The year and the JP minimum used.
    population
        ``"employees"`` when untrained staff are counted (as zero), else
        ``"trained only"``.
    unmatched_courses
        Courses in the year of people not in ``employees`` (left out).
    """

    per_employee: pd.DataFrame
    year: int
    minimum: float
    population: str
    unmatched_courses: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Per-employee rows (for aggregation; reports show groups, not individuals)."""
        return self.per_employee.copy()

    @property
    def share_meeting_minimum(self) -> float:
        return float(self.per_employee["meets_minimum"].mean())

    def compliance(self, *, by: str | None = None) -> pd.DataFrame:
        """Employees, number and share meeting the minimum, mean and median JP."""
        frame = self.per_employee
        grouped = frame.groupby(by, observed=True) if by else frame.groupby(lambda _: "all")
        out = grouped.agg(
            employees=("jp", "size"),
            meeting_minimum=("meets_minimum", "sum"),
            mean_jp=("jp", "mean"),
            median_jp=("jp", "median"),
        )
        out["share_meeting_minimum"] = out["meeting_minimum"] / out["employees"]
        out.index.name = by or "group"
        return out.reset_index()

    def statement(self) -> str:
        share = self.share_meeting_minimum
        text = (
            f"In {self.year}, {share:.0%} of {len(self.per_employee)} employees reached the "
            f"minimum of {self.minimum:g} JP (mean {self.per_employee['jp'].mean():.1f} JP)."
        )
        if self.population != "employees":
            text += " Only employees with training are counted, so the share is overstated."
        return text

    def _header(self) -> list[tuple[str, str]]:
        return [
            ("Measure", "JP per employee (PP 17/2020; Peraturan LAN 5/2018)"),
            ("Year", str(self.year)),
            ("Minimum", f"{self.minimum:g} JP"),
            ("Population", self.population),
        ]

    def __str__(self) -> str:
        return _text_table(self._header(), self.compliance(), self.statement())

    def _repr_html_(self) -> str:
        return _html_table(self._header(), self.compliance(), self.statement())


def training_hours(
    training: pd.DataFrame,
    *,
    year: int,
    employees: pd.DataFrame | None = None,
    minimum: float = reg.JP_MINIMUM_PER_YEAR,
) -> TrainingHours:
    """JP per employee in ``year``, by route and type, against the 20 JP minimum.

    Parameters
    ----------
    training
        Canonical ``training`` table: ``employee_id``, ``date``, ``jp``, ``type``,
        ``route``. Courses are assigned to the calendar year of their date.
    year
        Calendar year.
    employees
        Canonical ``employees`` table. When given, every employee serving at some time in
        ``year`` appears, those without training with 0 JP (not missing); otherwise only
        employees with a course in ``year`` appear and compliance is overstated.
    minimum
        JP minimum per year (default :data:`asn_eval.domain.regulations.JP_MINIMUM_PER_YEAR`).

    Returns
    -------
    TrainingHours

    Examples
    --------
    >>> courses = pd.DataFrame({"employee_id": ["a", "a"], "jp": [12.0, 9.0],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-09-01"]),
    ...     "type": ["teknis", "seminar"], "route": ["klasikal", "e-learning"]})
    >>> training_hours(courses, year=2024).share_meeting_minimum
    1.0
    """
    needed = ["employee_id", "date", "jp", "type", "route"]
    lacking = [c for c in needed if c not in training.columns]
    if lacking:
        raise ValueError(
            f"training has no column {', '.join(lacking)}; expected {', '.join(needed)}"
        )
    dates = pd.to_datetime(training["date"])
    courses = training.loc[dates.dt.year == year].copy()
    jp = _numeric(courses["jp"], "jp", False, "JP must be a number")
    bad = jp.isna() | (jp < 0) | ~np.isfinite(jp.fillna(0))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(
            f"jp has {_fmt(courses['jp'][label])} in row {label}; JP must be a non-negative number"
        )
    courses["jp"] = jp
    for col, allowed in (("route", reg.TRAINING_ROUTES), ("type", sorted(_KNOWN_TRAINING_TYPES))):
        unknown = ~courses[col].isin(allowed)
        if unknown.any():
            label = unknown.idxmax()
            raise ValueError(
                f"{col} has unknown value {_fmt(courses[col][label])} in row {label}; "
                f"expected one of {', '.join(repr(a) for a in allowed)}"
            )
    unmatched = 0
    if employees is not None:
        staff = _serving(employees, year)
        ids = pd.Index(staff["employee_id"].drop_duplicates(), name="employee_id")
        known = courses["employee_id"].isin(ids)
        unmatched = int((~known).sum())
        courses = courses.loc[known]
        population = "employees"
    else:
        ids = pd.Index(sorted(courses["employee_id"].unique()), name="employee_id")
        population = "trained only"
    total = courses.groupby("employee_id")["jp"].sum().reindex(ids, fill_value=0.0)
    count = courses.groupby("employee_id").size().reindex(ids, fill_value=0)
    frame = pd.DataFrame({"jp": total.astype(float), "courses": count.astype(int)}, index=ids)
    frame["meets_minimum"] = meets_jp_minimum(frame["jp"], minimum=minimum)
    for col, categories in (("route", reg.TRAINING_ROUTES), ("type", TRAINING_TYPES)):
        extra = sorted(set(courses[col]) - set(categories))
        # Plain labels: a categorical column would add every category, used or not.
        plain = courses.assign(**{col: courses[col].astype(str)})
        wide = plain.pivot_table(
            index="employee_id", columns=col, values="jp", aggfunc="sum", fill_value=0.0
        ).reindex(index=ids, columns=[*categories, *extra], fill_value=0.0)
        wide = wide.fillna(0.0)
        wide.columns = [f"jp_{_slug(c)}" for c in wide.columns]
        frame = frame.join(wide)
    frame = frame.reset_index()
    if employees is not None and "agency_code" in employees:
        agency = staff.drop_duplicates("employee_id").set_index("employee_id")["agency_code"]
        frame.insert(1, "agency_code", frame["employee_id"].map(agency))
    return TrainingHours(
        per_employee=frame,
        year=year,
        minimum=float(minimum),
        population=population,
        unmatched_courses=unmatched,
    )


def meets_jp_minimum(jp: Any, *, minimum: float = reg.JP_MINIMUM_PER_YEAR) -> pd.Series:
    """Whether each yearly JP total reaches the minimum (20 JP, PP 11/2017 art. 203 as amended).

    The one definition of "meets the 20 JP minimum": at least ``minimum`` JP in the year.
    A missing total is not a pass (False); callers that need "unknown" keep the NaN mask.

    Examples
    --------
    >>> meets_jp_minimum([19.5, 20, 36]).tolist()
    [False, True, True]
    """
    values = pd.Series(jp) if not isinstance(jp, pd.Series) else jp
    return pd.to_numeric(values, errors="coerce") >= minimum


def jp_by_employee_year(training: pd.DataFrame | None) -> pd.DataFrame:
    """Total JP per employee and calendar year of the course date.

    Only employee-years with a course appear (add the untrained as 0 JP when joining).

    Returns
    -------
    DataFrame
        ``employee_id, year, jp``.
    """
    if training is None or training.empty:
        return pd.DataFrame({"employee_id": [], "year": [], "jp": []}).astype(
            {"year": int, "jp": float}
        )
    frame = training.assign(year=pd.to_datetime(training["date"]).dt.year.astype(int))
    return frame.groupby(["employee_id", "year"], as_index=False, observed=True)["jp"].sum()
