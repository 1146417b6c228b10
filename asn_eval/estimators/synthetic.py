"""Synthetic difference-in-differences, synthetic control and DID on a block design.

Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021) weight the control units (``omega``)
so that their average moves in parallel with the treated units before treatment, and weight
the pre-treatment periods (``lambda``) so that they resemble the post-treatment periods for
the controls; the effect is the weighted two-way comparison

    tau = (mean_tr_post - lambda' Y_tr_pre) - (omega' Y_co_post - omega' Y_co_pre lambda).

Synthetic control (Abadie, Diamond and Hainmueller 2010) is the special case with no
intercept in ``omega``, almost no regularisation and no time weights (``lambda = 0``);
difference-in-differences the case with uniform weights. All three follow synthdid's R
implementation (version 0.0.9, ``synthdid_estimate``, ``sc_estimate``, ``did_estimate``)
step for step, so that the numbers agree with it:

- Weights solve ``min ||A x - b||^2 / n + zeta^2 ||x||^2`` over the simplex by Frank-Wolfe
  with exact line search (``fw.step``, ``sc.weight.fw``): the columns of the collapsed
  matrix (controls by pre-periods plus the treated average / post average) are centred
  first when an intercept is used, the iteration stops when the objective falls by less
  than ``min_decrease^2`` or after ``max_iter`` steps.
- ``zeta_omega = (N_tr T_post)^(1/4) sigma`` and ``zeta_lambda = 1e-6 sigma``, ``sigma``
  the standard deviation of the first differences of the controls' pre-treatment outcomes;
  ``min_decrease = 1e-5 sigma``; ``max_iter = 10,000``.
- Sparsification: 100 steps, then weights at or below a quarter of the largest set to zero,
  the rest renormalised, and Frank-Wolfe run again from there (``sparsify_function``).
- Placebo standard error (Algorithm 4): the controls are permuted, the last ``N_tr`` of them
  play the treated units, and the estimator is re-run with the original ``zeta`` and
  ``min_decrease``, starting from the original weights; ``se = sd * sqrt((R - 1) / R)``.
  Jackknife (Algorithm 3, fixed weights): leave one unit out, defined with more than one
  treated unit and more than one control of non-zero weight.

The replications of the placebo run together: each Frank-Wolfe step is one batched
matrix product over all replications, each replication stopping at its own criterion, so
the result is that of running them one by one.

Not supported: staggered adoption (use :func:`~asn_eval.estimators.att_gt`), covariates,
the bootstrap variance (Algorithm 2), unbalanced panels or missing outcomes.

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. and Wager, S. (2021).
Synthetic difference-in-differences. American Economic Review 111(12), 4088-4118.
Abadie, A., Diamond, A. and Hainmueller, J. (2010). Synthetic control methods for
comparative case studies. Journal of the American Statistical Association 105(490), 493-505.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from asn_eval.estimators.results import (
    EFFECT_WORDS,
    EstimateTable,
    interval_sign,
    plotting_backend,
)

__all__ = [
    "SyntheticResult",
    "block_did",
    "synthetic_control",
    "synthetic_did",
]

METHOD_NAMES = {
    "sdid": "Synthetic difference-in-differences",
    "sc": "Synthetic control",
    "did": "Difference-in-differences",
}
FUNCTION_NAMES = {"sdid": "synthetic_did", "sc": "synthetic_control", "did": "block_did"}
SE_METHODS = ("placebo", "jackknife", "none")
# synthdid's defaults (R/synthdid.R, synthdid_estimate): stopping rule relative to the noise
# level, iteration caps, and the 'infinitesimal' ridge of lambda (and of omega in SC).
MIN_DECREASE_FACTOR = 1e-5
MAX_ITER = 10_000
MAX_ITER_PRE_SPARSIFY = 100
ETA_INFINITESIMAL = 1e-6
# Placebo replications are solved together in chunks of at most this many array elements
# (8 bytes each), so a large panel does not hold every replication's matrix at once.
_CHUNK_ELEMENTS = 2**24
# Frank-Wolfe records its steps in blocks of this many and checks the stopping rule after each.
_FW_BLOCK = 256


# --------------------------------------------------------------------------------------
# Frank-Wolfe on the simplex (synthdid's fw.step and sc.weight.fw), batched
# --------------------------------------------------------------------------------------
def _frank_wolfe(
    y: np.ndarray,
    x: np.ndarray,
    *,
    zeta: float,
    intercept: bool,
    min_decrease: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``x`` minimising ``zeta^2 ||x||^2 + ||A x - b||^2 / n`` on the simplex.

    ``y`` holds ``R`` problems, each an ``n x (k + 1)`` matrix ``[A, b]``; ``x`` the ``R x k``
    starting weights. Returns the weights and the number of steps each problem took.

    The steps are synthdid's (``fw.step``: the vertex ``j`` of the smallest gradient entry,
    exact line search clipped to [0, 1]), computed from ``M = A'A + n zeta^2 I`` and
    ``c = A'b`` so that a step costs ``O(k)`` rather than ``O(nk)``. What the loop carries
    is the half gradient ``h = M x - c`` (a step to ``(1 - s) x + s e_j`` moves it to
    ``(1 - s) h + s (M_j - c)``) and the scalars ``x'Mx`` and ``c'x``; the slope
    ``h_j - h'x`` and the curvature ``M_jj - 2 (Mx)_j + x'Mx`` of the step follow from them.
    The weights themselves are not needed to choose the steps: the loop records each step
    (vertex and size) and applies a block of them at once (:func:`_apply_steps`).
    A problem stops after the first step ``t >= 2`` whose fall of the objective (the exact
    change along the step, ``-(2 s slope + s^2 curvature) / n``) is at most
    ``min_decrease^2``, or after ``max_iter`` steps; the others carry on meanwhile and their
    later steps are discarded, so each problem ends as it would alone.
    """
    if intercept:
        y = y - y.mean(axis=1, keepdims=True)
    a, b = y[:, :, :-1], y[:, :, -1]
    r, n, k = a.shape
    eta = n * zeta**2
    m = np.matmul(np.swapaxes(a, 1, 2), a)
    m[:, np.arange(k), np.arange(k)] += eta
    cross = np.matmul(b[:, None, :], a)[:, 0, :]
    x = np.array(x, dtype=float, copy=True)
    # rows M_j - c of every problem, stacked (R k x k), and per (problem, vertex) the pair
    # (c_j, M_jj - 2 c_j) that the slope and curvature need
    rows_h = (m - cross[:, None, :]).reshape(r * k, k)
    diag = np.diagonal(m, axis1=1, axis2=2)
    pairs = np.stack([cross, diag - 2.0 * cross], axis=-1).reshape(r * k, 2)
    h = np.matmul(m, x[:, :, None])[:, :, 0] - cross
    xmx = np.einsum("rk,rk->r", x, h + cross)
    cx = np.einsum("rk,rk->r", x, cross)
    threshold = min_decrease**2 * n
    if r == 1:
        return _steps_one(x, h, xmx, cx, rows_h, pairs, threshold, max_iter)
    return _steps_batch(x, h, xmx, cx, rows_h, pairs, threshold, max_iter)


