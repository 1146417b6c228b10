"""Interrupted time series: segmented regression of a monthly service series.

The series is modelled as a linear trend with month-of-year seasonality, and the
intervention may shift its level and change its slope (Wagner et al., 2002; Bernal,
Cummins and Gasparrini, 2017). Monthly service figures are autocorrelated, so standard
errors are Newey-West (1987) heteroskedasticity- and autocorrelation-consistent, with
Bartlett weights; in short series an AR(1) error model (Prais-Winsten feasible GLS)
gives intervals closer to their nominal coverage and is offered as ``errors="ar1"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from asn_eval.estimators.results import EstimateTable, interval_sign, plotting_backend

# The estimator's name in tables, results.json and the words (as METHOD_NAME of the did package).
METHOD_NAME = "Interrupted time series"
EFFECT_TERMS = ("level_change", "slope_change")


def newey_west_lags(nobs: int) -> int:
    """Newey and West (1994) rule of thumb for the Bartlett kernel: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4 * (nobs / 100) ** (2 / 9)))


def hac_covariance(
    design: np.ndarray, residuals: np.ndarray, *, maxlags: int, small_sample: bool = True
) -> np.ndarray:
    """Newey-West covariance of OLS coefficients with Bartlett weights.

    Parameters
    ----------
    design
        Regressor matrix (n x k), rows in time order.
    residuals
        OLS residuals (length n).
    maxlags
        Highest autocovariance lag with non-zero weight ``1 - lag / (maxlags + 1)``.
    small_sample
        Multiply by ``n / (n - k)`` (as Stata's ``newey`` and statsmodels'
        ``use_correction=True``).

    Returns
    -------
    numpy.ndarray
        The k x k covariance matrix ``(X'X)^-1 S (X'X)^-1``.
    """
    scores = design * residuals[:, None]
    meat = scores.T @ scores
    for lag in range(1, maxlags + 1):
        weight = 1.0 - lag / (maxlags + 1.0)
        gamma = scores[lag:].T @ scores[:-lag]
        meat += weight * (gamma + gamma.T)
    bread = np.linalg.inv(design.T @ design)
    cov = bread @ meat @ bread
    if small_sample:
        nobs, k = design.shape
        cov *= nobs / (nobs - k)
    return cov


def _prais_winsten(z: np.ndarray, rho: float) -> np.ndarray:
    first = np.sqrt(1 - rho**2) * z[:1]
    return np.concatenate([first, z[1:] - rho * z[:-1]])


