"""One 2x2 comparison per (cohort, period) cell: ATT(g, t) and its influence function.

As R's did ``compute.att_gt`` and DRDID's panel estimators: a difference of cohort means
without covariates, the doubly robust estimator of Sant'Anna and Zhao (2020) with them. Each
cell's influence function is written, summed within clusters and scaled as in R's did, into
one row of the caller's (cells x clusters) array.
"""

from __future__ import annotations

import warnings

import numpy as np

# Propensity scores of comparison units above this are trimmed, as in R's DRDID (trim.level).
PS_TRIM_LEVEL = 0.995


def _dr_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD for panel data (Sant'Anna and Zhao 2020, eq. 3.1).

    ``x`` includes the intercept. Returns the ATT and its influence function on this
    subsample (as R's ``DRDID::drdid_panel``, logit propensity score trimmed at 0.995).
    """
    n = d.size
    ps = _logit_fit(d, x)
    ps = np.clip(ps, 1e-6, 1 - 1e-6)
    trim = np.ones(n, dtype=bool)
    trim[d == 0] = ps[d == 0] < PS_TRIM_LEVEL
    ctrl = d == 0
    xc = x[ctrl]
    beta = np.linalg.lstsq(xc, dy[ctrl], rcond=None)[0]
    out = x @ beta
    w_treat = trim * d
    w_cont = trim * ps * (1 - d) / (1 - ps)
    resid = dy - out
    att_treat = w_treat * resid
    att_cont = w_cont * resid
    mw_treat, mw_cont = w_treat.mean(), w_cont.mean()
    if mw_treat == 0 or mw_cont == 0:
        raise ValueError("att_gt: no treated or comparison units left after trimming.")
    eta_treat = att_treat.mean() / mw_treat
    eta_cont = att_cont.mean() / mw_cont

    w_ols = 1.0 - d
    xtwx = x.T @ (w_ols[:, None] * x) / n
    if np.linalg.cond(xtwx) > 1 / np.finfo(float).eps:
        raise ValueError(
            "att_gt: the outcome regression on comparison units is singular; remove covariates."
        )
    lin_ols = ((w_ols * resid)[:, None] * x) @ np.linalg.inv(xtwx)
    w_ps = ps * (1 - ps)
    lin_ps = ((d - ps)[:, None] * x) @ (np.linalg.inv(x.T @ (w_ps[:, None] * x)) * n)

    inf_treat = (att_treat - w_treat * eta_treat - lin_ols @ (w_treat[:, None] * x).mean(0)) / (
        mw_treat
    )
    cont_base = att_cont - w_cont * eta_cont
    inf_cont = (
        cont_base
        + lin_ps @ (cont_base[:, None] * x).mean(0)
        - lin_ols @ (w_cont[:, None] * x).mean(0)
    ) / mw_cont
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def _logit_fit(d: np.ndarray, x: np.ndarray, *, max_iter: int = 50, tol: float = 1e-12):
    """Maximum-likelihood logit by Newton-Raphson; returns fitted probabilities."""
    beta = np.zeros(x.shape[1])
    p = np.full(d.size, d.mean())
    beta[0] = np.log(p[0] / (1 - p[0]))  # start at the intercept-only solution
    for _ in range(max_iter):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        hess = x.T @ (w[:, None] * x)
        step = np.linalg.solve(hess, x.T @ (d - p))
        beta += step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn("att_gt: the propensity-score logit did not converge.", stacklevel=4)
    return 1.0 / (1.0 + np.exp(-(x @ beta)))


def _as_period(values) -> np.ndarray:
    """Periods back as integers when they are whole numbers (years)."""
    arr = np.asarray(values, dtype=float)
    if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    return arr


def _scalar(value):
    value = float(value)
    return int(value) if value.is_integer() else value


def _size(index) -> int:
    return index.stop - index.start if isinstance(index, slice) else int(index.size)


def _differences(y, index, ti, bi):
    """Outcome changes of the units in ``index`` (slice or array), missing ones left out."""
    dy = y[index, ti] - y[index, bi]
    ok = ~np.isnan(dy)
    if ok.all():
        return dy, index
    if isinstance(index, slice):
        index = np.arange(index.start, index.stop)
    return dy[ok], index[ok]


def _leverage_sum(codes: np.ndarray, infl: np.ndarray, size: int) -> np.ndarray:
    """Cluster sums of one group's influence function divided by sqrt(1 - leverage).

    A cluster holding the share ``h`` of a group's units pulls the group mean towards
    itself, so its centred sum understates its variance by the factor ``1 - h``; dividing
    by ``sqrt(1 - h)`` makes the variance of a difference of cluster means unbiased (the
    CR2 correction of Bell and McCaffrey 2002, exact here). A group with a single cluster
    has no estimable variance; its (zero) contribution is left as it is.
    """
    total = np.bincount(codes, weights=infl, minlength=size)
    h = np.bincount(codes, minlength=size) / max(codes.size, 1)
    return total / np.sqrt(np.where(h < 1.0, 1.0 - h, 1.0))


def _cell(y, x, treat, ctrl, ti, bi, n, cluster, clustered, out, out_adj=None):
    """ATT of one 2x2 comparison; its cluster-summed influence function goes into ``out``.

    ``out_adj`` (optional) receives the leverage-corrected version (:func:`_leverage_sum`).
    """
    if x is None:
        dy_t, treat = _differences(y, treat, ti, bi)
        dy_c, ctrl = _differences(y, ctrl, ti, bi)
        n_t, n_c = dy_t.size, dy_c.size
        if n_t == 0 or n_c == 0:
            return None, n_t, n_c
        m_t, m_c = dy_t.mean(), dy_c.mean()
        # influence function of a difference of means, scaled as R's did (n / n_cell)
        inf_t = (n / n_t) * (dy_t - m_t)
        inf_c = (-n / n_c) * (dy_c - m_c)
        if clustered:
            out[:] = np.bincount(cluster[treat], weights=inf_t, minlength=out.size)
            out += np.bincount(cluster[ctrl], weights=inf_c, minlength=out.size)
        else:
            out[cluster[treat]] = inf_t
            out[cluster[ctrl]] = inf_c
        if out_adj is not None:
            out_adj[:] = _leverage_sum(cluster[treat], inf_t, out.size)
            out_adj += _leverage_sum(cluster[ctrl], inf_c, out.size)
        return float(m_t - m_c), n_t, n_c
    treat = np.arange(treat.start, treat.stop) if isinstance(treat, slice) else treat
    ctrl = np.arange(ctrl.start, ctrl.stop) if isinstance(ctrl, slice) else ctrl
    idx = np.concatenate([treat, ctrl])
    dy = y[idx, ti] - y[idx, bi]
    d = np.zeros(idx.size)
    d[: treat.size] = 1.0
    ok = ~np.isnan(dy)
    if x is not None:
        xs = x[idx, min(ti, bi), :]
        ok &= ~np.isnan(xs).any(axis=1)
    if not ok.all():  # pairwise mode: units observed in both periods only
        idx, dy, d = idx[ok], dy[ok], d[ok]
        if x is not None:
            xs = xs[ok]
    n_t = int(d.sum())
    n_c = int(d.size - n_t)
    if n_t == 0 or n_c == 0:
        return None, n_t, n_c
    design = np.column_stack([np.ones(dy.size), xs])
    att, local = _dr_panel(dy, d, design)
    infl = (n / dy.size) * local
    if clustered:
        out[:] = np.bincount(cluster[idx], weights=infl, minlength=out.size)
    else:
        out[cluster[idx]] = infl
    if out_adj is not None:
        # leverage of the doubly robust fit approximated by the cluster's share of its group
        is_t = d == 1
        out_adj[:] = _leverage_sum(cluster[idx[is_t]], infl[is_t], out.size)
        out_adj += _leverage_sum(cluster[idx[~is_t]], infl[~is_t], out.size)
    return att, n_t, n_c
