"""Digital adoption curves: time from an agency's digitalisation to each employee's first use.

The challenges chapter asks whether some staff struggle with digital administration
(resistance to change, need for mentoring). Time to first use of the digital system is a
survival outcome: employees who have not used it yet by the data date, or who left, are
censored, so a plain share or mean would be biased. Kaplan-Meier curves (Kaplan and Meier,
1958) by group, median times and the log-rank test (Mantel, 1966) answer it; lifelines does
the computing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from asn_eval.domain.regulations import MIN_CELL_SIZE
from asn_eval.domain.subgroups import age_band_at as age_band
from asn_eval.estimators.results import Summary

__all__ = [
    "AdoptionCurves",
    "adoption_curves",
    "adoption_curves_from_counts",
    "age_band",
    "kaplan_meier",
]

DAYS_PER_MONTH = 365.25 / 12
ALL = "all"


@dataclass(frozen=True)
class AdoptionCurves:
    """Kaplan-Meier curves of time to first use, by group.

    Attributes
    ----------
    curves
        Tidy curve: ``group``, ``months``, ``share_using`` (1 - survival), ``ci_low``,
        ``ci_high`` (pointwise, Greenwood with log(-log) transform as lifelines), ``at_risk``.
    medians
        By group: ``employees``, ``adopted`` (events), ``median_months`` and its interval
        (``inf`` when half the group has not started using the system).
    logrank_stat, logrank_df, logrank_pvalue
        Log-rank test that the groups share one curve (NaN with a single group).
    durations
        One row per employee (pseudonymised ``employee_id``, ``group``, ``months``,
        ``adopted``): for further analysis, never for publication.
    """

    curves: pd.DataFrame
    medians: pd.DataFrame
    by: str | None
    logrank_stat: float = np.nan
    logrank_df: int = 0
    logrank_pvalue: float = np.nan
    level: float = 0.95
    durations: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    info: dict[str, Any] = field(default_factory=dict)
    method: str = "Kaplan-Meier"
    outcome: str = "months to first use of the digital system"

    def to_frame(self) -> pd.DataFrame:
        """Median months to first use by group, in the project's tidy columns."""
        return pd.DataFrame(
            {
                "group": self.medians.index,
                "n": self.medians["employees"].to_numpy(),
                "estimate": self.medians["median_months"].to_numpy(),
                "std_error": np.nan,
                "ci_low": self.medians["ci_low"].to_numpy(),
                "ci_high": self.medians["ci_high"].to_numpy(),
            }
        ).rename(columns={"group": self.by or "group"})

    def statement(self) -> str:
        """One sentence on the median time to first use and the difference between groups."""

        def months(x: float) -> str:
            return "not reached" if not np.isfinite(x) else f"{x:.3g} months"

        med = self.medians["median_months"]
        if len(med) == 1:
            return (
                f"Half of the employees first used the digital system within "
                f"{months(med.iloc[0])} of their agency's start (Kaplan-Meier median)."
            )
        fast, slow = med.idxmin(), med.idxmax()
        verdict = "differ detectably" if self.logrank_pvalue < 1 - self.level else "do not differ"
        return (
            f"By {self.by}, the median time to first use of the digital system ranges from "
            f"{months(med[fast])} ({fast}) to {months(med[slow])} ({slow}); the curves {verdict} "
            f"(log-rank chi2({self.logrank_df}) = {self.logrank_stat:.3g}, "
            f"p = {self.logrank_pvalue:.3g})."
        )

    def summary(self) -> Summary:
        return Summary(self)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())


