"""Goodman-Bacon decomposition of the two-way fixed effects estimator.

With staggered adoption, the TWFE coefficient on a binary, absorbing treatment is a
weighted average of every 2x2 difference-in-differences between timing groups (cohorts):
treated against never treated, earlier- against later-treated (before the later group
adopts), and later- against earlier-treated (after the earlier group adopted, using units
already treated as controls: the comparison that goes wrong when effects grow over time).
Goodman-Bacon, A. (2021), "Difference-in-differences with variation in treatment timing",
*Journal of Econometrics* 225(2), 254-277, Theorem 1.

On a balanced panel every quantity depends only on cohort-by-period means of the outcome
and on cohort sizes, so the decomposition is computed from those group-by aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from asn_eval.estimators.results import EstimateTable, plotting_backend

__all__ = ["BaconResult", "bacon_decomposition"]

TREATED_VS_NEVER = "treated vs never treated"
EARLIER_VS_LATER = "earlier vs later treated"
LATER_VS_EARLIER = "later vs earlier treated"
LATER_VS_ALWAYS = "later vs always treated"
# 2x2 comparisons whose controls are already treated: biased when effects change over time.
FORBIDDEN_TYPES = (LATER_VS_EARLIER, LATER_VS_ALWAYS)


@dataclass(frozen=True)
class BaconResult(EstimateTable):
    """Result of :func:`bacon_decomposition`.

    ``params`` holds the 2x2 estimates indexed by (``type``, ``treated_cohort``,
    ``control_cohort``); ``weights`` their weights (summing to one); ``twfe_estimate`` the
    TWFE coefficient, which equals ``(weights * params).sum()``. Cohorts are the first treated
    period, 0 for never treated (as R's did). The 2x2 estimates have no standard errors.
    """

    weights: pd.Series | None = None
    twfe_estimate: float = float("nan")
    treatment: str = ""

    @property
    def comparisons(self) -> pd.DataFrame:
        return self.to_frame()

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame["weight"] = self.weights.to_numpy()
        return frame

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted average estimate of each comparison type."""
        frame = self.to_frame()
        frame["weighted"] = frame["weight"] * frame["estimate"]
        grouped = frame.groupby("type", sort=False)[["weight", "weighted"]].sum()
        grouped["estimate"] = grouped["weighted"] / grouped["weight"]
        return grouped[["weight", "estimate"]]

    def plot(self, ax=None, **kwargs):
        """Draw each 2x2 estimate against its weight, by comparison type, with the TWFE line;
        return the matplotlib Axes.

        Keywords go to :func:`asn_eval.report.plots.bacon` (``lang``, ``percent``, ``labels``,
        ``legend``, ...); a new full-width figure is made when ``ax`` is None.
        """
        return plotting_backend().bacon(self, ax=ax, **kwargs)

    def statement(self) -> str:
        types = self.by_type()
        forbidden = float(types.loc[types.index.isin(FORBIDDEN_TYPES), "weight"].sum())
        return (
            f"The TWFE estimate of {self.treatment} on {self.outcome}, "
            f"{self.twfe_estimate:.4g}, averages {len(self.params)} two-by-two comparisons; "
            f"{forbidden:.0%} of its weight comes from comparisons that use already-treated "
            "units as controls, which are biased when effects change over time."
        )


def _balanced_codes(frame: pd.DataFrame, unit: str, time: str) -> tuple:
    unit_codes, unit_levels = pd.factorize(frame[unit])
    times = np.sort(frame[time].unique())
    time_codes = np.searchsorted(times, frame[time].to_numpy())
    n_units, n_times = len(unit_levels), len(times)
    cells = np.bincount(unit_codes * n_times + time_codes, minlength=n_units * n_times)
    if len(frame) != n_units * n_times or not np.all(cells == 1):
        raise ValueError(
            "bacon_decomposition needs a balanced panel with one row per unit and period: "
            f"{n_units:,} units x {n_times:,} periods would be {n_units * n_times:,} rows, "
            f"found {len(frame):,} (after dropping rows with missing values)."
        )
    return unit_codes, time_codes, times, n_units, n_times


def bacon_decomposition(
    data: pd.DataFrame, *, outcome: str, treatment: str, unit: str, time: str
) -> BaconResult:
    """Decompose the TWFE coefficient into 2x2 difference-in-differences comparisons.

    Parameters
    ----------
    data
        Balanced long panel, one row per unit and period.
    outcome
        Outcome column.
    treatment
        Binary (0/1) absorbing treatment column: once treated, a unit stays treated.
    unit, time
        Unit and period columns.

    Returns
    -------
    BaconResult
        ``to_frame()`` has columns ``type``, ``treated_cohort``, ``control_cohort``,
        ``estimate``, ``std_error`` (missing), ``ci_low``, ``ci_high`` (missing) and
        ``weight``; ``by_type()`` sums the weights by comparison type.

    Notes
    -----
    Goodman-Bacon (2021), Theorem 1; weights as in his equations (10a)-(10c), with units
    treated in the first period forming an "always treated" group. Without covariates, on
    a balanced panel, ``sum(weight * estimate)`` equals the TWFE coefficient exactly.

    Examples
    --------
    >>> res = bacon_decomposition(panel, outcome="y", treatment="treated",
    ...                           unit="employee", time="year")  # doctest: +SKIP
    >>> res.by_type()  # doctest: +SKIP
    """
    frame = data[[outcome, treatment, unit, time]].dropna()
    unit_codes, time_codes, times, n_units, n_times = _balanced_codes(frame, unit, time)
    d = frame[treatment].to_numpy(dtype=float)
    if not np.isin(d, (0.0, 1.0)).all():
        raise ValueError(f"bacon_decomposition: {treatment} must be 0/1 (binary).")
    # First treated period of each unit (n_times = never treated).
    first = np.full(n_units, n_times)
    treated_rows = d == 1
    np.minimum.at(first, unit_codes[treated_rows], time_codes[treated_rows])
    if not np.array_equal(d, (time_codes >= first[unit_codes]).astype(float)):
        raise ValueError(
            f"bacon_decomposition: {treatment} must be absorbing (once 1, a unit stays 1); "
            "some units switch off, and the decomposition does not cover that design."
        )
    starts, cohort_of_unit = np.unique(first, return_inverse=True)
    if starts.size < 2:
        raise ValueError(
            "bacon_decomposition: all units share one treatment timing; no 2x2 exists."
        )
    n_cohorts = starts.size
    cohort = cohort_of_unit[unit_codes]
    y = frame[outcome].to_numpy(dtype=float)
    cell = cohort * n_times + time_codes
    cell_counts = np.bincount(cell, minlength=n_cohorts * n_times)
    ybar = (np.bincount(cell, weights=y, minlength=n_cohorts * n_times) / cell_counts).reshape(
        n_cohorts, n_times
    )
    share = np.bincount(cohort_of_unit, minlength=n_cohorts) / n_units
    dbar = (n_times - starts) / n_times  # share of periods treated, by cohort

    # Variance of the two-way demeaned treatment, and the TWFE coefficient, from aggregates.
    d_kt = (np.arange(n_times)[None, :] >= starts[:, None]).astype(float)
    d_t = share @ d_kt
    d_tilde = d_kt - dbar[:, None] - d_t[None, :] + share @ dbar
    variance = float(share @ (d_tilde**2).mean(axis=1))
    twfe_estimate = float(share @ (d_tilde * ybar).mean(axis=1)) / variance

    def mean_over(k: int, lo: int, hi: int) -> float:
        return float(ybar[k, lo:hi].mean())

    labels = np.where(starts == n_times, 0, times[np.minimum(starts, n_times - 1)])
    rows = []
    for k in range(n_cohorts):
        for l in range(k + 1, n_cohorts):  # noqa: E741 - Goodman-Bacon's notation
            tk, tl = starts[k], starts[l]
            nk, nl = share[k], share[l]
            nkl = nk / (nk + nl)
            never = tl == n_times
            always = tk == 0
            if not always:  # k treated, l not yet (or never) treated, periods before tl
                weight = (
                    ((nk + nl) * (1 - dbar[l])) ** 2
                    * nkl * (1 - nkl)
                    * (dbar[k] - dbar[l]) / (1 - dbar[l])
                    * (1 - dbar[k]) / (1 - dbar[l])
                ) / variance  # fmt: skip
                estimate = (mean_over(k, tk, tl) - mean_over(k, 0, tk)) - (
                    mean_over(l, tk, tl) - mean_over(l, 0, tk)
                )
                kind = TREATED_VS_NEVER if never else EARLIER_VS_LATER
                rows.append((kind, labels[k], labels[l], estimate, weight))
            if not never:  # l treated, k already treated, periods from tk on
                weight = (
                    ((nk + nl) * dbar[k]) ** 2
                    * nkl * (1 - nkl)
                    * dbar[l] / dbar[k]
                    * (dbar[k] - dbar[l]) / dbar[k]
                ) / variance  # fmt: skip
                estimate = (mean_over(l, tl, n_times) - mean_over(l, tk, tl)) - (
                    mean_over(k, tl, n_times) - mean_over(k, tk, tl)
                )
                kind = LATER_VS_ALWAYS if always else LATER_VS_EARLIER
                rows.append((kind, labels[l], labels[k], estimate, weight))

    table = pd.DataFrame(
        rows, columns=["type", "treated_cohort", "control_cohort", "estimate", "weight"]
    )
    index = pd.MultiIndex.from_frame(table[["type", "treated_cohort", "control_cohort"]])
    params = pd.Series(table["estimate"].to_numpy(), index=index, name="estimate")
    return BaconResult(
        params=params,
        std_errors=pd.Series(np.nan, index=index, name="std_error"),
        method="Goodman-Bacon decomposition",
        outcome=outcome,
        info={
            "TWFE estimate": f"{twfe_estimate:.6g}",
            "Sum of weights": f"{table['weight'].sum():.6f}",
            "Units": f"{n_units:,}",
            "Periods": f"{n_times:,}",
            "Timing groups": f"{n_cohorts:,}",
        },
        weights=pd.Series(table["weight"].to_numpy(), index=index, name="weight"),
        twfe_estimate=twfe_estimate,
        treatment=treatment,
    )
