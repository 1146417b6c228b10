"""Sensitivity of an event-study effect to violations of parallel trends.

Why one module of ~1,000 lines: both HonestDiD restrictions (relative magnitudes with
the conditional least-favourable hybrid, smoothness with FLCI) share the event-study
inputs, the breakdown search and the result object.

Rambachan and Roth (2023, "A More Credible Approach to Parallel Trends", Review of Economic
Studies 90(5)) replace the assumption that post-treatment trends are exactly parallel by a
bound on how far they may depart from it, and give confidence intervals for the effect that
are valid whenever the departure lies in that bound. Reporting the intervals for a range of
bounds, and the *breakdown value* (the largest bound at which the effect is still
significant), says how much a conclusion leans on parallel trends. Two bounds are offered, each
with the inference method the authors' R package HonestDiD uses by default:

* ``method="relative_magnitude"``, Delta^RM(Mbar): every post-treatment change in the
  differential trend (``delta_t - delta_{t-1}``, t >= 0) is at most Mbar times the largest
  such change between consecutive pre-treatment periods. Mbar = 1: no post-treatment
  violation bigger than the worst one seen before treatment. Inference by the conditional
  least-favourable hybrid test ("C-LF") of Andrews, Roth and Pakes (2023, "Inference for
  Linear Conditional Moment Inequalities", Review of Economic Studies), first-stage size
  ``kappa = alpha / 10``, inverted over a grid of values of the effect.
* ``method="smoothness"``, Delta^SD(M): the slope of the differential trend changes by at
  most M between consecutive periods (M = 0: the pre-trend continues exactly linearly).
  Inference by the optimal fixed-length confidence interval ("FLCI") over affine estimators
  (Armstrong and Kolesar 2018; Rambachan and Roth 2023, section 4.1).

The event-study coefficients enter as HonestDiD takes them: ``betahat`` lists the
pre-treatment coefficients (event times -T..-2) then the post-treatment ones (0..Tbar-1),
the reference period -1 normalised to zero and left out, with their covariance ``sigma``.
Inference is normal (HonestDiD has no degrees-of-freedom correction).

Computation. HonestDiD solves one linear programme per grid point and per simulation draw.
Here the dual of that programme, ``max {g'y : g >= 0, g'sd = 1, X'g = 0}``, is solved once
for all: its feasible set does not depend on the data, so its vertices are enumerated and
every test statistic becomes a maximum of linear functions, evaluated for the whole grid and
all least-favourable draws at once. The conditioning set of the ARP test (the values of the
statistic for which the maximising vertex stays optimal) follows from the same vertices in
closed form. The answer is the test HonestDiD computes, not an approximation of it; the
least-favourable critical value is simulated with numpy's generator (seeded, as moderndid
does), so it differs from R's by Monte Carlo error only.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from asn_eval.estimators.results import Summary, plotting_backend

__all__ = ["HonestResult", "honest_did", "honest_did_from_estimates"]

# method -> (inference method, restriction, name of the bound)
METHODS: dict[str, tuple[str, str, str]] = {
    "relative_magnitude": ("C-LF", "Delta^RM(Mbar)", "Mbar"),
    "smoothness": ("FLCI", "Delta^SD(M)", "M"),
}
# HonestDiD's defaults: ten values of Mbar on [0, 2]; a 1000-point grid of the effect on
# +/- 20 standard errors around zero; 1000 draws for the least-favourable critical value.
DEFAULT_MBAR = tuple(np.linspace(0.0, 2.0, 10))
GRID_POINTS = 1000
GRID_HALF_WIDTH = 20.0
LF_DRAWS = 1000
# The dual's extreme rays are enumerated over subsets of moments: C(2 * Tbar, Tbar) of them,
# which allows up to 8 post-treatment periods (12,870 subsets) before memory is a concern.
MAX_VERTEX_SUBSETS = 20_000
# Breakdown search: values of M scanned before bisection, and the bisection's final width
# relative to the scanned range.
BREAKDOWN_SCAN = 11
BREAKDOWN_TOLERANCE = 1e-4
BREAKDOWN_MAX_DOUBLINGS = 12
# Grid-end extension when the robust interval reaches the edge of the grid (doublings).
MAX_GRID_EXTENSIONS = 20
# Points per refinement round of an interval end.
EDGE_POINTS = 64


# ---------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class HonestResult:
    """Robust confidence intervals for one event-study effect over a range of bounds.

    Attributes
    ----------
    intervals
        One row per value of the bound (``m``, ``ci_low``, ``ci_high``).
    original
        ``(ci_low, ci_high)``: the normal interval under exact parallel trends.
    estimate, std_error
        ``l' beta_post`` and its standard error.
    breakdown
        Largest value of the bound at which the robust interval still excludes zero (NaN
        when no value does, ``inf`` when every value searched does); see
        :func:`honest_did_from_estimates` for how it is found.
    method
        ``"relative_magnitude"`` or ``"smoothness"``.
    label
        What the effect is, e.g. ``"the effect at event time 0"``.
    outcome
        Name of the outcome, when known.
    level
        Confidence level.
    info
        Facts shown in the summary (restriction, inference method, periods, grid).
    """

    intervals: pd.DataFrame
    original: tuple[float, float]
    estimate: float
    std_error: float
    breakdown: float
    method: str
    label: str = "the effect"
    outcome: str | None = None
    level: float = 0.95
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def inference(self) -> str:
        """``"C-LF"`` (relative magnitudes) or ``"FLCI"`` (smoothness)."""
        return METHODS[self.method][0]

    @property
    def bound_name(self) -> str:
        """``"Mbar"`` or ``"M"``."""
        return METHODS[self.method][2]

    def to_frame(self) -> pd.DataFrame:
        """Columns ``m``, ``ci_low``, ``ci_high``, ``interval`` (``"original"`` for the
        parallel-trends interval, whose ``m`` is missing, then ``"robust"`` rows)."""
        original = pd.DataFrame(
            {
                "m": [np.nan],
                "ci_low": [self.original[0]],
                "ci_high": [self.original[1]],
                "interval": ["original"],
            }
        )
        robust = self.intervals[["m", "ci_low", "ci_high"]].assign(interval="robust")
        return pd.concat([original, robust], ignore_index=True)

    def statement(self) -> str:
        """One paragraph in plain English on how robust the effect is."""
        pct = round(self.level * 100)
        lo, hi = self.original
        subject = self.label[0].upper() + self.label[1:]
        if self.outcome:
            subject += f" on {self.outcome}"
        head = (
            f"{subject} is {self.estimate:.4g} ({pct}% CI {lo:.4g} to {hi:.4g} under exact "
            "parallel trends)."
        )
        if lo <= 0 <= hi:
            return (
                head + " The interval already covers zero, so there is no significant effect "
                "whose robustness to violations of parallel trends could be assessed."
            )
        if self.method == "relative_magnitude":
            what = (
                "post-treatment violations of parallel trends are at most {b} times as large "
                "as the largest pre-treatment violation"
            )
        else:
            what = (
                "the slope of the differential trend changes by at most {b} per period (a "
                "linear pre-trend may continue)"
            )
        b = self.breakdown
        if np.isnan(b):
            zero = "0"
            return (
                head + f" Its {pct}% robust interval ({self.inference}) covers zero already at "
                f"{self.bound_name} = {zero}: the effect is not robust to any violation of "
                "parallel trends of this kind."
            )
        if np.isinf(b):
            top = self.info.get("breakdown searched up to", "the largest value searched")
            return (
                head
                + " It stays significant for every bound searched, "
                + what.format(b=top)
                + f" (breakdown {self.bound_name} above {top})."
            )
        return (
            head
            + " It stays significant as long as "
            + what.format(b=f"{b:.3g}")
            + f"; beyond that the {pct}% robust interval ({self.inference}) covers zero "
            f"(breakdown value {self.bound_name} = {b:.3g})."
        )

    def summary(self) -> HonestSummary:
        return HonestSummary(self)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())

    def plot(self, ax=None, **kwargs):
        """Robust intervals against the bound, the original interval at the left; returns the
        Axes (see :func:`asn_eval.report.plots.sensitivity`: ``lang``, ``legend``)."""
        return plotting_backend().sensitivity(self, ax=ax, **kwargs)


@dataclass(frozen=True)
class HonestSummary(Summary):
    """Text and HTML rendering of a :class:`HonestResult` (the estimators' layout, its own
    header)."""

    result: HonestResult
    label_width: ClassVar[int] = 26
    na_rep: ClassVar[str] = ""

    def _header(self) -> list[tuple[str, str]]:
        r = self.result
        rows = [
            ("Method", f"Rambachan-Roth sensitivity analysis, {METHODS[r.method][1]}"),
            ("Inference", r.inference),
            ("Effect", r.label),
        ]
        if r.outcome:
            rows.append(("Outcome", r.outcome))
        rows.append(("Estimate (SE)", f"{r.estimate:.4f} ({r.std_error:.4f})"))
        rows.append((f"Breakdown {r.bound_name}", f"{r.breakdown:.4g}"))
        rows += [(str(k), str(v)) for k, v in r.info.items()]
        return rows


# ---------------------------------------------------------------------------------------
# Relative magnitudes: the conditional least-favourable hybrid test
# ---------------------------------------------------------------------------------------
def _rm_moments(num_pre: int, num_post: int, mbar: float, j: int, sign: float) -> np.ndarray:
    """Moments ``A delta <= 0`` of one polyhedron of Delta^RM(Mbar), post-period rows only.

    Periods run -num_pre..num_post with 0 the reference (HonestDiD's indexing; event time
    -1 is its period 0). Row ``r`` of the first-difference matrix is ``delta_{r+1} -
    delta_r`` in that order; pre-treatment difference ``j`` (0 = the earliest) is taken as
    the largest, with sign ``sign``. Each post-treatment difference ``x`` gives the rows
    ``x - Mbar * ref <= 0`` and ``-x - Mbar * ref <= 0`` (all ``+`` rows first, as
    HonestDiD orders them). HonestDiD's default keeps only these rows
    (``postPeriodMomentsOnly``); the column of period 0 is dropped.
    """
    n = num_pre + num_post
    diff = np.zeros((n, n + 1))
    diff[np.arange(n), np.arange(n)] = -1.0
    diff[np.arange(n), np.arange(1, n + 1)] = 1.0
    ref = sign * diff[j]
    post = diff[num_pre:]
    a = np.vstack([post - mbar * ref, -post - mbar * ref])
    return np.delete(a, num_pre, axis=1)


@functools.lru_cache(maxsize=64)
def _cone_rays(num_post: int, l_key: tuple[float, ...]) -> np.ndarray:
    """Extreme rays (rows, summing to one) of ``{g >= 0 : X'g = 0}``.

    ``X`` is the nuisance part of the post-period moments: the post-period columns of
    ``[D; -D]`` (``D`` the first differences) times a basis of ``{tau : l'tau = 0}``. It does
    not depend on Mbar, on the pre-period difference taken as the largest, or on its sign, so
    the rays are found once; each polyhedron's dual vertices are the rays scaled to
    ``g'sd = 1``. A ray has at most ``k + 1`` non-zero entries (``k`` nuisance parameters):
    every set of ``k + 1`` moments whose ``X`` rows have rank ``k`` is tried.
    """
    l_vec = np.asarray(l_key, dtype=float)
    diff = np.eye(num_post) - np.eye(num_post, k=-1)
    a_post = np.vstack([diff, -diff])
    m = a_post.shape[0]
    if num_post == 1:
        return np.eye(m)
    _, _, vt = np.linalg.svd(l_vec.reshape(1, -1))
    x = a_post @ vt[1:].T
    k = x.shape[1]
    n_subsets = math.comb(m, k + 1)
    if n_subsets > MAX_VERTEX_SUBSETS:
        raise ValueError(
            f"honest_did: {num_post} post-treatment periods give {n_subsets} candidate "
            f"vertices, more than the {MAX_VERTEX_SUBSETS} this implementation enumerates; "
            "use a shorter event window (fewer post-treatment periods)."
        )
    subsets = np.array(list(itertools.combinations(range(m), k + 1)), dtype=int)
    u, sv, _ = np.linalg.svd(x[subsets])  # left null vector: last column of u
    regular = sv[:, -1] > 1e-10 * sv[:, 0]
    null = u[regular, :, -1]
    null = null * np.where(null.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
    ray = (null >= -1e-12).all(axis=1)
    rays = np.zeros((int(ray.sum()), m))
    rays[np.arange(rays.shape[0])[:, None], subsets[regular][ray]] = np.clip(null[ray], 0, None)
    rays /= rays.sum(axis=1, keepdims=True)
    _, keep = np.unique(np.round(rays, 10), axis=0, return_index=True)
    rays = rays[np.sort(keep)]
    rays.flags.writeable = False
    return rays


def _truncnorm_quantile(p: float, lo: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of the standard normal truncated to ``[lo, up]``, stable in the tails.

    Above zero the upper-tail probabilities are used, below it the lower-tail ones, both on
    the log scale (as R's TruncatedNormal::norminvp is accurate far in the tails).
    """
    lo, up = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(up, dtype=float))
    out = np.empty(lo.shape)
    right = lo >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if right.any():
            log_a, log_b = special.log_ndtr(-lo[right]), special.log_ndtr(-up[right])
            log_sf = log_a + np.log1p(-p * (-np.expm1(log_b - log_a)))
            out[right] = -special.ndtri_exp(log_sf)
        left = ~right
        if left.any():
            log_a, log_b = special.log_ndtr(lo[left]), special.log_ndtr(up[left])
            log_cdf = log_b + np.log1p(-(1 - p) * (-np.expm1(log_a - log_b)))
            out[left] = special.ndtri_exp(log_cdf)
    return np.clip(out, lo, up)


@dataclass(frozen=True)
class _LfComponent:
    """The C-LF test of one polyhedron, ready to evaluate at any value of the effect."""

    vertices: np.ndarray  # dual vertices (rows), moments scaled by their sd
    g_y: np.ndarray  # vertices @ y(0)
    g_a: np.ndarray  # vertices @ a: y(theta) = y(0) - a * theta
    sigma_y: np.ndarray
    lf_cv: float
    size: float  # second-stage size (alpha - kappa) / (1 - kappa)

    def accept(self, theta: np.ndarray) -> np.ndarray:
        """True where the hybrid test does not reject ``l' tau_post = theta``."""
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        if self.vertices.shape[0] == 0:  # statistic unbounded below: never rejects
            return np.ones(theta.shape, dtype=bool)
        values = self.g_y[:, None] - self.g_a[:, None] * theta[None, :]
        best = values.argmax(axis=0)
        cols = np.arange(theta.size)
        eta = values[best, cols]
        g_best = self.vertices[best]  # (n_theta, m)
        sig_g = self.sigma_y @ g_best.T  # (m, n_theta)
        var_b = np.einsum("tm,mt->t", g_best, sig_g)
        with np.errstate(divide="ignore", invalid="ignore"):
            # y = s + b * (g*' y): the statistic stays g*'y while g* stays optimal, i.e.
            # while g'(s + b c) <= c for every vertex g: c >= (g's)/(1 - g'b) or <=.
            g_b = self.vertices @ (sig_g / var_b)
            slope = 1.0 - g_b
            level = values - g_b * eta
            ratio = level / slope
            vlo = np.where(slope > 1e-10, ratio, -np.inf).max(axis=0)
            vup = np.where(slope < -1e-10, ratio, np.inf).min(axis=0)
            sd_b = np.sqrt(var_b)
            stat = eta / sd_b
            zlo = vlo / sd_b
            zup = np.minimum(vup, self.lf_cv) / sd_b
        reject = eta > self.lf_cv
        second = ~reject & (zlo <= stat) & (stat <= zup) & (var_b > np.finfo(float).eps)
        if second.any():
            lo, up = zlo[second], zup[second]
            cval = np.full(lo.shape, np.inf)
            wide = up - lo > 1e-12
            cval[wide] = _truncnorm_quantile(1.0 - self.size, lo[wide], up[wide])
            cval[~wide] = lo[~wide]
            reject[second] = stat[second] > np.maximum(cval, 0.0)
        degenerate = var_b <= np.finfo(float).eps
        reject[degenerate] = eta[degenerate] > 0
        return ~reject


def _lf_component(
    betahat, sigma, num_pre, num_post, l_vec, mbar, j, sign, alpha, kappa, draws, seed
) -> _LfComponent:
    a = _rm_moments(num_pre, num_post, mbar, j, sign)
    sigma_y = a @ sigma @ a.T
    sd = np.sqrt(np.diag(sigma_y))
    if np.any(sd <= 0):
        raise ValueError("honest_did: a moment of the restriction has zero variance.")
    a_post = a[:, num_pre:]
    target = l_vec / (l_vec @ l_vec)  # any tau with l'tau = 1: the rest is nuisance
    rays = _cone_rays(num_post, tuple(float(x) for x in l_vec))
    vertices = rays / (rays @ sd)[:, None]
    rng = np.random.default_rng(seed)
    xi = rng.multivariate_normal(np.zeros(sigma_y.shape[0]), sigma_y, size=draws)
    eta = (vertices @ xi.T).max(axis=0) if vertices.shape[0] else np.full(draws, -np.inf)
    return _LfComponent(
        vertices=vertices,
        g_y=vertices @ (a @ betahat),
        g_a=vertices @ (a_post @ target),
        sigma_y=sigma_y,
        lf_cv=float(np.quantile(eta, 1.0 - kappa)),
        size=(alpha - kappa) / (1.0 - kappa),
    )


def _rm_components(betahat, sigma, num_pre, num_post, l_vec, mbar, alpha, draws, seed):
    kappa = alpha / 10.0
    return [
        _lf_component(
            betahat, sigma, num_pre, num_post, l_vec, mbar, j, sign, alpha, kappa, draws, seed
        )
        for j in range(num_pre)
        for sign in (1.0, -1.0)
    ]


def _union_accept(components: list[_LfComponent], theta) -> np.ndarray:
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    out = np.zeros(theta.shape, dtype=bool)
    for comp in components:
        out |= comp.accept(theta)
    return out


def _edge(components, inside: float, outside: float) -> float:
    """Boundary between an accepted and a rejected value of the effect, to ~1e-12.

    Rounds of a vectorised 64-point grid between the two (each round narrows the bracket
    63-fold), rather than scalar bisection: one test evaluation per round.
    """
    for _ in range(8):
        grid = np.linspace(inside, outside, EDGE_POINTS)
        accepted = _union_accept(components, grid)
        # the first rejected point after ``inside``: the boundary lies before it
        first_out = int(np.argmin(accepted)) if not accepted.all() else grid.size - 1
        inside, outside = grid[max(first_out - 1, 0)], grid[first_out]
        if abs(outside - inside) <= 1e-12 * max(1e-300, abs(inside) + abs(outside)):
            break
    return float(inside)


def _rm_interval(
    betahat, sigma, num_pre, num_post, l_vec, mbar, alpha, *, grid_points, draws, seed, refine
) -> tuple[float, float]:
    comps = _rm_components(betahat, sigma, num_pre, num_post, l_vec, mbar, alpha, draws, seed)
    sd_theta = float(np.sqrt(l_vec @ sigma[num_pre:, num_pre:] @ l_vec))
    grid = np.linspace(-GRID_HALF_WIDTH * sd_theta, GRID_HALF_WIDTH * sd_theta, grid_points)
    accepted = _union_accept(comps, grid)
    if not accepted.any():
        return np.nan, np.nan
    first, last = np.flatnonzero(accepted)[[0, -1]]
    if not refine:
        if first == 0 or last == grid.size - 1:
            warnings.warn(
                "honest_did: the robust interval reaches the end of the grid; its length may "
                "be understated (use refine=True).",
                stacklevel=3,
            )
        return float(grid[first]), float(grid[last])
    step = grid[1] - grid[0]
    bounds = []
    for idx, direction in ((first, -1.0), (last, 1.0)):
        inside = grid[idx]
        outside = inside + direction * step
        reach = step
        for _ in range(MAX_GRID_EXTENSIONS):
            if not _union_accept(comps, outside)[0]:
                break
            inside, reach = outside, 2.0 * reach
            outside = inside + direction * reach
        else:
            bounds.append(direction * np.inf)
            continue
        bounds.append(_edge(comps, inside, outside))
    return float(bounds[0]), float(bounds[1])


# ---------------------------------------------------------------------------------------
# Smoothness: the optimal fixed-length confidence interval
# ---------------------------------------------------------------------------------------
def _folded_quantile(t: float, alpha: float) -> float:
    """``1 - alpha`` quantile of ``|N(t, 1)|`` (exact, by root finding).

    It lies between ``t + z_{1-alpha}`` (the lower tail ignored) and ``t + z_{1-alpha/2}``;
    far from zero the lower tail vanishes and the first is the answer.
    """
    t = abs(t)
    if t == 0:
        return float(stats.norm.ppf(1 - alpha / 2))

    def excess(c):
        return stats.norm.cdf(c - t) - stats.norm.cdf(-c - t) - (1 - alpha)

    lo, hi = t + stats.norm.ppf(1 - alpha), t + stats.norm.ppf(1 - alpha / 2)
    if excess(lo) >= 0:
        return float(lo)
    return float(optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-15))