def kaplan_meier(
    durations,
    events,
    groups=None,
    *,
    counts=None,
    by: str | None = None,
    level: float = 0.95,
    min_group_size: int = MIN_CELL_SIZE,
) -> AdoptionCurves:
    """Kaplan-Meier curves, medians and the log-rank test for durations by group.

    Each row is one employee, or with ``counts`` a group of employees who share the
    duration, the event status and the group: the grouped form. The Kaplan-Meier estimate,
    its Greenwood band and the log-rank statistic depend on the data only through the
    numbers at risk, of events and of censorings at each distinct duration of each group, so
    the two forms give the same curves, medians and test (lifelines sums the ``weights`` it
    is given, here whole numbers, exactly; ``tests/estimators/test_adoption_counts.py``).

    Parameters
    ----------
    durations
        Time to the event or to censoring (any unit; months in :func:`adoption_curves`).
    events
        True where the event was observed, False where the duration is censored.
    groups
        Group label per duration; ``None`` for one group.
    counts
        Employees per row (whole numbers, 0 or more); ``None`` for one employee per row.
    by
        Name of the grouping, for labels.
    level
        Confidence level of the pointwise bands and the median's interval.
    min_group_size
        Groups with fewer members are left out with a warning: a curve over a handful of
        people shows individuals (UU 27/2022; ``regulations.MIN_CELL_SIZE``).

    Returns
    -------
    AdoptionCurves
    """
    frame = pd.DataFrame(
        {
            "group": ALL if groups is None else np.asarray(groups, dtype=object),
            "months": np.asarray(durations, dtype=float),
            "adopted": np.asarray(events, dtype=bool),
        }
    )
    if counts is not None:
        n = np.asarray(counts, dtype=float)
        if n.shape != (len(frame),) or np.isnan(n).any() or (n < 0).any() or (n % 1).any():
            raise ValueError(
                "kaplan_meier: counts must give a whole number of employees (0 or more) for "
                "each duration."
            )
        frame["n"] = n.astype(np.int64)
        frame = frame.loc[frame["n"] > 0]
    else:
        frame["n"] = 1
    if (frame["months"] < 0).any() or frame["months"].isna().any():
        raise ValueError("kaplan_meier: durations must be non-negative numbers.")
    if frame["group"].isna().any():
        raise ValueError(
            f"kaplan_meier: {int(frame['group'].isna().sum())} duration(s) have no group; "
            f"drop them or give them a group first."
        )
    sizes = frame.groupby("group", sort=False)["n"].sum()
    small = sizes[sizes < min_group_size]
    if len(small):
        warnings.warn(
            f"Left out {len(small)} group(s) with fewer than {min_group_size} employees "
            f"({', '.join(map(str, small.index))}) so that no individual can be recognised.",
            stacklevel=2,
        )
        frame = frame.loc[~frame["group"].isin(small.index)]
    if frame.empty:
        raise ValueError("kaplan_meier: no group is large enough to show.")
    # Employees per row, as lifelines' weights (None without counts: lifelines' own one each).
    weighted = counts is not None

    def weight(rows: pd.DataFrame):
        return rows["n"].to_numpy() if weighted else None

    def n_employees(rows: pd.DataFrame) -> int:
        return int(rows["n"].sum())

    def n_adopted(rows: pd.DataFrame) -> int:
        return int(rows.loc[rows["adopted"], "n"].sum())

    present = set(frame["group"])
    labels = (
        [g for g in groups.cat.categories if g in present]
        if isinstance(getattr(groups, "dtype", None), pd.CategoricalDtype)
        else sorted(present, key=str)
    )
    alpha = 1 - level
    curve_parts, median_rows = [], []
    for label in labels:
        sub = frame.loc[frame["group"] == label]
        kmf = KaplanMeierFitter(alpha=alpha).fit(
            sub["months"], sub["adopted"], label="km", weights=weight(sub)
        )
        survival = kmf.survival_function_["km"]
        band = kmf.confidence_interval_
        curve_parts.append(
            pd.DataFrame(
                {
                    "group": label,
                    "months": survival.index.to_numpy(),
                    "share_using": 1 - survival.to_numpy(),
                    "ci_low": 1 - band.iloc[:, 1].to_numpy(),
                    "ci_high": 1 - band.iloc[:, 0].to_numpy(),
                    "at_risk": kmf.event_table["at_risk"].to_numpy(),
                }
            )
        )
        median_ci = median_survival_times(band)
        median_rows.append(
            {
                "group": label,
                "employees": n_employees(sub),
                "adopted": n_adopted(sub),
                "median_months": float(kmf.median_survival_time_),
                "ci_low": float(median_ci.iloc[0, 0]),
                "ci_high": float(median_ci.iloc[0, 1]),
            }
        )
    stat, df, pvalue = np.nan, 0, np.nan
    if len(labels) > 1:
        test = multivariate_logrank_test(
            frame["months"], frame["group"], frame["adopted"], weights=weight(frame)
        )
        stat, df, pvalue = (
            float(test.test_statistic),
            int(test.degrees_of_freedom),
            float(test.p_value),
        )
    medians = pd.DataFrame(median_rows).set_index("group")
    medians.index.name = by or "group"
    return AdoptionCurves(
        curves=pd.concat(curve_parts, ignore_index=True),
        medians=medians,
        by=by,
        logrank_stat=stat,
        logrank_df=df,
        logrank_pvalue=pvalue,
        level=level,
        info={"Employees": f"{n_employees(frame)} ({n_adopted(frame)} adopted)"},
    )


