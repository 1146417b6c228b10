"""Standard errors from cluster-summed influence functions, and the multiplier bootstrap.

Analytic standard errors (R's did with ``bstrap=FALSE``), the multiplier bootstrap over
clusters (R's ``mboot``, Rademacher weights by default) with its uniform (sup-t) critical
value, and the influence of the estimated cohort-share weights of an aggregation (R's
``wif``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from asn_eval.common.draws import report_draws
from asn_eval.estimators.inference import WEBB_POINTS

# Multiplier-bootstrap weights: Rademacher is R's did's (BMisc::multiplier_bootstrap); Webb's
# six points give more distinct draws with few clusters; Mammen's two points are skewed.
BOOT_WEIGHTS = ("rademacher", "mammen", "webb")
# Below this many clusters Rademacher weights allow too few distinct draws (2**G) for a
# smooth sup-t quantile, and Webb weights are the usual advice (Webb 2023).
FEW_CLUSTERS_WEBB = 12
# R's did reports a standard error as missing below this (sqrt(.Machine$double.eps) * 10).
_ZERO_SE = np.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True, eq=False)
class _Inference:
    """Everything needed to turn influence functions into standard errors.

    Influence functions are stored summed within clusters (one column per cluster; a unit is
    its own cluster without ``cluster``), scaled as in R's did so that
    ``Var(estimate) = adjustment * sum_c IF_c**2 / n_units**2``.
    """

    n_units: int
    cluster_sizes: np.ndarray  # units per cluster, shape (C,)
    cohort_counts: np.ndarray  # units per cluster and treated cohort, shape (C, n_groups)
    groups: np.ndarray  # treated cohorts, sorted
    adjustment: float  # G/(G-1) with clusters, 1 otherwise
    n_boot: int = 0
    seed: int | None = None
    boot_weights: str = "rademacher"
    level: float = 0.95

    clustered: bool = False

    @property
    def n_clusters(self) -> int:
        return int(self.cluster_sizes.size)

    @property
    def df(self) -> int | None:
        """Degrees of freedom G-1 of the t intervals with clustering (None: normal)."""
        return self.n_clusters - 1 if self.clustered and self.n_boot <= 0 else None

    @property
    def pg(self) -> np.ndarray:
        """Share of all units in each treated cohort (R's ``pg``)."""
        return self.cohort_counts.sum(axis=0) / self.n_units

    def vcov(self, influence: np.ndarray) -> np.ndarray:
        return self.adjustment * (influence @ influence.T) / self.n_units**2

    def analytic_se(self, influence: np.ndarray) -> np.ndarray:
        se = np.sqrt(self.adjustment * np.einsum("kc,kc->k", influence, influence)) / self.n_units
        return np.where(se <= _ZERO_SE, np.nan, se)

    def multipliers(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        if self.boot_weights == "rademacher":
            return rng.choice(np.array([-1.0, 1.0]), size=size)
        if self.boot_weights == "webb":
            return WEBB_POINTS[rng.integers(0, WEBB_POINTS.size, size=size)]
        # Mammen (1993) two-point weights: mean 0, variance 1, third moment 1.
        kappa = (np.sqrt(5.0) + 1.0) / 2.0
        draw = rng.random(size) < kappa / np.sqrt(5.0)
        return np.where(draw, 1.0 - kappa, kappa)

    def standard_errors(self, influence: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Analytic SEs, or bootstrap SEs and the sup-t critical value when ``n_boot > 0``."""
        if self.n_boot <= 0:
            return self.analytic_se(influence), None
        return self.bootstrap(influence)

    def bootstrap(self, influence: np.ndarray) -> tuple[np.ndarray, float]:
        """Multiplier bootstrap over clusters (R's ``mboot``): IQR-based SEs and sup-t value.

        The same seed gives the same multipliers for every call, so the bands of the cells
        and of their aggregations come from one set of draws.
        """
        rng = np.random.default_rng(self.seed)
        scale = np.sqrt(self.adjustment) / self.n_units
        draws = np.empty((self.n_boot, influence.shape[0]))
        chunk = max(1, min(self.n_boot, 20_000_000 // max(self.n_clusters, 1)))
        for start in range(0, self.n_boot, chunk):
            stop = min(start + chunk, self.n_boot)
            v = self.multipliers(rng, (stop - start, self.n_clusters))
            draws[start:stop] = scale * (v @ influence.T)
            report_draws("bootstrap", stop, self.n_boot)
        q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0)
        se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
        se = np.where(se <= _ZERO_SE, np.nan, se)
        ok = np.isfinite(se)
        if not ok.any():
            return se, None
        sup_t = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
        crit = float(np.quantile(sup_t, self.level, method="inverted_cdf"))
        return se, crit

    def weight_influence(
        self, cohort_index: np.ndarray, pg: np.ndarray, estimates: np.ndarray
    ) -> np.ndarray:
        """Influence of estimating the cohort-share weights, times the estimates (R's ``wif``).

        For weights ``pg_k / sum(pg)`` over the estimates kept (cohort ``cohort_index[k]``),
        returns ``wif @ estimates`` summed within clusters. R's ``wif`` is
        ``(1{G=g_k} - pg_k) / S - sum_j (1{G=g_j} - pg_j) * pg_k / S**2`` with ``S = sum(pg)``;
        the ``pg`` parts cancel in ``wif @ estimates``, leaving one small matrix product with
        the cluster-by-cohort counts.
        """
        total = pg.sum()
        n_groups = self.cohort_counts.shape[1]
        per_cohort = np.bincount(cohort_index, weights=estimates / total, minlength=n_groups)
        cells_per_cohort = np.bincount(cohort_index, minlength=n_groups)
        coef = per_cohort - cells_per_cohort * (estimates @ pg) / total**2
        return self.cohort_counts @ coef


def _bootstrap_note(inference: _Inference) -> str:
    weights = inference.boot_weights.capitalize()
    note = (
        f"multiplier bootstrap ({inference.n_boot} draws, {weights} weights, seed "
        f"{inference.seed}); bands are uniform (sup-t)"
    )
    if inference.boot_weights == "rademacher" and inference.n_clusters < FEW_CLUSTERS_WEBB:
        note += (
            f"; with {inference.n_clusters} clusters Rademacher weights allow only "
            f"{2**inference.n_clusters} distinct draws: consider boot_weights='webb'"
        )
    return note