def _steps_batch(x, h, xmx, cx, rows_h, pairs, threshold, max_iter):
    """The Frank-Wolfe loop of :func:`_frank_wolfe`, every problem at once."""
    r, k = x.shape
    h_flat = h.reshape(-1)
    c_flat, u_flat = pairs[:, 0].copy(), pairs[:, 1].copy()
    base = np.arange(r) * k
    block = min(max_iter, _FW_BLOCK)
    vertex = np.empty((block, r), dtype=np.intp)
    size = np.empty((block, r))
    neg_slope = np.empty((block, r))
    curvature = np.empty((block, r))
    stop = np.full(r, max_iter)
    stopped = np.zeros(r, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(max_iter):
            i = t % block
            idx = vertex[i]
            np.argmin(h, axis=1, out=idx)
            idx += base
            h_j = h_flat.take(idx)
            c_j = c_flat.take(idx)
            u_j = u_flat.take(idx)
            ns, d = neg_slope[i], curvature[i]
            np.subtract(xmx - cx, h_j, out=ns)
            np.add(u_j, xmx, out=d)
            d -= h_j + h_j
            # -slope / curvature clipped to [0, 1]; fmax turns 0 / 0 (x already the vertex)
            # into 0, synthdid's step that does not move
            s = size[i]
            np.divide(ns, d, out=s)
            np.fmax(s, 0.0, out=s)
            np.fmin(s, 1.0, out=s)
            step = rows_h.take(idx, axis=0)
            step -= h
            step *= s[:, None]
            h += step
            xmx += s * (2.0 * (h_j + c_j - xmx) + s * d)
            cx += s * (c_j - cx)
            if i == block - 1 or t == max_iter - 1:
                start = t - i
                s, ns, d = size[: i + 1], neg_slope[: i + 1], curvature[: i + 1]
                done = s * (ns + ns - s * d) <= threshold
                if start == 0:
                    done[0] = False  # the first step is never a stopping step
                now = ~stopped & done.any(axis=0)
                stop[now] = start + np.argmax(done[:, now], axis=0) + 1
                stopped |= now
                x = _apply_steps(x, vertex[: i + 1] - base, s, stop - start)
                if stopped.all():
                    break
    return x, stop


def _steps_one(x, h, xmx, cx, rows_h, pairs, threshold, max_iter):
    """The loop of :func:`_steps_batch` for a single problem, with its scalars as Python
    floats (the same operations in the same order, so the same numbers, in a fraction of
    the time a numpy call on one element takes)."""
    h = h[0]
    xmx, cx = float(xmx[0]), float(cx[0])
    c, u = pairs[:, 0].tolist(), pairs[:, 1].tolist()
    # bound methods, row views and one buffer: a step's update of h is three numpy calls
    # that allocate nothing (the same arithmetic, so the same numbers)
    rows, step = list(rows_h), np.empty_like(h)
    argmin, item, subtract, multiply, add = h.argmin, h.item, np.subtract, np.multiply, np.add
    vertices, sizes = [], []
    stop = max_iter
    for t in range(max_iter):
        j = argmin()
        h_j = item(j)
        ns = (xmx - cx) - h_j
        d = (u[j] + xmx) - (h_j + h_j)
        if d != 0.0:
            s = min(max(ns / d, 0.0), 1.0)
        else:  # as fmax/fmin on numpy's 0 / 0 (nan -> 0) and +-1 / 0 (+-inf)
            s = 0.0 if ns <= 0.0 else 1.0
        vertices.append(j)
        sizes.append(s)
        subtract(rows[j], h, step)
        multiply(step, s, step)
        add(h, step, h)
        xmx += s * (2.0 * (h_j + c[j] - xmx) + s * d)
        cx += s * (c[j] - cx)
        if t >= 1 and s * (ns + ns - s * d) <= threshold:
            stop = t + 1
            break
    vertex = np.array(vertices, dtype=np.intp)[:, None]
    size = np.array(sizes)[:, None]
    for start in range(0, len(sizes), _FW_BLOCK):
        end = start + _FW_BLOCK
        x = _apply_steps(x, vertex[start:end], size[start:end], np.array([stop - start]))
    return x, np.array([stop])


def _apply_steps(x, vertex, size, count):
    """Weights after steps to vertices ``vertex`` of sizes ``size`` (``L x R``), the first
    ``count`` of them in each problem: ``x <- (1 - s) x + s e_j`` in closed form,
    ``prod(1 - s_t) x + sum_t s_t prod_{u > t}(1 - s_u) e_{j_t}``."""
    r, k = x.shape
    size = np.where(np.arange(len(size))[:, None] < count[None, :], size, 0.0)
    keep = np.cumprod((1.0 - size)[::-1], axis=0)[::-1]  # prod_{u >= t} (1 - s_u)
    after = np.vstack([keep[1:], np.ones((1, r))])
    flat = vertex + np.arange(r) * k
    added = np.bincount(flat.ravel(), weights=(size * after).ravel(), minlength=x.size)
    return keep[0][:, None] * x + added.reshape(x.shape)


def _sparsify(x: np.ndarray) -> np.ndarray:
    """synthdid's ``sparsify_function``: zero weights at or below max / 4, renormalise."""
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return x / x.sum(axis=1, keepdims=True)


def _fit_weights(y, x0, *, zeta, intercept, min_decrease, max_iter, sparsify, max_iter_pre):
    """One or two rounds of Frank-Wolfe as ``synthdid_estimate`` runs them."""
    first = max_iter_pre if sparsify else max_iter
    x, steps = _frank_wolfe(
        y, x0, zeta=zeta, intercept=intercept, min_decrease=min_decrease, max_iter=first
    )
    if sparsify:
        x, more = _frank_wolfe(
            y,
            _sparsify(x),
            zeta=zeta,
            intercept=intercept,
            min_decrease=min_decrease,
            max_iter=max_iter,
        )
        steps = steps + more
    return x, steps


def _collapsed(y: np.ndarray, n0: int, t0: int) -> np.ndarray:
    """synthdid's ``collapsed.form`` for a batch ``R x N x T``: ``R x (N0 + 1) x (T0 + 1)``."""
    top = np.concatenate([y[:, :n0, :t0], y[:, :n0, t0:].mean(axis=2, keepdims=True)], axis=2)
    bottom = np.concatenate(
        [
            y[:, n0:, :t0].mean(axis=1, keepdims=True),
            y[:, n0:, t0:].mean(axis=(1, 2))[:, None, None],
        ],
        axis=2,
    )
    return np.concatenate([top, bottom], axis=1)


@dataclass(frozen=True)
class _Options:
    kind: str
    zeta_omega: float
    zeta_lambda: float
    omega_intercept: bool
    lambda_intercept: bool
    min_decrease: float
    max_iter: int
    sparsify: bool
    max_iter_pre_sparsify: int


def _estimate_batch(
    y: np.ndarray, n0: int, t0: int, omega0: np.ndarray, lambda0: np.ndarray, opts: _Options
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Estimates, unit weights, time weights and Frank-Wolfe steps for a batch ``R x N x T``.

    ``omega0`` and ``lambda0`` are the starting weights (``R x N0``, ``R x T0``); DID keeps
    both, SC keeps ``lambda0`` (zeros).
    """
    r = y.shape[0]
    n1, t1 = y.shape[1] - n0, y.shape[2] - t0
    steps = np.zeros((r, 2), dtype=int)
    collapsed = _collapsed(y, n0, t0) if opts.kind != "did" else None
    lam = lambda0
    omega = omega0
    if opts.kind == "sdid":
        lam, steps[:, 0] = _fit_weights(
            collapsed[:, :n0, :],
            lambda0,
            zeta=opts.zeta_lambda,
            intercept=opts.lambda_intercept,
            min_decrease=opts.min_decrease,
            max_iter=opts.max_iter,
            sparsify=opts.sparsify,
            max_iter_pre=opts.max_iter_pre_sparsify,
        )
    if opts.kind in ("sdid", "sc"):
        omega, steps[:, 1] = _fit_weights(
            np.swapaxes(collapsed[:, :, :t0], 1, 2),
            omega0,
            zeta=opts.zeta_omega,
            intercept=opts.omega_intercept,
            min_decrease=opts.min_decrease,
            max_iter=opts.max_iter,
            sparsify=opts.sparsify,
            max_iter_pre=opts.max_iter_pre_sparsify,
        )
    unit = np.concatenate([-omega, np.full((r, n1), 1.0 / n1)], axis=1)
    period = np.concatenate([-lam, np.full((r, t1), 1.0 / t1)], axis=1)
    tau = np.einsum("rn,rnt,rt->r", unit, y, period)
    return tau, omega, lam, steps


def _sum_normalize(x: np.ndarray) -> np.ndarray:
    """synthdid's ``sum_normalize`` row by row: ``x / sum(x)``, uniform where the sum is 0."""
    total = x.sum(axis=1, keepdims=True)
    uniform = np.full_like(x, 1.0 / x.shape[1])
    return np.where(total != 0, x / np.where(total != 0, total, 1.0), uniform)


def _placebo_estimates(y, n0, t0, omega, lam, opts, *, replications, rng) -> np.ndarray:
    """Algorithm 4: estimates with the last ``N_tr`` of permuted controls as treated."""
    n1 = y.shape[0] - n0
    if n0 <= n1:
        raise ValueError(
            f"{FUNCTION_NAMES[opts.kind]}: the placebo standard error needs more control "
            f"units than treated units; there are {n0} control(s) and {n1} treated."
        )
    controls = y[:n0]
    perms = np.stack([rng.permutation(n0) for _ in range(replications)])
    n0_placebo = n0 - n1
    chunk = max(1, _CHUNK_ELEMENTS // controls.size)
    out = np.empty(replications)
    for start in range(0, replications, chunk):
        ind = perms[start : start + chunk]
        batch = controls[ind]
        omega0 = _sum_normalize(omega[ind[:, :n0_placebo]])
        lambda0 = np.broadcast_to(lam, (len(ind), t0))
        tau = _estimate_batch(batch, n0_placebo, t0, omega0, lambda0, opts)[0]
        out[start : start + chunk] = tau
    return out


def _jackknife_se(y, n0, t0, omega, lam) -> float:
    """Algorithm 3 with fixed weights: leave one unit out, renormalise omega."""
    n = y.shape[0]
    n1 = n - n0
    # each unit's post-treatment mean less its lambda-weighted pre-treatment mean
    contrast = y[:, t0:].mean(axis=1) - y[:, :t0] @ lam
    control_c, treated_c = contrast[:n0], contrast[n0:]
    u = np.empty(n)
    total = omega.sum()
    for i in range(n0):
        rest = total - omega[i]
        if rest != 0:
            w = omega / rest
        else:
            w = np.full(n0, 1.0 / (n0 - 1))
        w = w.copy()
        w[i] = 0.0
        u[i] = treated_c.mean() - w @ control_c
    treated_sum = treated_c.sum()
    synthetic = omega @ control_c
    for j in range(n1):
        u[n0 + j] = (treated_sum - treated_c[j]) / (n1 - 1) - synthetic
    return float(np.sqrt((n - 1) / n * np.sum((u - u.mean()) ** 2)))


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyntheticResult(EstimateTable):
    """An average effect on the treated block, with the weights that made it.

    ``params``/``std_errors`` hold one row, ``ATT``. ``unit_weights`` (omega) is indexed by
    control unit and ``time_weights`` (lambda) by pre-treatment period (zeros for synthetic
    control, uniform for DID). ``outcomes`` is the units x periods matrix that was used
    (controls first, in sorted order, then treated), ``treated_units`` the treated ones,
    ``onset`` the first treated period. ``zeta_omega``/``zeta_lambda`` are the ridge
    penalties used, ``noise_level`` the standard deviation of the controls' pre-treatment
    first differences they scale, ``placebo_estimates`` the replications behind a placebo
    standard error, ``steps`` the Frank-Wolfe iterations of (lambda, omega).
    """

    kind: str = "sdid"
    unit_weights: pd.Series = field(default_factory=pd.Series)
    time_weights: pd.Series = field(default_factory=pd.Series)
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    treated_units: tuple = ()
    onset: object = None
    zeta_omega: float = np.nan
    zeta_lambda: float = np.nan
    noise_level: float = np.nan
    se_method: str = "placebo"
    replications: int = 0
    seed: int | None = None
    placebo_estimates: np.ndarray = field(default_factory=lambda: np.empty(0))
    steps: tuple[int, int] = (0, 0)

    @property
    def estimate(self) -> float:
        """The average effect on the treated units in the treated periods."""
        return float(self.params.iloc[0])

    @property
    def std_error(self) -> float:
        return float(self.std_errors.iloc[0])

    @property
    def trajectories(self) -> pd.DataFrame:
        """By period: the treated average and the omega-weighted controls ("synthetic")."""
        n0 = len(self.unit_weights)
        y = self.outcomes.to_numpy()
        return pd.DataFrame(
            {
                "treated": y[n0:].mean(axis=0),
                "synthetic": self.unit_weights.to_numpy() @ y[:n0],
            },
            index=self.outcomes.columns,
        )

    @property
    def effect_curve(self) -> pd.Series:
        """Effect by treated period; its mean is the estimate (synthdid_effect_curve)."""
        paths = self.trajectories
        gap = (paths["treated"] - paths["synthetic"]).to_numpy()
        t0 = len(self.time_weights)
        curve = gap[t0:] - gap[:t0] @ self.time_weights.to_numpy()
        return pd.Series(curve, index=self.outcomes.columns[t0:], name="effect")

    def plot(self, ax=None, **kwargs):
        """Draw the treated and synthetic trajectories, the counterfactual, the effect and the
        time weights (synthdid's ``plot``) and return the matplotlib Axes.

        Keywords go to :func:`asn_eval.report.plots.synthetic` (``lang``, ``labels``,
        ``legend``, ...).
        """
        return plotting_backend().synthetic(self, ax=ax, **kwargs)

    def statement(self) -> str:
        """One sentence on the effect, its interval and what it compares, in plain English."""
        ci = self.conf_int().iloc[0]
        pct = round(self.level * 100)
        n_tr, n0 = len(self.treated_units), len(self.unit_weights)
        used = int((self.unit_weights > 0).sum())
        who = f"{self.treated_units[0]}" if n_tr == 1 else f"the {n_tr} treated units"
        if self.kind == "did":
            comparison = f"the plain average of all {n0} control units"
        else:
            comparison = f"a weighted average of {used} of the {n0} control units"
        if np.isfinite(self.std_error):
            verdict = EFFECT_WORDS[interval_sign(ci["ci_low"], ci["ci_high"])]
            interval = (
                f" ({pct}% CI {ci['ci_low']:.4g} to {ci['ci_high']:.4g}, "
                f"{self.se_method} standard error)"
            )
        else:
            verdict, interval = "an effect", " (no standard error)"
        return (
            f"{self.method} finds {verdict} on {self.outcome} of {self.estimate:.4g}{interval}, "
            f"comparing {who} from {self.onset} on with {comparison}."
        )


# --------------------------------------------------------------------------------------
# From a long panel to the block matrix
# --------------------------------------------------------------------------------------
def _label(value) -> str:
    """A unit or period as a user wrote it: ``'Nevada'``, ``2004``, not ``np.int64(2004)``."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _block_matrix(data, *, outcome, unit, time, treated, name):
    """Controls-first outcome matrix, N0, T0 and the onset (synthdid's ``panel.matrices``)."""
    columns = [unit, time, outcome, treated]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(
            f"{name}: column(s) {missing} not in the data; available: {list(data.columns)}."
        )
    frame = data[columns]
    n_missing = int(frame.isna().any(axis=1).sum())
    if n_missing:
        bad = [c for c in columns if frame[c].isna().any()]
        first = frame.loc[frame.isna().any(axis=1)].iloc[0]
        raise ValueError(
            f"{name}: {n_missing} row(s) have a missing value (in {', '.join(bad)}; the "
            f"first is unit {_label(first[unit])}, period {_label(first[time])}); the "
            f"estimator needs a "
            f"complete balanced panel, so drop or fill them first."
        )
    if not pd.api.types.is_numeric_dtype(frame[outcome]) or pd.api.types.is_bool_dtype(
        frame[outcome]
    ):
        raise TypeError(
            f"{name}: the outcome column {outcome!r} must be numeric; it has dtype "
            f"{frame[outcome].dtype} (first value {frame[outcome].iloc[0]!r}). Convert it, "
            f"e.g. with pd.to_numeric."
        )
    status = frame[treated]
    if not status.isin([0, 1]).all():
        other = frame.loc[~status.isin([0, 1])]
        found = ", ".join(_label(v) for v in pd.unique(other[treated])[:5])
        raise ValueError(
            f"{name}: {treated!r} must be 0 or 1 (1 when the unit is under the policy in "
            f"that period); found {found} (the first in unit {_label(other[unit].iloc[0])}, "
            f"period {_label(other[time].iloc[0])})."
        )
    # The unit x period matrices by codes rather than two pivots: the same sorted units and
    # periods and the same values (bit for bit) in about a third of the time on Prop 99.
    unit_codes, units = frame[unit].factorize(sort=True)
    time_codes, times = frame[time].factorize(sort=True)
    n_units, n_times = len(units), len(times)
    cell = unit_codes * n_times + time_codes
    if (np.bincount(cell, minlength=n_units * n_times) != 1).any():
        per_unit = frame.groupby(unit)[time].agg(["size", "nunique"])
        off = per_unit[(per_unit["size"] != n_times) | (per_unit["nunique"] != n_times)]
        raise ValueError(
            f"{name} needs a balanced panel, one row per unit and period: {len(off)} of "
            f"{n_units} units do not have exactly one row in each of the {n_times} periods "
            f"(the first is {_label(off.index[0])})."
        )
    values = np.empty(n_units * n_times)
    values[cell] = frame[outcome].to_numpy(dtype=float)
    y = pd.DataFrame(
        # column-major as a pivot leaves it: the sums over it, and so the last digits of
        # every estimate, follow the memory order
        np.asfortranarray(values.reshape(n_units, n_times)),
        index=pd.Index(units, name=unit),
        columns=pd.Index(times, name=time),
    )
    on = np.zeros(n_units * n_times, dtype=bool)
    on[cell] = status.to_numpy() == 1
    w = pd.DataFrame(on.reshape(n_units, n_times), index=y.index, columns=y.columns)
    ever = w.to_numpy().any(axis=1)
    if not ever.any():
        raise ValueError(
            f"{name}: no unit is ever treated ({treated!r} is 0 in every row); the estimator "
            f"needs at least one treated unit."
        )
    if ever.all():
        raise ValueError(
            f"{name}: every unit is treated at some point; the estimator needs control units "
            f"that are never treated."
        )
    treated_periods = w.to_numpy()[ever].any(axis=0)
    t0 = int(np.argmax(treated_periods))
    if t0 == 0:
        raise ValueError(
            f"{name}: the treated units are treated from the first period ({y.columns[0]}), "
            f"so there is no period before treatment to fit the weights on."
        )
    block = np.zeros(w.shape, dtype=bool)
    block[np.ix_(ever, np.arange(t0, w.shape[1]))] = True
    if not np.array_equal(w.to_numpy().astype(bool), block):
        off = np.flatnonzero((w.to_numpy().astype(bool) != block).any(axis=1))[0]
        row = w.to_numpy()[off].astype(bool)
        start = int(np.argmax(row))
        if start != t0:
            how = f"is treated from {y.columns[start]}"
        else:
            gap = y.columns[start + int(np.argmin(row[start:]))]
            how = f"is treated in {y.columns[start]} but not in {gap}"
        raise ValueError(
            f"{name} needs simultaneous adoption: every treated unit treated from "
            f"{y.columns[t0]} to the last period and never before, but {_label(w.index[off])} "
            f"{how}; use att_gt for staggered adoption."
        )
    if t0 < 2:
        raise ValueError(
            f"{name}: there is only one period before treatment ({y.columns[0]}); the "
            f"estimator needs at least two to measure the noise level."
        )
    order = np.concatenate([np.flatnonzero(~ever), np.flatnonzero(ever)])
    y = y.iloc[order]
    return y, int((~ever).sum()), t0


def _fit(
    kind,
    data,
    *,
    outcome,
    unit,
    time,
    treated,
    se_method,
    replications,
    seed,
    level,
    eta_omega,
    eta_lambda,
    omega_intercept,
    lambda_intercept,
    min_decrease,
    max_iter,
    sparsify,
    max_iter_pre_sparsify,
) -> SyntheticResult:
    name = FUNCTION_NAMES[kind]
    if se_method not in SE_METHODS:
        raise ValueError(f"{name}: se_method must be one of {SE_METHODS}; got {se_method!r}.")
    frame, n0, t0 = _block_matrix(
        data, outcome=outcome, unit=unit, time=time, treated=treated, name=name
    )
    y = frame.to_numpy()
    n1, t1 = y.shape[0] - n0, y.shape[1] - t0
    noise = float(np.std(np.diff(y[:n0, :t0], axis=1), ddof=1))
    if eta_omega is None:
        eta_omega = (n1 * t1) ** 0.25 if kind == "sdid" else ETA_INFINITESIMAL
    opts = _Options(
        kind=kind,
        zeta_omega=float(eta_omega * noise),
        zeta_lambda=float(eta_lambda * noise),
        omega_intercept=bool(omega_intercept),
        lambda_intercept=bool(lambda_intercept),
        min_decrease=float(MIN_DECREASE_FACTOR * noise if min_decrease is None else min_decrease),
        max_iter=int(max_iter),
        sparsify=bool(sparsify),
        max_iter_pre_sparsify=int(max_iter_pre_sparsify),
    )
    omega0 = np.full((1, n0), 1.0 / n0)
    lambda0 = np.zeros((1, t0)) if kind == "sc" else np.full((1, t0), 1.0 / t0)
    tau, omega, lam, steps = _estimate_batch(y[None], n0, t0, omega0, lambda0, opts)
    tau, omega, lam = float(tau[0]), omega[0], lam[0]

    placebo = np.empty(0)
    if se_method == "placebo":
        rng = np.random.default_rng(seed)
        placebo = _placebo_estimates(
            y, n0, t0, omega, lam, opts, replications=int(replications), rng=rng
        )
        se = float(np.std(placebo, ddof=0))
        se_note = f"placebo (Algorithm 4), {int(replications)} replications, seed {seed}"
    elif se_method == "jackknife":
        if n1 == 1 or np.count_nonzero(omega) == 1:
            raise ValueError(
                f"{name}: the jackknife standard error is not defined with "
                + ("one treated unit" if n1 == 1 else "one control of non-zero weight")
                + '; use se_method="placebo".'
            )
        se = _jackknife_se(y, n0, t0, omega, lam)
        se_note = "jackknife with fixed weights (Algorithm 3)"
    else:
        se = np.nan
        se_note = "none"

    units, times = frame.index, frame.columns
    treated_units = tuple(units[n0:])
    return SyntheticResult(
        params=pd.Series([tau], index=pd.Index(["ATT"], name="estimand")),
        std_errors=pd.Series([se], index=pd.Index(["ATT"], name="estimand")),
        method=METHOD_NAMES[kind],
        outcome=outcome,
        level=level,
        info={
            "Units": f"{n0 + n1} ({n1} treated, {n0} control, "
            f"{int(np.count_nonzero(omega))} with weight)",
            "Periods": f"{t0 + t1} ({t0} before {times[t0]}, {t1} from it)",
            "zeta (omega, lambda)": f"{opts.zeta_omega:.4g}, {opts.zeta_lambda:.4g}",
            "Standard error": se_note,
        },
        kind=kind,
        unit_weights=pd.Series(omega, index=units[:n0], name="omega"),
        time_weights=pd.Series(lam, index=times[:t0], name="lambda"),
        outcomes=frame,
        treated_units=treated_units,
        onset=times[t0],
        zeta_omega=opts.zeta_omega,
        zeta_lambda=opts.zeta_lambda,
        noise_level=noise,
        se_method=se_method,
        replications=int(replications) if se_method == "placebo" else 0,
        seed=seed if se_method == "placebo" else None,
        placebo_estimates=placebo,
        steps=(int(steps[0, 0]), int(steps[0, 1])),
    )


_DOC_PARAMETERS = """
    Parameters
    ----------
    data
        Long panel, one row per unit and period, balanced, no missing values.
    outcome, unit, time
        Columns with the outcome, the unit and the period (sortable: years, months, dates).
    treated
        Column that is 1 when the unit is under the policy in that period, 0 otherwise. The
        treated units must all start in the same period and stay treated to the end (a
        block); the others are the controls.
    se_method
        ``"placebo"`` (Algorithm 4; the only one defined with one treated unit),
        ``"jackknife"`` (Algorithm 3, fixed weights; needs two or more treated units) or
        ``"none"``.
    replications, seed
        Placebo replications and the seed of their permutations (numpy's ``default_rng``;
        R's random numbers cannot be reproduced, so a placebo SE agrees with synthdid's only
        up to Monte-Carlo error, about ``se / sqrt(2 R)``).
    level
        Confidence level of the normal interval ``estimate +/- z se``.
    min_decrease, max_iter
        Frank-Wolfe stops when the objective falls by less than ``min_decrease^2`` (default
        ``1e-5`` times the noise level) or after ``max_iter`` steps.
    sparsify, max_iter_pre_sparsify
        Run ``max_iter_pre_sparsify`` steps, drop weights at or below a quarter of the
        largest and run again from there (synthdid's default).
"""


def synthetic_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    se_method: str = "placebo",
    replications: int = 200,
    seed: int | None = 0,
    level: float = 0.95,
    eta_omega: float | None = None,
    eta_lambda: float = ETA_INFINITESIMAL,
    omega_intercept: bool = True,
    lambda_intercept: bool = True,
    min_decrease: float | None = None,
    max_iter: int = MAX_ITER,
    sparsify: bool = True,
    max_iter_pre_sparsify: int = MAX_ITER_PRE_SPARSIFY,
) -> SyntheticResult:
    """Synthetic difference-in-differences (Arkhangelsky et al. 2021) on a block design.

    Unit weights make the weighted controls move in parallel with the treated units before
    treatment (ridge-penalised, with an intercept); time weights make the weighted
    pre-treatment periods of the controls resemble their post-treatment average; the effect
    is the doubly weighted difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens
    and Wager 2021, AER 111(12), Algorithm 1), computed as synthdid's
    ``synthdid_estimate`` does (see the module docstring for the details that matter).
    {parameters}
    eta_omega, eta_lambda
        ``zeta = eta * noise level``; by default ``eta_omega = (N_tr T_post)^(1/4)`` and
        ``eta_lambda = 1e-6``.
    omega_intercept, lambda_intercept
        Allow a constant difference when fitting the weights (both True in SDID).

    Returns
    -------
    SyntheticResult

    Notes
    -----
    Supported: one adoption period shared by all treated units, a balanced panel, no
    covariates. Not supported: staggered adoption, covariates, the bootstrap variance.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> years, units = range(2010, 2022), [f"u{{i:02d}}" for i in range(20)]
    >>> df = pd.DataFrame([(u, t) for u in units for t in years], columns=["unit", "year"])
    >>> df["treated"] = ((df["unit"] == "u00") & (df["year"] >= 2018)).astype(int)
    >>> df["y"] = rng.normal(size=len(df)) + df["year"] * 0.1 - 3 * df["treated"]
    >>> res = synthetic_did(df, outcome="y", unit="unit", time="year", treated="treated")
    >>> bool(-5 < res.estimate < -1)
    True
    """
    return _fit(
        "sdid",
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated=treated,
        se_method=se_method,
        replications=replications,
        seed=seed,
        level=level,
        eta_omega=eta_omega,
        eta_lambda=eta_lambda,
        omega_intercept=omega_intercept,
        lambda_intercept=lambda_intercept,
        min_decrease=min_decrease,
        max_iter=max_iter,
        sparsify=sparsify,
        max_iter_pre_sparsify=max_iter_pre_sparsify,
    )


def synthetic_control(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    se_method: str = "placebo",
    replications: int = 200,
    seed: int | None = 0,
    level: float = 0.95,
    eta_omega: float = ETA_INFINITESIMAL,
    min_decrease: float | None = None,
    max_iter: int = MAX_ITER,
    sparsify: bool = True,
    max_iter_pre_sparsify: int = MAX_ITER_PRE_SPARSIFY,
) -> SyntheticResult:
    """Synthetic control (Abadie, Diamond and Hainmueller 2010) as synthdid's ``sc_estimate``.

    Unit weights on the simplex match the treated units' pre-treatment outcomes without an
    intercept and with only an 'infinitesimal' ridge (``eta_omega = 1e-6``); no time weights,
    so the effect is the mean post-treatment gap between the treated units and their
    synthetic control (Arkhangelsky et al. 2021, AER 111(12), eq. 2.3 and Table 1).
    {parameters}
    eta_omega
        ``zeta_omega = eta_omega * noise level``.

    Returns
    -------
    SyntheticResult
        ``time_weights`` are zeros.

    Examples
    --------
    >>> res = synthetic_control(panel, outcome="y", unit="unit", time="year",
    ...                         treated="treated")  # doctest: +SKIP
    """
    return _fit(
        "sc",
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated=treated,
        se_method=se_method,
        replications=replications,
        seed=seed,
        level=level,
        eta_omega=eta_omega,
        eta_lambda=ETA_INFINITESIMAL,
        omega_intercept=False,
        lambda_intercept=True,
        min_decrease=min_decrease,
        max_iter=max_iter,
        sparsify=sparsify,
        max_iter_pre_sparsify=max_iter_pre_sparsify,
    )


def block_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    se_method: str = "placebo",
    replications: int = 200,
    seed: int | None = 0,
    level: float = 0.95,
) -> SyntheticResult:
    """Difference-in-differences on the same block design, as synthdid's ``did_estimate``.

    Uniform unit and time weights: the treated units' change from the pre-treatment mean to
    the post-treatment mean, less the controls' (Arkhangelsky et al. 2021, AER 111(12),
    eq. 2.2), with the same placebo or jackknife standard error as :func:`synthetic_did` so
    that the three estimators can be compared on one footing.

    Parameters
    ----------
    data, outcome, unit, time, treated, se_method, replications, seed, level
        As in :func:`synthetic_did`.

    Returns
    -------
    SyntheticResult

    Examples
    --------
    >>> res = block_did(panel, outcome="y", unit="unit", time="year",
    ...                 treated="treated")  # doctest: +SKIP
    """
    return _fit(
        "did",
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated=treated,
        se_method=se_method,
        replications=replications,
        seed=seed,
        level=level,
        eta_omega=None,
        eta_lambda=ETA_INFINITESIMAL,
        omega_intercept=True,
        lambda_intercept=True,
        min_decrease=None,
        max_iter=MAX_ITER,
        sparsify=False,
        max_iter_pre_sparsify=MAX_ITER_PRE_SPARSIFY,
    )


synthetic_did.__doc__ = synthetic_did.__doc__.format(parameters=_DOC_PARAMETERS.rstrip())
synthetic_control.__doc__ = synthetic_control.__doc__.format(parameters=_DOC_PARAMETERS.rstrip())