def adoption_curves(
    digital_adoption: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    by: str | None = "age_band",
    as_of=None,
    policies: pd.DataFrame | None = None,
    level: float = 0.95,
) -> AdoptionCurves:
    """Kaplan-Meier curves of time to first use of the digital system, by group.

    The clock of each employee starts at the later of the agency's ``digitalisation`` start
    and the employee's ``service_start``; it stops at the first use (event) or, for those
    who have not used it, at the earlier of ``as_of`` and ``service_end`` (censored). Time
    is in months (365.25 / 12 days). A first use before the clock starts counts as adoption
    at month 0 (counted in ``info`` as "Used before the start"). Employees of agencies that
    have not digitalised by ``as_of`` ("Agency not digitalised") and those who left before
    their agency's start ("Left before the start") are not at risk and are left out.

    Parameters
    ----------
    digital_adoption
        Table ``employee_id, first_use`` (NaT = not yet).
    employees
        Table with ``employee_id, agency_code, birth_date, service_start, service_end`` and
        the grouping column.
    by
        ``"age_band"`` (age at the start of the clock, bands of :func:`age_band`), any other
        column of ``employees`` (e.g. ``"education"``, ``"position_type"``, ``"sex"``), or
        ``None`` for one curve.
    as_of
        Data date: follow-up ends here. Default: the latest first use in the data; pass the
        dataset's ``metadata["data_date"]`` when known.
    policies
        Table ``agency_code, digitalisation`` with each agency's start date. Required unless
        ``digital_adoption`` already has a ``start`` column per employee.
    level
        Confidence level.

    Returns
    -------
    AdoptionCurves
    """
    if policies is None and "start" not in digital_adoption.columns:
        raise ValueError(
            "adoption_curves needs each agency's digitalisation start: pass "
            "policies=dataset.tables['policies'] (or a 'start' column in digital_adoption)."
        )
    needed = ["employee_id", "agency_code", "birth_date", "service_start", "service_end"]
    if by is not None and by != "age_band":
        needed.append(by)
    missing = [c for c in needed if c not in employees.columns]
    if missing:
        raise KeyError(f"adoption_curves: employees has no column(s) {missing}.")
    staff = employees[list(dict.fromkeys(needed))]
    use = digital_adoption[
        ["employee_id", "first_use"] + (["start"] if "start" in digital_adoption else [])
    ]
    frame = staff.merge(use, on="employee_id", how="inner", validate="1:1")
    info: dict[str, Any] = {}
    n_orphans = len(use) - len(frame)
    if n_orphans:
        info["Orphan adoption records"] = n_orphans
    n_unknown = len(staff) - len(frame)
    if n_unknown:
        warnings.warn(
            f"adoption_curves: {n_unknown} employee(s) have no row in digital_adoption and "
            f"are left out.",
            stacklevel=2,
        )
        info["No adoption record"] = n_unknown
    if "start" not in frame:
        starts = policies.set_index("agency_code")["digitalisation"]
        frame["start"] = frame["agency_code"].map(starts)
    for column in ("start", "first_use", "service_start", "service_end", "birth_date"):
        frame[column] = pd.to_datetime(frame[column])
    as_of = pd.Timestamp(as_of) if as_of is not None else frame["first_use"].max()
    if pd.isna(as_of):
        raise ValueError("adoption_curves: no first use in the data; pass as_of.")
    origin = frame[["start", "service_start"]].max(axis=1)
    end = frame["service_end"].where(frame["service_end"] < as_of, as_of)
    no_start = frame["start"].isna() | (frame["start"] > as_of)
    left_before = ~no_start & (end < origin)
    info["Agency not digitalised"] = int(no_start.sum())
    if left_before.any():
        info["Left before the start"] = int(left_before.sum())
    keep = ~(no_start | left_before)
    frame, origin, end = frame.loc[keep], origin[keep], end[keep]
    adopted = frame["first_use"].notna() & (frame["first_use"] <= end)
    stop = frame["first_use"].where(adopted, end)
    months = ((stop - origin).dt.days / DAYS_PER_MONTH).clip(lower=0.0)
    early = int((adopted & (frame["first_use"] < origin)).sum())
    if early:
        info["Used before the start"] = early
    if by == "age_band":
        groups = age_band(frame["birth_date"], origin)
        no_birth = groups.isna()
        if no_birth.any():
            warnings.warn(
                f"adoption_curves: {int(no_birth.sum())} employee(s) without a birth date have "
                f"no age band and are left out.",
                stacklevel=2,
            )
            info["No birth date"] = int(no_birth.sum())
            keep = ~no_birth
            frame, groups, months, adopted = frame[keep], groups[keep], months[keep], adopted[keep]
    elif by is None:
        groups = None
    else:
        groups = frame[by]
        n_missing = int(groups.isna().sum())
        if n_missing:
            raise ValueError(
                f"adoption_curves: {n_missing} employee(s) have no {by}; fill or drop them first."
            )
    result = kaplan_meier(months, adopted, groups, by=by, level=level)
    durations = pd.DataFrame(
        {
            "employee_id": frame["employee_id"].to_numpy(),
            "group": ALL if groups is None else np.asarray(groups, dtype=object),
            "months": months.to_numpy(),
            "adopted": adopted.to_numpy(),
        }
    )
    info = {**result.info, "Follow-up until": f"{as_of:%Y-%m-%d}", **info}
    return AdoptionCurves(
        curves=result.curves,
        medians=result.medians,
        by=by,
        logrank_stat=result.logrank_stat,
        logrank_df=result.logrank_df,
        logrank_pvalue=result.logrank_pvalue,
        level=level,
        durations=durations,
        info=info,
    )


