"""Inference that holds with few clusters: wild cluster bootstrap and randomization inference.

Kota Kupang has some 35-45 agencies (OPD) to cluster on, and policies were adopted by whole
agencies, so cluster-robust standard errors alone over-reject. Two remedies:

* :func:`wild_cluster_bootstrap` for a TWFE coefficient: the restricted wild cluster
  bootstrap-t (WCR, null imposed) of Cameron, Gelbach and Miller (2008, *REStat* 90(3)),
  with Rademacher or Webb (2023, *Can. J. Econ.* 56(3)) six-point weights. The bootstrap is
  computed from cluster-level aggregates, as in Roodman, MacKinnon, Nielsen and Webb (2019,
  "Fast and wild", *Stata Journal* 19(1)): after the fixed effects are partialled out, every
  bootstrap coefficient and cluster score is a linear function of the G cluster weights,
  so all draws cost one (draws x G) matrix product; no data set is rebuilt per draw. The
  confidence interval inverts the bootstrap test (the set of nulls not rejected).
* :func:`randomization_inference` for any statistic (a TWFE coefficient, the overall ATT of
  ``att_gt``): adoption dates are permuted across agencies and the statistic recomputed,
  giving the distribution under the sharp null of no effect for any agency (Fisher 1935;
  MacKinnon and Webb 2020, *J. Econometrics* 218(2), for the few-treated-cluster case).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from asn_eval.estimators.results import EstimateTable
from asn_eval.estimators.twfe import _fit, _group_sum

__all__ = [
    "RandomizationResult",
    "WildBootstrapResult",
    "randomization_inference",
    "wild_cluster_bootstrap",
]

# Webb (2023) six-point distribution: mean 0, variance 1, more distinct values than Rademacher
# (which allows only 2^G distinct draws, too few with under about 12 clusters).
WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
# Columns residualized at once when building the cluster-by-cluster projection matrix.
_BLOCK = 64


def _draw_weights(kind: str, n_boot: int, n_clusters: int, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.integers(0, 2, size=(n_boot, n_clusters)) * 2.0 - 1.0
    if kind == "webb":
        return WEBB_POINTS[rng.integers(0, 6, size=(n_boot, n_clusters))]
    raise ValueError(f'weights must be "rademacher" or "webb", not {kind!r}.')


@dataclass(frozen=True)
class WildBootstrapResult(EstimateTable):
    """Result of :func:`wild_cluster_bootstrap` for one TWFE coefficient.

    ``std_errors`` are the analytic CRV1 standard errors (as :func:`twfe`); ``p_value``,
    ``ci_low`` and ``ci_high`` come from the bootstrap. ``t_boot`` holds the bootstrap
    t-statistics under the tested null and ``draws`` the (draws x clusters) weights.
    """

    p_value: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    t_stat: float = float("nan")
    null: float = 0.0
    t_boot: np.ndarray | None = None
    draws: np.ndarray | None = None

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series([self.p_value], index=self.params.index)

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        if level is not None and level != self.level:
            raise ValueError(
                f"The bootstrap interval was computed at level {self.level}; "
                f"call wild_cluster_bootstrap(..., level={level}) for another level."
            )
        return pd.DataFrame(
            {"ci_low": [self.ci_low], "ci_high": [self.ci_high]}, index=self.params.index
        )

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame["p_value"] = self.p_value
        return frame

    def statement(self) -> str:
        term = self.params.index[0]
        pct = round(self.level * 100)
        n_boot = len(self.t_boot)
        p_text = f"p < {1 / n_boot:.2g}" if self.p_value == 0 else f"p = {self.p_value:.3g}"
        if np.isnan(self.ci_low) and np.isnan(self.ci_high):
            ci_text = "no interval computed"
        else:
            ci_text = f"{pct}% CI {self.ci_low:.4g} to {self.ci_high:.4g}"
        return (
            f"Wild cluster bootstrap ({self.info['Weights']} weights, "
            f"{self.info['Bootstrap draws']} draws, {self.info['Clusters']} clusters): "
            f"the effect of {term} on {self.outcome} is {self.params.iloc[0]:.4g}, "
            f"{p_text} against {self.null:g} ({ci_text})."
        )


class _WildBootstrap:
    """The WCR bootstrap of one coefficient, as cluster-level aggregates linear in the null."""

    def __init__(self, fit, j: int, draws: np.ndarray):
        x = fit.x
        others = np.delete(x, j, axis=1)
        y = fit.y
        if others.shape[1]:
            # Partial the other regressors out (FWL); the fixed effects are already out.
            coef = np.linalg.lstsq(others, np.column_stack([x[:, j], y]), rcond=None)[0]
            partialled = np.column_stack([x[:, j], y]) - others @ coef
            x_tilde, y_tilde = partialled[:, 0], partialled[:, 1]
        else:
            x_tilde, y_tilde = x[:, j], y
        self.denominator = float(x_tilde @ x_tilde)
        self.estimate = float(x_tilde @ y_tilde) / self.denominator
        g, codes = fit.n_clusters, fit.cluster_codes
        self.factor = fit.crv1_factor
        self.draws = draws
        self._cache = None
        # Restricted residuals under H0: b = b0 are u0 - b0 * x_tilde.
        self.a_u = np.bincount(codes, weights=x_tilde * y_tilde, minlength=g)
        self.a_x = np.bincount(codes, weights=x_tilde * x_tilde, minlength=g)
        self.c_u = self._projection_matrix(fit, others, x_tilde, y_tilde)
        self.c_x = self._projection_matrix(fit, others, x_tilde, x_tilde)
        resid = y_tilde - self.estimate * x_tilde
        scores = np.bincount(codes, weights=x_tilde * resid, minlength=g)
        self.std_error = float(np.sqrt(self.factor * scores @ scores)) / self.denominator

    @staticmethod
    def _projection_matrix(fit, others, x_tilde, u) -> np.ndarray:
        """C[g, h] = sum over rows i in g of x_tilde_i * [P_W (u * 1{cluster h})]_i.

        P_W projects on the fixed effects and the other regressors. The bootstrap's
        re-estimation of the fixed effects on ``u * v`` is what this accounts for.
        """
        g, codes = fit.n_clusters, fit.cluster_codes
        out = np.empty((g, g))
        for start in range(0, g, _BLOCK):
            block = np.arange(start, min(start + _BLOCK, g))
            z = np.where(codes[:, None] == block[None, :], u[:, None], 0.0)
            m_z = fit.absorber.residualize(z)
            if others.shape[1]:
                m_z = m_z - others @ np.linalg.lstsq(others, m_z, rcond=None)[0]
            out[:, block] = _group_sum(x_tilde[:, None] * (z - m_z), codes, g)
        return out

    def _products(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """V a_u, V a_x, V C_u' and V C_x' for the draws V: every null reuses them.

        The cluster aggregates are linear in the null (a = a_u - b0 a_x, C = C_u - b0 C_x),
        so the (draws x G) by (G x G) products are computed once; a p-value at another null
        then costs O(draws x G) instead of O(draws x G^2), which is what makes the test
        inversion affordable with hundreds of clusters.
        """
        if self._cache is None:
            v = self.draws
            self._cache = (v @ self.a_u, v @ self.a_x, v @ self.c_u.T, v @ self.c_x.T)
        return self._cache

    def statistics(self, null: float) -> tuple[float, np.ndarray]:
        """Observed t and bootstrap t-statistics for H0: coefficient = ``null``."""
        a = self.a_u - null * self.a_x
        v = self.draws
        va_u, va_x, vc_u, vc_x = self._products()
        delta = (va_u - null * va_x) / self.denominator  # bootstrap estimate minus null
        scores = v * a[None, :] - (vc_u - null * vc_x) - delta[:, None] * self.a_x[None, :]
        se = np.sqrt(self.factor * np.einsum("bg,bg->b", scores, scores)) / self.denominator
        with np.errstate(divide="ignore", invalid="ignore"):
            t_boot = delta / se
        return (self.estimate - null) / self.std_error, t_boot

    def p_value(self, null: float) -> float:
        t, t_boot = self.statistics(null)
        return float(np.mean(np.abs(t_boot) >= abs(t)))

    def interval(self, alpha: float) -> tuple[float, float]:
        """Outermost nulls not rejected at ``alpha``, on each side of the estimate.

        With a finite number of draws the p-value is a step function of the null and need
        not fall monotonically (single draws cross over), so the scan walks outward on a grid
        of 1/10 standard error until the null has been rejected for a whole standard error
        past the last non-rejection, then bisects the last crossing.
        """
        step = self.std_error / 10

        def bound(direction: int) -> float:
            last_inside, k = 0, 1
            while k - last_inside <= 10:
                if self.p_value(self.estimate + direction * k * step) >= alpha:
                    last_inside = k
                k += 1
                if k > 10_000:
                    return direction * np.inf
            inside = self.estimate + direction * last_inside * step
            outside = inside + direction * step
            for _ in range(60):
                middle = 0.5 * (inside + outside)
                if self.p_value(middle) >= alpha:
                    inside = middle
                else:
                    outside = middle
                if abs(outside - inside) < 1e-7 * self.std_error:
                    break
            return 0.5 * (inside + outside)

        return bound(-1), bound(+1)


def wild_cluster_bootstrap(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str | Sequence[str],
    unit: str,
    time: str,
    cluster: str,
    covariates: Sequence[str] = (),
    coef: str | None = None,
    weights: str = "rademacher",
    n_boot: int = 9999,
    seed: int | None = None,
    null: float = 0.0,
    level: float = 0.95,
    interval: bool = True,
) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap-t (WCR) for a TWFE coefficient.

    Parameters
    ----------
    data, outcome, treatment, unit, time, covariates
        As for :func:`~asn_eval.estimators.twfe.twfe`.
    cluster
        Cluster column (e.g. ``"agency_code"``); the bootstrap weights are drawn per cluster.
    coef
        Coefficient to test; the first treatment by default.
    weights
        ``"rademacher"`` (+-1) or ``"webb"`` (six-point; better with fewer than ~12 clusters).
    n_boot
        Number of bootstrap draws.
    seed
        Seed of the weight draws (``numpy.random.default_rng``), for reproducible results.
    null
        Value of the coefficient under the tested null hypothesis.
    level
        Confidence level of the interval obtained by inverting the bootstrap test.
    interval
        Invert the test for the interval (the default). ``False`` computes the p-value
        only, for callers that use nothing else; ``ci_low`` and ``ci_high`` are then NaN and
        :meth:`WildBootstrapResult.conf_int` returns NaN bounds.

    Returns
    -------
    WildBootstrapResult
        The TWFE estimate with its analytic CRV1 standard error, the symmetric bootstrap
        p-value ``p_value`` (share of ``|t*| >= |t|``) and the interval ``ci_low``, ``ci_high``.

    Notes
    -----
    The null is imposed (restricted residuals), which keeps the test's size close to nominal
    with few clusters (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2017). The
    bootstrap t uses the same CRV1 scale as :func:`twfe`, so it is pivotal in the same way.
    Set-up costs G passes of the fixed-effect demeaning and a G x G matrix, then every draw
    costs O(G^2): the method is meant for few clusters (tens to a few hundred), where it is
    needed; with thousands of clusters the analytic CRV1 standard error is reliable.

    Examples
    --------
    >>> res = wild_cluster_bootstrap(panel, outcome="skp_good", treatment="treated",
    ...     unit="employee_id", time="year", cluster="agency_code", seed=1)  # doctest: +SKIP
    >>> res.p_value  # doctest: +SKIP
    """
    fit = _fit(
        data, outcome=outcome, treatment=treatment, unit=unit, time=time,
        covariates=covariates, cluster=cluster, caller="wild_cluster_bootstrap",
    )  # fmt: skip
    coef = fit.names[0] if coef is None else coef
    if coef not in fit.names:
        raise ValueError(
            f"wild_cluster_bootstrap: {coef!r} is not a regressor; choose one of {fit.names}."
        )
    draws = _draw_weights(weights, n_boot, fit.n_clusters, seed)
    boot = _WildBootstrap(fit, fit.names.index(coef), draws)
    t_stat, t_boot = boot.statistics(null)
    p_value = float(np.mean(np.abs(t_boot) >= abs(t_stat)))
    ci_low, ci_high = boot.interval(1 - level) if interval else (np.nan, np.nan)
    index = pd.Index([coef], name="term")
    return WildBootstrapResult(
        params=pd.Series([boot.estimate], index=index, name="estimate"),
        std_errors=pd.Series([boot.std_error], index=index, name="std_error"),
        method="TWFE, wild cluster bootstrap (WCR)",
        outcome=outcome,
        level=level,
        info={
            "Observations": f"{fit.nobs:,}",
            "Clusters": f"{fit.n_clusters:,}",
            "Weights": weights.capitalize(),
            "Bootstrap draws": f"{n_boot:,}",
            "Seed": str(seed),
            "Null hypothesis": f"{coef} = {null:g} (imposed)",
            "Standard error": "CRV1 (fixest convention); p-value and interval from the bootstrap"
            if interval
            else "CRV1 (fixest convention); p-value from the bootstrap (no interval computed)",
        },
        p_value=p_value,
        ci_low=ci_low,
        ci_high=ci_high,
        t_stat=float(t_stat),
        null=null,
        t_boot=t_boot,
        draws=draws,
    )


