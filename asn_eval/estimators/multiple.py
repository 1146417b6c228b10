"""Multiple-testing control for a family of estimates: Romano-Wolf stepdown and Holm.

A chapter that reports several headline effects (one policy on several outcomes, several
policies on one outcome) tests several hypotheses at once; the chance that at least one
null effect looks significant grows with the family. Two corrections of the family-wise
error rate:

* :func:`holm`: Holm's (1979) step-down Bonferroni correction; valid whatever the
  dependence between the tests, and conservative when they are correlated.
* :func:`romano_wolf`: the Romano and Wolf (2005) step-down procedure, which takes the joint
  distribution of the test statistics from one set of cluster bootstrap draws shared by
  every member of the family, so that correlated estimates (outcomes of the same agencies)
  are not penalised as if they were independent. It is the more powerful of the two.

The bootstrap draws are applied to whatever represents each estimate's sampling error:

* :func:`romano_wolf`: cluster contributions to each estimate (an influence function or
  score summed within clusters), with a multiplier bootstrap (``romano_wolf_results`` takes
  them from estimator results: :func:`did_imputation`, :func:`att_gt` and its aggregations);
* :func:`romano_wolf_twfe`: a family of TWFE regressions, with the restricted wild cluster
  bootstrap of :func:`wild_cluster_bootstrap` (what pyfixest's ``rwolf`` does), which keeps
  the test's size with few clusters.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
Journal of Statistics 6(2), 65-70.
Romano, J. P. and Wolf, M. (2005). Stepwise multiple testing as formalized data snooping.
Econometrica 73(4), 1237-1282.
Clarke, D., Romano, J. P. and Wolf, M. (2020). The Romano-Wolf multiple-hypothesis
correction in Stata. Stata Journal 20(4), 812-843.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .results import EstimateTable

__all__ = [
    "MultipleTestingResult",
    "holm",
    "romano_wolf",
    "romano_wolf_results",
    "romano_wolf_twfe",
]

BOOT_WEIGHTS = ("rademacher", "webb", "mammen")
# Draws are generated in chunks of about this many numbers, to bound memory with many
# clusters and draws.
_CHUNK_NUMBERS = 20_000_000


# --------------------------------------------------------------------------------------
# Holm
# --------------------------------------------------------------------------------------
def holm(pvalues):
    """Holm (1979) step-down adjusted p-values.

    With the ``m`` p-values sorted increasingly, the ``i``-th adjusted p-value is
    ``max_{j <= i} min(1, (m - j + 1) p_(j))``; a hypothesis is rejected at level ``alpha``
    when its adjusted p-value is at most ``alpha``. This controls the family-wise error rate
    under any dependence between the tests (``statsmodels``' ``multipletests(method="holm")``).

    Parameters
    ----------
    pvalues
        Unadjusted p-values (a sequence, array or Series).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Adjusted p-values in the input order (a Series keeps its index).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    values = np.asarray(pvalues, dtype=float)
    if values.ndim != 1:
        raise ValueError("holm: pvalues must be one-dimensional.")
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise ValueError("holm: pvalues must lie in [0, 1] and not be missing.")
    m = values.size
    order = np.argsort(values, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * values[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    if isinstance(pvalues, pd.Series):
        return pd.Series(adjusted, index=pvalues.index, name="p_holm")
    return adjusted


# --------------------------------------------------------------------------------------
# Romano-Wolf
# --------------------------------------------------------------------------------------
def _stepdown(t_stat: np.ndarray, t_boot: np.ndarray) -> np.ndarray:
    """Romano-Wolf step-down adjusted p-values from |t| and bootstrap |t*| (draws x k).

    Hypotheses are taken from the largest |t| down; the ``s``-th is compared with the
    bootstrap maximum of |t*| over itself and the hypotheses after it, and adjusted p-values
    are made monotone (Romano and Wolf 2005, algorithm 4.1; Clarke, Romano and Wolf 2020).
    p-values count the observed statistic among the draws, ``(1 + #) / (1 + B)``.
    """
    t_abs, boot_abs = np.abs(t_stat), np.abs(t_boot)
    n_boot = boot_abs.shape[0]
    order = np.argsort(-t_abs, kind="stable")
    # the running maximum from the last hypothesis in step-down order back to each one
    tail_max = np.maximum.accumulate(boot_abs[:, order[::-1]], axis=1)[:, ::-1]
    raw = (1 + (tail_max >= t_abs[order][None, :]).sum(axis=0)) / (1 + n_boot)
    adjusted = np.empty_like(raw)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(raw))
    return adjusted


def _multipliers(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if kind == "rademacher":
        return rng.integers(0, 2, size=size) * 2.0 - 1.0
    if kind == "webb":
        from .inference import WEBB_POINTS

        return WEBB_POINTS[rng.integers(0, 6, size=size)]
    # Mammen (1993) two-point weights: mean 0, variance 1, third moment 1.
    kappa = (np.sqrt(5.0) + 1.0) / 2.0
    return np.where(rng.random(size) < kappa / np.sqrt(5.0), 1.0 - kappa, kappa)


@dataclass(frozen=True, eq=False)
class MultipleTestingResult(EstimateTable):
    """Adjusted p-values for a family of estimates (index column ``hypothesis``).

    ``params``/``std_errors`` are the members' estimates and standard errors; ``p_value``
    the unadjusted bootstrap p-value of each member alone; ``p_romano_wolf`` and ``p_holm``
    the Romano-Wolf and Holm adjusted p-values (Holm applied to ``p_value``). ``t_stat``
    holds the observed t-statistics and ``t_boot`` the bootstrap ones (draws x members),
    all from the same cluster draws.
    """

    p_value: pd.Series | None = None
    p_romano_wolf: pd.Series | None = None
    p_holm: pd.Series | None = None
    t_stat: pd.Series | None = None
    t_boot: np.ndarray | None = field(default=None, repr=False)
    null: float = 0.0

    @property
    def pvalues(self) -> pd.Series:
        return self.p_value

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame["p_value"] = self.p_value.to_numpy()
        frame["p_holm"] = self.p_holm.to_numpy()
        frame["p_romano_wolf"] = self.p_romano_wolf.to_numpy()
        return frame

    def rejected(self, alpha: float = 0.05, *, method: str = "romano_wolf") -> pd.Series:
        """Whether each null is rejected at family-wise level ``alpha``."""
        p = {"romano_wolf": self.p_romano_wolf, "holm": self.p_holm}.get(method)
        if p is None:
            raise ValueError(f"method must be 'romano_wolf' or 'holm'; got {method!r}.")
        return p <= alpha

    def statement(self) -> str:
        k = len(self.params)
        alpha = round(1 - self.level, 10)
        n_rw = int(self.rejected(alpha).sum())
        n_holm = int(self.rejected(alpha, method="holm").sum())
        n_raw = int((self.p_value <= alpha).sum())
        return (
            f"Of {k} effects tested jointly ({self.info.get('Bootstrap', 'bootstrap')}), "
            f"{n_raw} differ from {self.null:g} at the {alpha:g} level one by one, {n_rw} "
            f"after the Romano-Wolf correction and {n_holm} after Holm's."
        )


def _labels(labels, k: int, default: pd.Index | None) -> pd.Index:
    if labels is not None:
        labels = pd.Index(list(labels), name="hypothesis")
        if len(labels) != k:
            raise ValueError(f"romano_wolf: {len(labels)} labels for {k} estimates.")
        return labels
    if default is not None:
        return pd.Index(default, name="hypothesis")
    return pd.Index(range(k), name="hypothesis")


def romano_wolf(
    estimates,
    influence,
    *,
    clusters=None,
    std_errors=None,
    null: float = 0.0,
    n_boot: int = 9999,
    seed: int | None = None,
    weights: str = "rademacher",
    labels: Sequence | None = None,
    df: float | None = None,
    level: float = 0.95,
    method: str = "",
) -> MultipleTestingResult:
    """Romano-Wolf step-down adjusted p-values from one shared cluster multiplier bootstrap.

    Each member ``k`` of the family has an estimate and its influence: contributions whose
    sum is the estimation error, ``estimate_k - theta_k ~ sum_j influence[k, j]`` (an
    influence function by observation, or its sums by cluster). Every bootstrap draw
    multiplies the cluster sums of all members by the same cluster weights ``xi_c``, so
    the draws ``t*_k = sum_c xi_c psi_kc / se_k`` keep the joint dependence of the family.
    The test statistics are ``t_k = (estimate_k - null) / se_k``.

    Parameters
    ----------
    estimates
        The family's estimates, length ``k`` (a Series gives the labels).
    influence
        Array (k x n). Columns are clusters unless ``clusters`` is given.
    clusters
        Cluster label of each column (length n); columns of one cluster are summed.
    std_errors
        Standard errors used to studentise; default ``sqrt(sum_c psi_kc**2)``, the
        clustered standard error implied by the influence (no small-sample factor).
    null
        Value of every effect under the null hypotheses.
    n_boot, seed, weights
        Number of draws, their seed and the multiplier distribution: ``"rademacher"``
        (default, as R's did), ``"webb"`` (six-point, for fewer than ~12 clusters) or
        ``"mammen"``.
    labels
        Names of the family's members (the hypotheses).
    df
        Degrees of freedom of the members' t reference (e.g. ``G - 1`` with few clusters),
        or ``None`` for the normal. The multiplier draws are (close to) normal; with ``df``
        each observed ``|t|`` is first mapped to the normal quantile of the same t(df) tail
        probability, so that each member's own p-value is its t(df) p-value while the draws
        still give the family's joint dependence. The procedure controls the family-wise
        error rate only as well as the members' own tests control their size: for four
        correlated outcomes of imputation estimates (leave-out variance) it was 3.3% with 80
        agencies but 9.3% with 30 (cohorts of about 5 agencies, where each member alone
        rejected 6.7% at 5%; tests/test_multiple.py).
    level
        Family-wise confidence level used by ``statement`` and ``rejected``.
    method
        Name shown in the summary.

    Returns
    -------
    MultipleTestingResult
        ``to_frame()`` has ``hypothesis``, ``estimate``, ``std_error``, ``ci_low``,
        ``ci_high`` (pointwise), ``p_value``, ``p_holm``, ``p_romano_wolf``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> psi = rng.normal(size=(3, 40)) / 40  # cluster contributions of three estimates
    >>> res = romano_wolf([0.5, 0.05, 0.0], psi, n_boot=999, seed=1)
    >>> bool(res.p_romano_wolf.iloc[0] < 0.01)
    True
    """
    if weights not in BOOT_WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(BOOT_WEIGHTS)}; got {weights!r}.")
    if n_boot < 1:
        raise ValueError("romano_wolf: n_boot must be at least 1.")
    est = np.atleast_1d(np.asarray(estimates, dtype=float))
    psi = np.atleast_2d(np.asarray(influence, dtype=float))
    if psi.shape[0] != est.size:
        raise ValueError(
            f"romano_wolf: influence has {psi.shape[0]} rows for {est.size} estimates; "
            "give one row per estimate."
        )
    if clusters is not None:
        clusters = np.asarray(clusters)
        if clusters.size != psi.shape[1]:
            raise ValueError(
                f"romano_wolf: {clusters.size} cluster labels for {psi.shape[1]} influence columns."
            )
        codes, uniques = pd.factorize(clusters, sort=True)
        psi = np.vstack([np.bincount(codes, weights=row, minlength=len(uniques)) for row in psi])
    n_clusters = psi.shape[1]
    if n_clusters < 2:
        raise ValueError("romano_wolf: the bootstrap needs at least 2 clusters.")
    se = (
        np.sqrt(np.einsum("kc,kc->k", psi, psi))
        if std_errors is None
        else np.asarray(std_errors, dtype=float)
    )
    if not np.all(se > 0):
        raise ValueError("romano_wolf: every estimate needs a positive standard error.")
    rng = np.random.default_rng(seed)
    t_boot = np.empty((n_boot, est.size))
    chunk = max(1, _CHUNK_NUMBERS // n_clusters)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        xi = _multipliers(weights, (stop - start, n_clusters), rng)
        t_boot[start:stop] = (xi @ psi.T) / se
    t_stat = (est - null) / se
    names = _labels(labels, est.size, estimates.index if isinstance(estimates, pd.Series) else None)
    reference = "normal"
    if df is not None:
        reference = f"t({df:g}) marginals"
    info = {
        "Members": f"{est.size}",
        "Clusters": f"{n_clusters:,}",
        "Bootstrap": f"multiplier bootstrap, {n_boot:,} draws, {weights.capitalize()} "
        f"weights shared by every member, seed {seed}",
        "Null hypotheses": f"each effect = {null:g}",
        "Test statistics": f"t = estimate / standard error, {reference}",
        "Adjusted p-values": "Romano-Wolf step-down (p_romano_wolf); Holm on the bootstrap "
        "p-values (p_holm)",
    }
    return _result(est, se, t_stat, t_boot, names, info, null, level, method, df=df)


def _result(
    est, se, t_stat, t_boot, names, info, null, level, method, *, df=None
) -> MultipleTestingResult:
    n_boot = t_boot.shape[0]
    compared = np.abs(t_stat)
    if df is not None:
        # the normal quantile with the same two-sided tail probability as |t| under t(df)
        compared = stats.norm.isf(stats.t.sf(compared, df))
    p_single = (1 + (np.abs(t_boot) >= compared[None, :]).sum(axis=0)) / (1 + n_boot)
    p_rw = _stepdown(compared, t_boot)
    return MultipleTestingResult(
        params=pd.Series(est, index=names, name="estimate"),
        std_errors=pd.Series(se, index=names, name="std_error"),
        method=method or "Romano-Wolf multiple testing",
        outcome=", ".join(map(str, names)),
        level=level,
        info=info,
        p_value=pd.Series(p_single, index=names, name="p_value"),
        p_romano_wolf=pd.Series(p_rw, index=names, name="p_romano_wolf"),
        p_holm=pd.Series(holm(p_single), index=names, name="p_holm"),
        t_stat=pd.Series(t_stat, index=names, name="t_stat"),
        t_boot=t_boot,
        null=null,
    )


# --------------------------------------------------------------------------------------
# A family of estimator results
# --------------------------------------------------------------------------------------
def _member(result) -> tuple[float, float, np.ndarray, np.ndarray | None, str]:
    """(estimate, standard error, cluster contributions, cluster labels, outcome) of a result.

    Supported: :func:`did_imputation` results (overall ATT), :func:`att_gt` results (their
    simple aggregation), their aggregations, and Callaway-Sant'Anna event studies (overall
    ATT over event times >= 0). The contributions are rebuilt from the stored influence
    functions and checked against the result's own standard error.
    """
    from . import did
    from .imputation import ImputationResult

    if isinstance(result, ImputationResult):
        return (
            result.overall_att,
            result.overall_se,
            result.scores[-1],
            result.cluster_labels,
            result.outcome,
        )
    if isinstance(result, did.EventStudyResult):
        if not isinstance(result.source, did.GroupTimeResult):
            raise TypeError(
                "romano_wolf_results: a TWFE event study keeps no influence function; use "
                "romano_wolf_twfe for a family of regressions."
            )
        index = result.params.index
        result = result.source.aggregate("dynamic", min_e=index.min(), max_e=index.max())
    if isinstance(result, did.GroupTimeResult):
        result = result.aggregate("simple")
    if not isinstance(result, did.AggregateResult):
        raise TypeError(
            "romano_wolf_results takes did_imputation, att_gt, aggregation or CS event-study "
            f"results; got {type(result).__name__} (for regressions use romano_wolf_twfe)."
        )
    inf = result.inference
    rows = result.influence
    labels = np.asarray(result.params.index)
    if result.kind == "simple":
        overall = rows[0]
    elif result.kind == "dynamic":
        overall = rows[labels >= 0].mean(axis=0)
    elif result.kind == "calendar":
        overall = rows.mean(axis=0)
    else:  # group: cohort-size weights, plus the influence of estimating them
        used = np.searchsorted(inf.groups.astype(float), labels.astype(float))
        pg = inf.pg[used]
        overall = (pg / pg.sum()) @ rows + inf.weight_influence(
            used, pg, result.params.to_numpy(dtype=float)
        )
    psi = np.sqrt(inf.adjustment) * overall / inf.n_units
    se = float(np.sqrt(psi @ psi))
    if inf.n_boot <= 0 and not np.isclose(se, result.overall_se, rtol=1e-8):
        raise RuntimeError(
            "romano_wolf_results: the influence function of this att_gt result does not "
            f"reproduce its standard error ({se:.6g} vs {result.overall_se:.6g}); the result "
            "format has changed, so the family cannot be bootstrapped from it."
        )
    return result.overall_att, se, psi, None, result.outcome


def romano_wolf_results(
    results: Sequence,
    *,
    labels: Sequence | None = None,
    null: float = 0.0,
    n_boot: int = 9999,
    seed: int | None = None,
    weights: str = "rademacher",
    df: float | str | None = "auto",
    level: float = 0.95,
) -> MultipleTestingResult:
    """Romano-Wolf and Holm adjusted p-values for a family of estimator results.

    Each result's headline estimate (the overall ATT) and its cluster contributions enter
    :func:`romano_wolf`, with one set of cluster draws shared by the family. Typical use: the
    same policy's ``att_gt`` or ``did_imputation`` results on several outcomes of the same
    agency panel, clustered by agency.

    Parameters
    ----------
    results
        :func:`did_imputation` results, :func:`att_gt` results (simple aggregation), their
        ``aggregate(...)`` results or CS :func:`event_study` results, all clustered on the
        same clusters.
    labels
        Names of the members; default the results' outcomes.
    df
        ``"auto"``: the results' own t reference (``G - 1`` when they were clustered on a
        column, as their intervals; normal otherwise); or a number, or ``None`` (normal).
    null, n_boot, seed, weights, level
        As :func:`romano_wolf`.

    Returns
    -------
    MultipleTestingResult

    Notes
    -----
    The standard errors are the results' analytic ones (without their small-sample factor
    ``G/(G-1)`` for att_gt, which cancels in the bootstrap t-statistics). Imputation results
    carry their cluster labels and are aligned on them; att_gt results do not, and are
    aligned by position (clusters in sorted label order), so they must keep the same clusters
    (same panel and cluster column, no unit dropped by one outcome only).

    Examples
    --------
    >>> fam = romano_wolf_results([res_skp, res_ikm, res_absence], seed=1)  # doctest: +SKIP
    >>> fam.to_frame()[["hypothesis", "estimate", "p_romano_wolf"]]  # doctest: +SKIP
    """
    if len(results) < 1:
        raise ValueError("romano_wolf_results: the family is empty.")
    members = [_member(r) for r in results]
    est = np.array([m[0] for m in members])
    se = np.array([m[1] for m in members])
    sizes = {m[2].size for m in members}
    if all(m[3] is not None for m in members):
        union = np.unique(np.concatenate([np.asarray(m[3]) for m in members]))
        psi = np.zeros((len(members), union.size))
        for k, m in enumerate(members):
            psi[k, np.searchsorted(union, m[3])] = m[2]
    elif len(sizes) == 1:
        psi = np.vstack(
            [m[2] if m[3] is None else m[2][np.argsort(m[3], kind="stable")] for m in members]
        )
    else:
        raise ValueError(
            "romano_wolf_results: the results have different numbers of clusters "
            f"({sorted(sizes)}); the family must share one set of clusters."
        )
    names = labels if labels is not None else [m[4] for m in members]
    if isinstance(df, str):
        if df != "auto":
            raise ValueError(f"df must be 'auto', a number or None; got {df!r}.")
        own = {getattr(r, "df", None) for r in results}
        df = own.pop() if len(own) == 1 else None
    return romano_wolf(
        est, psi, std_errors=se, null=null, n_boot=n_boot, seed=seed, weights=weights,
        labels=names, df=df, level=level,
        method="Romano-Wolf multiple testing (estimator results)",
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# A family of TWFE regressions, wild cluster bootstrap
# --------------------------------------------------------------------------------------
def romano_wolf_twfe(
    data: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    treatment: str | Sequence[str],
    unit: str,
    time: str,
    cluster: str,
    covariates: Sequence[str] = (),
    coef: str | None = None,
    null: float = 0.0,
    n_boot: int = 9999,
    seed: int | None = None,
    weights: str = "rademacher",
    level: float = 0.95,
) -> MultipleTestingResult:
    """Romano-Wolf adjusted p-values for one TWFE coefficient across several outcomes.

    Every outcome's regression (:func:`twfe`, clustered CRV1) is bootstrapped with the
    restricted wild cluster bootstrap-t of :func:`wild_cluster_bootstrap` (null imposed),
    using the same cluster weights in every regression, so that the bootstrap t-statistics
    keep their joint distribution; then the Romano-Wolf step-down (as pyfixest's ``rwolf``).

    Parameters
    ----------
    data, treatment, unit, time, cluster, covariates
        As :func:`wild_cluster_bootstrap`.
    outcomes
        The family: one regression per outcome column.
    coef
        The coefficient tested in every regression; the first treatment by default.
    null, n_boot, seed, weights, level
        As :func:`wild_cluster_bootstrap` (``weights`` ``"rademacher"`` or ``"webb"``).

    Returns
    -------
    MultipleTestingResult
        Estimates, CRV1 standard errors, bootstrap p-values one by one, Holm and
        Romano-Wolf adjusted p-values.

    Examples
    --------
    >>> fam = romano_wolf_twfe(panel, outcomes=["skp", "ikm", "absence"], treatment="treated",
    ...     unit="agency", time="year", cluster="agency", seed=1)  # doctest: +SKIP
    """
    from .inference import _draw_weights, _WildBootstrap
    from .twfe import _as_list, _fit

    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if not outcomes:
        raise ValueError("romano_wolf_twfe: give at least one outcome.")
    if cluster not in data.columns:
        raise KeyError(f"romano_wolf_twfe: cluster column {cluster!r} not found in the data.")
    regressors = list(dict.fromkeys(_as_list(treatment) + list(covariates)))
    all_labels = np.unique(data[cluster].dropna().to_numpy())
    draws = _draw_weights(weights, n_boot, all_labels.size, seed)
    est, se, t_stat, t_boot = [], [], [], np.empty((n_boot, len(outcomes)))
    for k, outcome in enumerate(outcomes):
        fit = _fit(
            data, outcome=outcome, treatment=treatment, unit=unit, time=time,
            covariates=covariates, cluster=cluster, caller="romano_wolf_twfe",
        )  # fmt: skip
        name = fit.names[0] if coef is None else coef
        if name not in fit.names:
            raise ValueError(f"romano_wolf_twfe: {name!r} is not a regressor of {fit.names}.")
        # the cluster label behind each of this regression's cluster codes (rows with a
        # missing value in a used column were dropped by the fit, as here)
        used = [outcome, *regressors, unit, time, cluster]
        kept = data[used].notna().all(axis=1).to_numpy()
        code_labels = np.empty(fit.n_clusters, dtype=all_labels.dtype)
        code_labels[fit.cluster_codes] = data.loc[kept, cluster].to_numpy()
        boot = _WildBootstrap(
            fit, fit.names.index(name), draws[:, np.searchsorted(all_labels, code_labels)]
        )
        observed, t_boot[:, k] = boot.statistics(null)
        est.append(boot.estimate)
        se.append(boot.std_error)
        t_stat.append(observed)
    info = {
        "Members": f"{len(outcomes)} regressions of {unit} and {time} fixed effects",
        "Coefficient": str(coef or _as_list(treatment)[0]),
        "Clusters": f"{all_labels.size:,} ({cluster})",
        "Bootstrap": f"restricted wild cluster bootstrap-t (WCR), {n_boot:,} draws, "
        f"{weights.capitalize()} weights shared by every regression, seed {seed}",
        "Standard errors": "CRV1 (fixest convention)",
        "Adjusted p-values": "Romano-Wolf step-down (p_romano_wolf); Holm on the bootstrap "
        "p-values (p_holm)",
    }
    return _result(
        np.array(est), np.array(se), np.array(t_stat), t_boot, _labels(outcomes, len(est), None),
        info, null, level, "Romano-Wolf multiple testing (TWFE, wild cluster bootstrap)",
    )  # fmt: skip