def adoption_curves_from_counts(
    counts: pd.DataFrame,
    *,
    by: str | None = "age_band",
    as_of,
    level: float = 0.95,
    categories=None,
) -> AdoptionCurves:
    """:func:`adoption_curves` from employees counted per group, duration and status.

    The grouped form: the same curves, medians, log-rank test and ``info`` as
    :func:`adoption_curves` on the employee tables, from the counts that
    :func:`asn_eval.engine.adoption_counts` computes on DuckDB or Spark (so the employee
    tables need not be loaded into pandas). It is exact, not an approximation: the
    Kaplan-Meier estimate, its band and the log-rank test depend on the employees only
    through these counts (:func:`kaplan_meier` with ``counts``).

    Parameters
    ----------
    counts
        Columns :data:`asn_eval.engine.ADOPTION_COUNT_COLUMNS`: ``status`` (one of
        :data:`asn_eval.engine.ADOPTION_STATUSES`), ``grp`` (for ``by="age_band"`` the band's
        position in :data:`asn_eval.domain.subgroups.AGE_BAND_LABELS`), ``days``, ``adopted``,
        ``early`` and ``n``.
    by
        The grouping the counts were made with (``"age_band"``, a column, or ``None``).
    as_of
        The end of follow-up the counts were made with.
    level
        Confidence level.
    categories
        Order of the groups of a ``by`` column (e.g. its categories in the employees
        table); sorted labels when None, as :func:`kaplan_meier` orders plain labels.

    Returns
    -------
    AdoptionCurves
        With ``durations`` holding the grouped rows (``group, months, adopted, n``) instead
        of one row per employee.
    """
    from asn_eval.domain.subgroups import AGE_BAND_LABELS
    from asn_eval.engine import ADOPTION_COUNT_COLUMNS, ADOPTION_STATUSES

    missing = [c for c in ADOPTION_COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise KeyError(f"adoption_curves_from_counts: counts has no column(s) {missing}.")
    unknown = sorted(set(counts["status"]) - set(ADOPTION_STATUSES))
    if unknown:
        raise ValueError(f"adoption_curves_from_counts: unknown status(es) {unknown}.")
    as_of = pd.Timestamp(as_of)
    total = counts.groupby("status")["n"].sum()

    def n_of(status: str) -> int:
        return int(total.get(status, 0))

    # The reasons in the order adoption_curves records them.
    info: dict[str, Any] = {}
    if n_of("orphan"):
        info["Orphan adoption records"] = n_of("orphan")
    if n_of("no_record"):
        warnings.warn(
            f"adoption_curves: {n_of('no_record')} employee(s) have no row in digital_adoption "
            f"and are left out.",
            stacklevel=2,
        )
        info["No adoption record"] = n_of("no_record")
    info["Agency not digitalised"] = n_of("not_digitalised")
    if n_of("left_before"):
        info["Left before the start"] = n_of("left_before")
    timed = counts["status"].isin(["at_risk", "no_birth_date"])
    early = int(counts.loc[timed & counts["early"].eq(1), "n"].sum())
    if early:
        info["Used before the start"] = early
    if n_of("no_birth_date"):
        warnings.warn(
            f"adoption_curves: {n_of('no_birth_date')} employee(s) without a birth date have "
            f"no age band and are left out.",
            stacklevel=2,
        )
        info["No birth date"] = n_of("no_birth_date")
    rows = counts.loc[counts["status"].eq("at_risk")]
    days = rows["days"].to_numpy(dtype=float)
    # As adoption_curves: whole days in months of 365.25 / 12 days, a first use before the
    # start at month 0.
    months = pd.Series(days / DAYS_PER_MONTH).clip(lower=0.0).to_numpy()
    adopted = rows["adopted"].to_numpy(dtype=float) == 1
    if by == "age_band":
        labels = list(AGE_BAND_LABELS)
        groups = pd.Categorical.from_codes(
            rows["grp"].to_numpy(dtype=int), categories=labels, ordered=True
        )
        groups = pd.Series(groups)
    elif by is None:
        groups = None
    else:
        n_missing = int(rows.loc[rows["grp"].isna(), "n"].sum())
        if n_missing:
            raise ValueError(
                f"adoption_curves: {n_missing} employee(s) have no {by}; fill or drop them first."
            )
        values = rows["grp"].astype(str).to_numpy()
        groups = (
            pd.Series(pd.Categorical(values, categories=[str(c) for c in categories]))
            if categories is not None
            else values
        )
    result = kaplan_meier(months, adopted, groups, counts=rows["n"], by=by, level=level)
    durations = pd.DataFrame(
        {
            "group": ALL if groups is None else np.asarray(groups, dtype=object),
            "months": months,
            "adopted": adopted,
            "n": rows["n"].to_numpy(),
        }
    )
    info = {**result.info, "Follow-up until": f"{as_of:%Y-%m-%d}", **info}
    return AdoptionCurves(
        curves=result.curves,
        medians=result.medians,
        by=by,
        logrank_stat=result.logrank_stat,
        logrank_df=result.logrank_df,
        logrank_pvalue=result.logrank_pvalue,
        level=level,
        durations=durations,
        info=info,
    )