def ar1_gls(
    design: np.ndarray,
    outcome: np.ndarray,
    months: np.ndarray,
    *,
    tolerance: float = 1e-10,
    max_iter: int = 200,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Iterated Prais-Winsten feasible GLS with AR(1) errors, allowing gaps in the months.

    The error correlation between months ``s`` and ``t`` is ``rho^|s - t|``; with no gaps
    this is the Prais-Winsten transformation (which keeps the first month). ``rho`` is
    re-estimated from the residuals of consecutive months until it changes by less than
    ``tolerance``.

    Returns
    -------
    coefficients, covariance, rho
        The covariance uses the residual variance of the whitened regression with
        ``n - k`` degrees of freedom, as statsmodels' ``GLS``.
    """
    consecutive = np.diff(months) == 1
    if consecutive.sum() < 2:
        raise ValueError(
            "interrupted_time_series: errors='ar1' needs consecutive months to estimate the "
            "autocorrelation."
        )
    coef, *_ = np.linalg.lstsq(design, outcome, rcond=None)
    rho = 0.0
    gaps = not consecutive.all()
    lag = np.abs(months[:, None] - months[None, :]) if gaps else None
    for _ in range(max_iter):
        resid = outcome - design @ coef
        now, before = resid[1:][consecutive], resid[:-1][consecutive]
        new_rho = float(np.clip(now @ before / (before @ before), -0.99, 0.99))
        if gaps:
            chol = np.linalg.cholesky(new_rho**lag)
            x_white = np.linalg.solve(chol, design)
            y_white = np.linalg.solve(chol, outcome)
        else:
            # Prais-Winsten: the same whitening as the Cholesky factor, in O(n).
            x_white, y_white = _prais_winsten(design, new_rho), _prais_winsten(outcome, new_rho)
        coef, *_ = np.linalg.lstsq(x_white, y_white, rcond=None)
        converged = abs(new_rho - rho) < tolerance
        rho = new_rho
        if converged:
            break
    resid_white = y_white - x_white @ coef
    nobs, k = design.shape
    scale = resid_white @ resid_white / (nobs - k)
    cov = scale * np.linalg.inv(x_white.T @ x_white)
    return coef, cov, rho


@dataclass(frozen=True)
class InterruptedTimeSeriesResult(EstimateTable):
    """Level and slope change of a segmented regression, with the fitted lines.

    ``params``/``std_errors`` hold ``level_change`` (the jump in the month of the
    intervention, relative to the pre-intervention trend) and ``slope_change`` (the change
    in the trend, outcome units per month). ``coefficients`` and ``coefficient_vcov`` hold
    every coefficient of the design (constant, trend, seasonal dummies). ``observed``,
    ``fitted`` and ``counterfactual`` (the fitted line with no level or slope change) are
    Series indexed by month, ready for a figure. ``ar1_rho`` is the estimated error
    autocorrelation with ``errors="ar1"`` (NaN otherwise).
    """

    intervention: pd.Timestamp | None = None
    observed: pd.Series = field(default_factory=pd.Series)
    fitted: pd.Series = field(default_factory=pd.Series)
    counterfactual: pd.Series = field(default_factory=pd.Series)
    coefficients: pd.Series = field(default_factory=pd.Series)
    coefficient_vcov: pd.DataFrame = field(default_factory=pd.DataFrame)
    ar1_rho: float = np.nan

    def effect_at(self, month) -> tuple[float, float]:
        """Estimated effect (fitted minus counterfactual) in a post-intervention month.

        Returns the estimate ``level_change + slope_change * m`` (``m`` months after the
        intervention month) and its standard error.
        """
        month = _month_number(pd.Series([pd.Timestamp(month)])).iloc[0]
        start = _month_number(pd.Series([self.intervention])).iloc[0]
        if month < start:
            raise ValueError(
                f"effect_at needs a month on or after the intervention "
                f"({self.intervention:%Y-%m}); got {pd.Timestamp(month):%Y-%m}."
            )
        weights = pd.Series(0.0, index=self.coefficients.index)
        weights["level_change"] = 1.0
        weights["slope_change"] = float(month - start)
        estimate = float(weights @ self.coefficients)
        variance = float(weights @ self.coefficient_vcov @ weights)
        return estimate, float(np.sqrt(variance))

    def plot(self, ax=None, **kwargs):
        """Draw the observed months, the fitted trend and the counterfactual trend without
        the policy and return the matplotlib Axes.

        Keywords go to :func:`asn_eval.report.plots.its` (``lang``, ``percent``, ``labels``,
        ``legend``, ...); a new full-width figure is made when ``ax`` is None.
        """
        return plotting_backend().its(self, ax=ax, **kwargs)

    def statement(self) -> str:
        """One sentence on the level and slope change, in plain English."""
        ci = self.conf_int()
        pct = round(self.level * 100)
        parts = []
        for term, words, unit in (
            ("level_change", "changed by", "at the intervention"),
            ("slope_change", "its monthly trend changed by", "per month"),
        ):
            est, lo, hi = self.params[term], ci.loc[term, "ci_low"], ci.loc[term, "ci_high"]
            verdict = "" if interval_sign(lo, hi) else ", not distinguishable from zero"
            parts.append(f"{words} {est:.4g} {unit} ({pct}% CI {lo:.4g} to {hi:.4g}{verdict})")
        errors = "Newey-West standard errors" if np.isnan(self.ar1_rho) else "AR(1) errors"
        when = f"{self.intervention:%B %Y}" if self.intervention is not None else "the intervention"
        return (
            f"From {when}, {self.outcome} {parts[0]} and {parts[1]}, by segmented regression "
            f"with {errors}."
        )


def _month_number(dates: pd.Series) -> pd.Series:
    dates = pd.to_datetime(dates)
    return dates.dt.year * 12 + dates.dt.month - 1


def interrupted_time_series(
    data: pd.DataFrame,
    *,
    outcome: str,
    time: str,
    intervention,
    seasonality: bool = True,
    maxlags: int | None = None,
    small_sample: bool = True,
    errors: str = "newey-west",
    level: float = 0.95,
) -> InterruptedTimeSeriesResult:
    """Segmented regression of a monthly series with a level and slope change.

    The model is ``y_t = a + b t + c D_t + d (t - t0) D_t + month-of-year_t + e_t`` where
    ``t`` counts months, ``t0`` is the intervention month and ``D_t = 1`` from ``t0`` on:
    ``c`` is the level change (immediate jump against the extrapolated pre-trend) and
    ``d`` the slope change per month (Wagner et al., 2002, J Clin Pharm Ther 27:299;
    Bernal et al., 2017, Int J Epidemiol 46:348). Standard errors are Newey-West (1987)
    HAC with Bartlett weights, because monthly service figures are autocorrelated.

    Parameters
    ----------
    data
        One row per month: e.g. the ``services`` table filtered to one agency and service.
        Months may be missing (the trend counts calendar months).
    outcome
        Column with the series, e.g. ``"median_time"``.
    time
        Column with the month (any date within the month).
    intervention
        First month under the policy (date-like), e.g. the agency's ``digitalisation`` start.
    seasonality
        Add month-of-year dummies (January is the reference when present).
    maxlags
        Newey-West lags; default ``floor(4 (n/100)^(2/9))`` (Newey and West, 1994).
    small_sample
        Scale the covariance by ``n / (n - k)`` (Stata's ``newey``); ``False`` gives
        statsmodels' ``cov_type="HAC"`` default.
    errors
        ``"newey-west"``: OLS with Newey-West standard errors (``maxlags``,
        ``small_sample`` apply). ``"ar1"``: iterated Prais-Winsten feasible GLS with AR(1)
        errors (gaps allowed), classical standard errors of the whitened regression and
        t(n - k - 1) intervals; better coverage in short series (see Notes).
    level
        Confidence level of the intervals.

    Returns
    -------
    InterruptedTimeSeriesResult
        Intervals use Student t critical values with ``n - k`` degrees of freedom.

    Notes
    -----
    Newey-West intervals under-cover in short series because the step and trend
    regressors are persistent. In the project's simulation (72 months, 36 after, monthly
    seasonality, AR(1) errors) the nominal 95% intervals covered the true level change
    about 84% of the time with rho = 0.5 and 91% with independent errors; more lags made
    it worse, not better. With ``errors="ar1"`` the same intervals covered 91% (rho = 0.5)
    and 95% (independent errors); for the slope change 89% and 93% (Newey-West: 80%, 90%).
    Turner et al. (2021, BMC Med Res Methodol 21:181) report the same ordering.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.date_range("2019-01-01", periods=60, freq="MS")
    >>> y = 10 + 0.1 * np.arange(60) - 2.0 * (months >= "2022-01-01")
    >>> df = pd.DataFrame({"month": months, "days": y + np.sin(np.arange(60))})
    >>> res = interrupted_time_series(df, outcome="days", time="month", intervention="2022-01")
    >>> round(res.params["level_change"]) == -2
    True
    """
    missing = [c for c in (outcome, time) if c not in data.columns]
    if missing:
        raise KeyError(
            f"interrupted_time_series: column(s) {missing} not in the data; "
            f"available: {list(data.columns)}."
        )
    frame = data[[time, outcome]].copy()
    n_missing = int(frame.isna().any(axis=1).sum())
    if n_missing:
        warnings.warn(
            f"interrupted_time_series dropped {n_missing} month(s) with a missing {outcome} "
            f"or {time}.",
            stacklevel=2,
        )
        frame = frame.dropna()
    frame[time] = pd.to_datetime(frame[time])
    frame["_month"] = _month_number(frame[time])
    duplicated = frame["_month"].duplicated(keep=False)
    if duplicated.any():
        example = frame.loc[duplicated, time].min()
        n_dup = frame.loc[duplicated, "_month"].nunique()
        raise ValueError(
            f"interrupted_time_series needs one row per month, but {n_dup} month(s) have "
            f"several rows (the first is {example:%Y-%m}); filter the data to one agency and "
            f"one service first."
        )
    frame = frame.sort_values("_month").reset_index(drop=True)
    start = pd.Timestamp(intervention) if intervention is not None else pd.NaT
    if pd.isna(start):
        raise ValueError(
            "interrupted_time_series: the intervention date is missing (the agency never "
            "adopted the policy?); an interrupted time series needs one."
        )
    start_month = int(_month_number(pd.Series([start])).iloc[0])
    post = (frame["_month"] >= start_month).to_numpy()
    n_pre, n_post = int((~post).sum()), int(post.sum())
    if n_pre < 3 or n_post < 3:
        raise ValueError(
            f"interrupted_time_series needs at least 3 months before and 3 from the "
            f"intervention ({start:%Y-%m}); the series has {n_pre} before and {n_post} from it "
            f"({frame[time].min():%Y-%m} to {frame[time].max():%Y-%m})."
        )

    months = frame["_month"].to_numpy()
    columns = {
        "const": np.ones(len(frame)),
        "trend": (months - months[0]).astype(float),
        "level_change": post.astype(float),
        "slope_change": np.where(post, months - start_month, 0).astype(float),
    }
    if seasonality:
        month_of_year = frame[time].dt.month.to_numpy()
        for m in sorted(set(month_of_year))[1:]:
            columns[f"month_{m:02d}"] = (month_of_year == m).astype(float)
    design = pd.DataFrame(columns)
    nobs, k = design.shape
    if nobs <= k:
        raise ValueError(
            f"interrupted_time_series: {nobs} months are too few for {k} coefficients; "
            f"use a longer series or seasonality=False."
        )
    x = design.to_numpy()
    y = frame[outcome].to_numpy(dtype=float)
    if errors == "newey-west":
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        lags = newey_west_lags(nobs) if maxlags is None else int(maxlags)
        cov = hac_covariance(x, resid, maxlags=lags, small_sample=small_sample)
        df = nobs - k
        se_note = (
            f"Newey-West HAC, Bartlett, {lags} lag(s)"
            + (", small-sample n/(n-k)" if small_sample else "")
            + f"; intervals use t({df})"
        )
        rho = np.nan
    elif errors == "ar1":
        coef, cov, rho = ar1_gls(x, y, months)
        df = nobs - k - 1
        se_note = f"AR(1) Prais-Winsten FGLS, rho = {rho:.3f}; intervals use t({df})"
    else:
        raise ValueError(
            f'interrupted_time_series: errors must be "newey-west" or "ar1"; got {errors!r}.'
        )

    names = list(design.columns)
    coefficients = pd.Series(coef, index=pd.Index(names, name="term"))
    vcov = pd.DataFrame(cov, index=names, columns=names)
    terms = pd.Index(EFFECT_TERMS, name="term")
    index = pd.DatetimeIndex(frame[time], name=time)
    no_policy = x.copy()
    no_policy[:, [names.index(t) for t in EFFECT_TERMS]] = 0.0
    return InterruptedTimeSeriesResult(
        params=coefficients[terms],
        std_errors=pd.Series(np.sqrt(np.diag(cov)), index=coefficients.index)[terms],
        method=METHOD_NAME,
        outcome=outcome,
        level=level,
        df=df,
        info={
            "Months": f"{nobs} ({n_pre} before, {n_post} from {start:%Y-%m})",
            "Seasonality": "month-of-year dummies" if seasonality else "none",
            "Standard errors": se_note,
        },
        intervention=start,
        observed=pd.Series(y, index=index, name=outcome),
        fitted=pd.Series(x @ coef, index=index, name="fitted"),
        counterfactual=pd.Series(no_policy @ coef, index=index, name="counterfactual"),
        coefficients=coefficients,
        coefficient_vcov=vcov,
        ar1_rho=float(rho),
    )


__all__ = [
    "InterruptedTimeSeriesResult",
    "ar1_gls",
    "hac_covariance",
    "interrupted_time_series",
    "newey_west_lags",
]