@dataclass(frozen=True)
class RandomizationResult(EstimateTable):
    """Result of :func:`randomization_inference`.

    ``params`` holds the observed statistic; ``distribution`` the statistic under each
    permutation of adoption dates; ``p_value`` the two-sided randomization p-value
    ``(1 + #{|s_perm| >= |s_obs|}) / (1 + n_perm)``. There is no standard error; ``std_errors``
    holds the standard deviation of the permutation distribution (the spread under the null).
    """

    p_value: float = float("nan")
    distribution: np.ndarray | None = None

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series([self.p_value], index=self.params.index)

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        # The permutation test is of the sharp null only; it gives no interval.
        return pd.DataFrame({"ci_low": [np.nan], "ci_high": [np.nan]}, index=self.params.index)

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame["p_value"] = self.p_value
        return frame

    def statement(self) -> str:
        share = self.p_value
        verdict = "unlikely" if share < 1 - self.level else "not unusual"
        return (
            f"Randomization inference ({len(self.distribution):,} permutations of adoption "
            f"dates across {self.info['Units permuted']} units): the observed statistic "
            f"{self.params.iloc[0]:.4g} would be {verdict} if the policy had no effect "
            f"anywhere (p = {share:.3g})."
        )


def randomization_inference(
    data: pd.DataFrame,
    *,
    estimator: Callable[[pd.DataFrame], float],
    unit: str,
    cohort: str,
    n_perm: int = 999,
    seed: int | None = None,
    outcome: str = "",
    label: str = "statistic",
) -> RandomizationResult:
    """Randomization (permutation) inference by permuting adoption dates across units.

    Parameters
    ----------
    data
        Long data with one adoption date per ``unit`` (e.g. agency) in column ``cohort``
        (first treated period; 0 or missing for never treated, as R's did).
    estimator
        Callable taking a data frame shaped like ``data`` and returning the statistic (a
        float), e.g. a TWFE coefficient whose treatment it derives from ``cohort``, or
        ``lambda d: att_gt(d, ...).aggregate("simple").overall_att``.
    unit
        Level at which adoption was assigned (e.g. ``"agency_code"``); every row of one unit
        gets the same permuted date.
    cohort
        Column with the adoption date; it must be constant within each unit.
    n_perm
        Number of random permutations.
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    outcome, label
        Names used in the summary.

    Returns
    -------
    RandomizationResult
        The observed statistic, the permutation distribution and the two-sided p-value.

    Notes
    -----
    Tests the sharp null that the policy changed no unit's outcome; valid in finite samples
    whatever the number of clusters, provided adoption dates are exchangeable across units.
    The p-value counts the observed assignment among the permutations (Phipson and Smyth
    2010), so it is never zero.

    Examples
    --------
    >>> def coefficient(d):
    ...     treated = (d["cohort"] > 0) & (d["year"] >= d["cohort"])
    ...     return twfe(d.assign(treated=treated.astype(float)), outcome="y",
    ...                 treatment="treated", unit="employee", time="year").params["treated"]
    >>> res = randomization_inference(panel, estimator=coefficient, unit="agency",
    ...                               cohort="cohort", n_perm=999, seed=1)  # doctest: +SKIP
    """
    for column in (unit, cohort):
        if column not in data.columns:
            raise KeyError(f"randomization_inference: column {column!r} not found in the data.")
    codes, levels = pd.factorize(data[unit])
    if (codes < 0).any():
        raise ValueError(f"randomization_inference: {unit} has missing values.")
    dates = data[cohort].to_numpy()
    unit_dates = np.empty(len(levels), dtype=dates.dtype)
    unit_dates[codes] = dates
    same = (unit_dates[codes] == dates) | (pd.isna(unit_dates[codes]) & pd.isna(dates))
    if not np.all(same):
        varying = pd.unique(data.loc[~same, unit])
        raise ValueError(
            f"randomization_inference: {cohort} must be constant within each {unit}, but "
            f"it varies in {len(varying):,} of them (e.g. {varying[0]!r}); permute at the "
            "level at which the policy was adopted."
        )
    observed = float(estimator(data))
    rng = np.random.default_rng(seed)
    distribution = np.empty(n_perm)
    from asn_eval.common.draws import track

    for b in track(range(n_perm), step="permutation", total=n_perm):
        permuted = unit_dates[rng.permutation(len(levels))]
        distribution[b] = float(estimator(data.assign(**{cohort: permuted[codes]})))
    extreme = np.abs(distribution) >= abs(observed) - 1e-12 * max(1.0, abs(observed))
    p_value = (1 + int(extreme.sum())) / (1 + n_perm)
    index = pd.Index([label], name="term")
    return RandomizationResult(
        params=pd.Series([observed], index=index, name="estimate"),
        std_errors=pd.Series([float(np.std(distribution, ddof=1))], index=index),
        method="Randomization inference",
        outcome=outcome,
        info={
            "Units permuted": f"{len(levels):,}",
            "Permutations": f"{n_perm:,}",
            "Seed": str(seed),
            "Null hypothesis": "sharp null: no effect for any unit",
            "Std. error column": "standard deviation of the permutation distribution",
        },
        p_value=p_value,
        distribution=distribution,
    )