def _folded_quantile_slope(c: float, t: float) -> float:
    """Derivative of the folded-normal quantile ``c(t)`` in ``t``."""
    p1, p2 = stats.norm.pdf(c - t), stats.norm.pdf(c + t)
    return float((p1 - p2) / (p1 + p2))


def _second_differences(num_pre: int, num_post: int) -> np.ndarray:
    """Second differences of delta over periods -num_pre..num_post, period 0 dropped."""
    n = num_pre + num_post + 1
    d = np.zeros((n - 2, n))
    for r in range(n - 2):
        d[r, r : r + 3] = (1.0, -2.0, 1.0)
    return np.delete(d, num_pre, axis=1)


def _flci(betahat, sigma, num_pre, num_post, l_vec, m, alpha) -> tuple[float, float, np.ndarray]:
    """Optimal FLCI for ``l' tau_post`` under Delta^SD(m): (centre, half-length, weights).

    Affine estimators ``v'betahat`` with post weights ``l`` (as HonestDiD) and free
    pre-period weights. Their bias is unbounded unless ``v`` is orthogonal to linear trends
    (``sum_t t v_t = 0``); then the worst-case bias over Delta^SD(M) is ``M * ||u||_1`` with
    ``u`` the unique solution of ``D'u = v`` (``D`` the second-difference matrix), by linear
    programming duality. The half-length ``sd(v) * cv_alpha(bias / sd(v))`` is minimised
    directly: it is convex in ``(bias, sd)`` and increasing in both, so the problem, with a
    slack ``U >= |u|``, is a smooth convex programme with linear constraints (SLSQP).
    """
    d = _second_differences(num_pre, num_post)
    h = np.linalg.solve(d @ d.T, d)  # u = h @ v
    t_pre = np.arange(-num_pre, 0, dtype=float)
    t_post = np.arange(1, num_post + 1, dtype=float)
    # particular solution: all pre weight on event time -1 (the minimum-bias estimator)
    v0 = np.zeros(num_pre)
    v0[-1] = float(t_post @ l_vec)
    if num_pre > 1:
        _, _, vt = np.linalg.svd(t_pre.reshape(1, -1))
        z = vt[1:].T
    else:
        z = np.zeros((1, 0))
    k = z.shape[1]
    h_pre, h_post = h[:, :num_pre], h[:, num_pre:]
    u_const = h_pre @ v0 + h_post @ l_vec
    u_lin = h_pre @ z
    s_pp = sigma[:num_pre, :num_pre]
    s_pq = sigma[:num_pre, num_pre:] @ l_vec
    s_qq = float(l_vec @ sigma[num_pre:, num_pre:] @ l_vec)

    def parts(x):
        w, slack = x[:k], x[k:]
        v_pre = v0 + z @ w
        var = float(v_pre @ s_pp @ v_pre + 2 * v_pre @ s_pq + s_qq)
        sd = np.sqrt(max(var, 1e-300))
        bias = m * slack.sum()
        return v_pre, sd, bias

    def objective(x):
        _, sd, bias = parts(x)
        return sd * _folded_quantile(bias / sd, alpha)

    def gradient(x):
        v_pre, sd, bias = parts(x)
        t = bias / sd
        c = _folded_quantile(t, alpha)
        dc = _folded_quantile_slope(c, t)
        d_sd = (c - t * dc) * (z.T @ (s_pp @ v_pre + s_pq)) / sd
        d_slack = np.full(x.size - k, m * dc)
        return np.r_[d_sd, d_slack]

    n_u = u_const.size
    # |u| <= slack as two sets of linear inequalities: slack - u >= 0 and slack + u >= 0
    cons_mat = np.vstack([np.hstack([-u_lin, np.eye(n_u)]), np.hstack([u_lin, np.eye(n_u)])])
    cons_off = np.r_[-u_const, u_const]
    constraints = [
        {
            "type": "ineq",
            "fun": lambda x: cons_mat @ x + cons_off,
            "jac": lambda x: cons_mat,
        }
    ]
    x0 = np.r_[np.zeros(k), np.abs(u_const) + 1e-9]
    scale = max(np.sqrt(s_qq), 1e-12)
    fit = optimize.minimize(
        lambda x: objective(x) / scale,
        x0,
        jac=lambda x: gradient(x) / scale,
        constraints=constraints,
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    x = fit.x
    # the slack is only a device: the bias is the L1 norm at the optimal weights
    w = x[:k]
    u = u_const + u_lin @ w
    x = np.r_[w, np.abs(u)]
    half = objective(x)
    v_pre = v0 + z @ w
    weights = np.r_[v_pre, l_vec]
    return float(weights @ betahat), float(half), weights


def _sd_upper_bound(betahat, sigma, num_pre, alpha=0.05) -> float:
    """HonestDiD's default upper end for M: the largest one-sided upper confidence bound
    (level ``1 - alpha``) of the pre-period second differences."""
    n = num_pre + 1  # pre-periods and the reference
    d = np.zeros((n - 2, n))
    for r in range(n - 2):
        d[r, r : r + 3] = (1.0, -2.0, 1.0)
    d = np.delete(d, num_pre, axis=1)
    a = np.vstack([d, -d])
    diffs = a @ betahat[:num_pre]
    se = np.sqrt(np.diag(a @ sigma[:num_pre, :num_pre] @ a.T))
    return float(np.max(diffs + stats.norm.ppf(1 - alpha) * se))


# ---------------------------------------------------------------------------------------
# Breakdown value
# ---------------------------------------------------------------------------------------
def _breakdown(excludes, start: float) -> tuple[float, float]:
    """First crossing of "the interval excludes zero" as the bound grows from 0.

    Returns ``(breakdown, searched_up_to)``. NaN when the interval at 0 covers zero; inf
    when no value up to ``start * 2**BREAKDOWN_MAX_DOUBLINGS`` makes it cover zero.
    """
    if not excludes(0.0):
        return np.nan, 0.0
    top = start
    for _ in range(BREAKDOWN_MAX_DOUBLINGS):
        if not excludes(top):
            break
        top *= 2.0
    else:
        return np.inf, top / 2.0
    grid = np.linspace(0.0, top, BREAKDOWN_SCAN)
    inside, outside = 0.0, top
    for value in grid[1:]:
        if excludes(value):
            inside = value
        else:
            outside = value
            break
    while outside - inside > BREAKDOWN_TOLERANCE * top:
        mid = 0.5 * (inside + outside)
        if excludes(mid):
            inside = mid
        else:
            outside = mid
    return inside, top


# ---------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------
def honest_did_from_estimates(
    betahat,
    sigma,
    *,
    num_pre: int,
    num_post: int,
    method: str = "relative_magnitude",
    m=None,
    e: int = 0,
    l_vec=None,
    level: float = 0.95,
    label: str | None = None,
    outcome: str | None = None,
    grid_points: int = GRID_POINTS,
    refine: bool = True,
    draws: int = LF_DRAWS,
    seed: int = 0,
    breakdown: bool = True,
) -> HonestResult:
    """Rambachan-Roth robust intervals from event-study coefficients and their covariance.

    The lower-level entry point of :func:`honest_did`, with HonestDiD's inputs: ``betahat``
    holds the ``num_pre`` pre-treatment coefficients (event times ``-num_pre-1..-2``) then
    the ``num_post`` post-treatment ones (``0..num_post-1``), the reference period -1 left
    out; ``sigma`` is their covariance.

    Parameters
    ----------
    betahat, sigma
        Coefficients (length ``num_pre + num_post``) and covariance matrix.
    num_pre, num_post
        Number of pre- and post-treatment coefficients.
    method
        ``"relative_magnitude"`` (Delta^RM(Mbar), conditional least-favourable hybrid) or
        ``"smoothness"`` (Delta^SD(M), optimal FLCI).
    m
        Values of Mbar or M. Default as HonestDiD: ten values on [0, 2] for Mbar; for M,
        ten values from 0 to the largest 95% upper bound of the pre-period second
        differences (one pre-period: to its standard error).
    e
        Post-treatment period of interest, 0 = event time 0 (ignored when ``l_vec`` is set).
    l_vec
        Weights on the post-treatment effects (e.g. equal weights for their average), as
        HonestDiD's ``l_vec``.
    level
        Confidence level (``alpha = 1 - level``).
    label, outcome
        Words for the statement.
    grid_points
        Grid of the test inversion (relative magnitudes), on +/- 20 standard errors of the
        effect around zero as in HonestDiD.
    refine
        Relative magnitudes: locate each end of the interval by bisection between the
        outermost accepted grid point and its rejected neighbour (to 1e-12), and widen the
        search past the grid when the interval reaches its edge. ``False`` reports the
        outermost accepted grid points, exactly as HonestDiD does.
    draws, seed
        Simulations for the least-favourable critical value and the seed of numpy's
        generator.
    breakdown
        Compute the breakdown value (False leaves it NaN, e.g. inside simulations).

    Returns
    -------
    HonestResult

    Notes
    -----
    The breakdown value is the largest bound at which the robust interval still excludes
    zero, found as its first crossing from 0: the interval is computed at 0 (NaN if it
    covers zero there), then at an upper end (1 for Mbar, the largest default or requested M
    for M) doubled until the interval covers zero, then on 11 equally spaced values up to
    that end; the first value covering zero and the last one before it bracket the
    breakdown, which bisection narrows to 1e-4 of the searched range. The reported value is
    the bracket's lower end, so the interval there excludes zero.

    Examples
    --------
    >>> import numpy as np
    >>> beta = np.array([0.0, 0.0, 0.5])  # two pre-periods, one post-period
    >>> res = honest_did_from_estimates(beta, np.eye(3) * 0.01, num_pre=2, num_post=1,
    ...                                 method="smoothness", m=[0.0, 0.1])
    >>> list(res.to_frame()["interval"])
    ['original', 'robust', 'robust']
    """
    if method not in METHODS:
        raise ValueError(
            f"honest_did: method must be 'relative_magnitude' or 'smoothness'; got {method!r}."
        )
    betahat = np.asarray(betahat, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    num_pre, num_post = int(num_pre), int(num_post)
    if num_pre < 1 or num_post < 1:
        raise ValueError(
            "honest_did: needs at least one pre-treatment coefficient (besides the reference "
            f"period -1) and one post-treatment coefficient; got {num_pre} and {num_post}."
        )
    if betahat.size != num_pre + num_post or sigma.shape != (betahat.size, betahat.size):
        raise ValueError(
            f"honest_did: betahat has {betahat.size} values and sigma shape {sigma.shape}; "
            f"expected {num_pre} + {num_post} = {num_pre + num_post}."
        )
    if not 0 < level < 1:
        raise ValueError(f"honest_did: level must lie in (0, 1); got {level}.")
    if l_vec is None:
        if not 0 <= e < num_post:
            raise ValueError(
                f"honest_did: e={e} is not a post-treatment period (0..{num_post - 1})."
            )
        l_vec = np.zeros(num_post)
        l_vec[e] = 1.0
        label = label or f"the effect at event time {e}"
    else:
        l_vec = np.asarray(l_vec, dtype=float).ravel()
        if l_vec.size != num_post:
            raise ValueError(
                f"honest_did: l_vec has {l_vec.size} weights for {num_post} post-periods."
            )
        label = label or "the weighted post-treatment effect"
    sigma = 0.5 * (sigma + sigma.T)
    alpha = 1.0 - level
    estimate = float(l_vec @ betahat[num_pre:])
    se = float(np.sqrt(l_vec @ sigma[num_pre:, num_pre:] @ l_vec))
    z = stats.norm.ppf(1 - alpha / 2)
    original = (estimate - z * se, estimate + z * se)

    if method == "relative_magnitude":

        def interval(value: float) -> tuple[float, float]:
            return _rm_interval(
                betahat,
                sigma,
                num_pre,
                num_post,
                l_vec,
                value,
                alpha,
                grid_points=grid_points,
                draws=draws,
                seed=seed,
                refine=refine,
            )

        values = np.asarray(DEFAULT_MBAR if m is None else m, dtype=float).ravel()
        start = max(1.0, float(values.max()) if values.size else 1.0)
        details = {
            "restriction": "post-treatment changes in the differential trend at most Mbar "
            "times the largest pre-treatment change",
            "inference": "conditional least-favourable hybrid (Andrews, Roth and Pakes), "
            f"kappa = {alpha / 10:.3g}, {draws} draws (seed {seed})",
            "grid": f"{grid_points} points on +/- {GRID_HALF_WIDTH:g} SE"
            + (", ends refined by bisection" if refine else ""),
        }
    else:

        def interval(value: float) -> tuple[float, float]:
            centre, half, _ = _flci(betahat, sigma, num_pre, num_post, l_vec, value, alpha)
            return centre - half, centre + half

        if m is None:
            top = (
                float(np.sqrt(sigma[0, 0]))
                if num_pre == 1
                else _sd_upper_bound(betahat, sigma, num_pre)
            )
            values = np.linspace(0.0, max(top, 0.0), 10)
        else:
            values = np.asarray(m, dtype=float).ravel()
        start = float(values.max()) if values.size and values.max() > 0 else max(se, 1e-12)
        details = {
            "restriction": "the slope of the differential trend changes by at most M per period",
            "inference": "optimal fixed-length confidence interval over affine estimators",
        }
    if np.any(values < 0):
        raise ValueError(f"honest_did: the bound must be non-negative; got {values.tolist()}.")
    rows = [(float(v), *interval(float(v))) for v in values]
    table = pd.DataFrame(rows, columns=["m", "ci_low", "ci_high"])

    bd = np.nan
    info = {
        "pre/post periods": f"{num_pre} / {num_post}",
        **details,
        "interval": "normal (no degrees-of-freedom correction), as HonestDiD",
    }
    if breakdown and not original[0] <= 0 <= original[1]:
        cache = {value: (lo, hi) for value, lo, hi in rows}

        def excludes(value: float) -> bool:
            if value not in cache:
                cache[value] = interval(value)
            lo, hi = cache[value]
            return bool(lo > 0 or hi < 0)

        bd, top = _breakdown(excludes, start)
        info["breakdown searched up to"] = f"{top:.4g}"
    return HonestResult(
        intervals=table,
        original=(float(original[0]), float(original[1])),
        estimate=estimate,
        std_error=se,
        breakdown=float(bd),
        method=method,
        label=label,
        outcome=outcome,
        level=level,
        info=info,
    )


def _event_inputs(result) -> tuple[np.ndarray, np.ndarray, int, int, str | None]:
    """``(betahat, sigma, num_pre, num_post, outcome)`` of an event-study result."""
    from asn_eval.estimators.did import AggregateResult, EventStudyResult, GroupTimeResult

    if isinstance(result, GroupTimeResult):
        result = result.aggregate("dynamic")
    if isinstance(result, AggregateResult):
        if result.kind != "dynamic":
            raise ValueError(
                "honest_did: needs an event study (aggregate('dynamic')); got the "
                f"{result.kind!r} aggregation."
            )
        vcov = result.vcov
        params = result.params
    elif isinstance(result, EventStudyResult):
        if result.reference != -1:
            raise ValueError(
                "honest_did: the event study must be normalised at event time -1 (universal "
                f"base period, reference=-1); it has reference {result.reference!r}."
            )
        vcov = result.vcov
        params = result.params
    else:
        raise TypeError(
            "honest_did: expects an event study (event_study(...), or att_gt(...) or its "
            f"aggregate('dynamic')); got {type(result).__name__}."
        )
    times = np.asarray(params.index, dtype=float)
    var = np.array([vcov.loc[t, t] if t in vcov.index else np.nan for t in params.index])
    if -1 in params.index:
        ref_var = var[times == -1][0]
        if np.isfinite(ref_var) and ref_var > 0:
            raise ValueError(
                "honest_did: event time -1 is estimated, not normalised to zero (varying base "
                "period); use a universal base period (event_study(..., reference=-1) or "
                "att_gt(..., base_period='universal'))."
            )
    keep = (times != -1) & np.isfinite(var)
    kept = params.index[keep]
    kept_times = times[keep].astype(int)
    expected = np.r_[np.arange(kept_times.min(), -1), np.arange(0, kept_times.max() + 1)]
    if kept_times.min() >= -1 or kept_times.max() < 0 or not np.array_equal(kept_times, expected):
        raise ValueError(
            "honest_did: needs consecutive event times with at least one before -1 and one "
            f"from 0 on; got {kept_times.tolist()}."
        )
    betahat = params.loc[kept].to_numpy(dtype=float)
    sigma = vcov.loc[kept, kept].to_numpy(dtype=float)
    num_pre = int((kept_times < -1).sum())
    return betahat, sigma, num_pre, kept_times.size - num_pre, getattr(result, "outcome", None)


def honest_did(
    result,
    *,
    method: str = "relative_magnitude",
    m=None,
    e: int = 0,
    l_vec=None,
    level: float = 0.95,
    **options: Any,
) -> HonestResult:
    """How robust an event-study effect is to violations of parallel trends.

    Rambachan and Roth (2023): confidence intervals for the effect that stay valid when the
    differential trend departs from parallel by at most a bound (``m``), for several bounds,
    and the breakdown value, the largest bound at which the effect is still significant.
    ``method="relative_magnitude"`` bounds post-treatment violations by Mbar times the
    largest pre-treatment one (conditional least-favourable hybrid, HonestDiD's default for
    it); ``method="smoothness"`` bounds the change in the slope of the differential trend
    by M per period (optimal FLCI, HonestDiD's default). See the module docstring.

    Parameters
    ----------
    result
        An event study normalised at event time -1: ``event_study(..., reference=-1)`` (CS
        or TWFE), or ``att_gt(..., base_period="universal")`` or its
        ``aggregate("dynamic")``. Event times must be consecutive; the covariance is the
        result's analytic one (the influence function for CS, the clustered covariance for
        TWFE).
    method
        ``"relative_magnitude"`` or ``"smoothness"``.
    m
        Values of Mbar (relative magnitudes) or M (smoothness); HonestDiD's defaults when
        None (see :func:`honest_did_from_estimates`).
    e
        Event time of interest (0 = on impact).
    l_vec
        Weights on the post-treatment event times instead of ``e``.
    level
        Confidence level.
    **options
        Passed to :func:`honest_did_from_estimates` (``grid_points``, ``refine``,
        ``draws``, ``seed``, ``breakdown``, ``label``).

    Returns
    -------
    HonestResult
        ``to_frame()`` (``m``, ``ci_low``, ``ci_high``, ``interval``), ``breakdown``,
        ``statement()``, ``summary()``, ``plot()``.

    Examples
    --------
    >>> from asn_eval.estimators import event_study  # doctest: +SKIP
    >>> es = event_study(panel, outcome="y", unit="id", time="t", cohort="g")  # doctest: +SKIP
    >>> honest_did(es, method="relative_magnitude", m=[0.5, 1, 1.5, 2]).breakdown  # doctest: +SKIP
    """
    betahat, sigma, num_pre, num_post, outcome = _event_inputs(result)
    return honest_did_from_estimates(
        betahat,
        sigma,
        num_pre=num_pre,
        num_post=num_post,
        method=method,
        m=m,
        e=e,
        l_vec=l_vec,
        level=level,
        outcome=options.pop("outcome", outcome),
        **options,
    )
