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


def _cell(
    y,
    x,
    treat,
    ctrl,
    ti,
    bi,
    n,
    cluster,
    clustered,
    out,
    out_adj=None,
    *,
    weights=None,
    method="dr",
):
    """ATT of one 2x2 comparison; its cluster-summed influence function goes into ``out``.

    ``out_adj`` (optional) receives the leverage-corrected version (:func:`_leverage_sum`).
    ``weights`` (per unit) or ``method`` other than ``"dr"`` with covariates use the weighted
    estimators of :func:`_panel_2x2`; without either the cell is computed as before.
    """
    if x is None and weights is None:
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
    if x is None:
        design = np.ones((dy.size, 1))
    else:
        design = np.column_stack([np.ones(dy.size), xs])
    if weights is None and method == "dr":
        att, local = _dr_panel(dy, d, design)
    elif x is None:  # weighted, no covariates: every method is a difference of means
        att, local = _panel_means(dy, d, weights[idx])
    else:
        w = np.ones(dy.size) if weights is None else weights[idx]
        att, local = _panel_2x2(dy, d, design, w, method)
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


# --- weighted estimators of Sant'Anna and Zhao (2020), as R's DRDID -----------------------
# Used for sampling weights, ``est_method="ipw"|"reg"`` and repeated cross-sections; the
# unweighted doubly robust panel cell above stays as it is. ``x`` includes the intercept and
# ``w`` are weights normalised to mean one on the cell's sample (as DRDID does).

EST_METHODS = ("dr", "ipw", "reg")


def _weighted_logit(d: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted maximum-likelihood logit (R's ``glm(..., weights=)``), clipped as DRDID."""
    beta = np.zeros(x.shape[1])
    share = (w * d).sum() / w.sum()
    beta[0] = np.log(share / (1 - share))  # the intercept-only solution
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        step = np.linalg.solve(x.T @ ((w * p * (1 - p))[:, None] * x), x.T @ (w * (d - p)))
        beta += step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn("att_gt: the propensity-score logit did not converge.", stacklevel=4)
    return np.clip(1.0 / (1.0 + np.exp(-(x @ beta))), 1e-6, 1 - 1e-6)


def _ps_linear(d, x, w, ps) -> np.ndarray:
    """Asymptotic linear representation of the logit coefficients (DRDID ``asy.lin.rep.ps``)."""
    n = d.size
    hessian = x.T @ ((ps * (1 - ps) * w)[:, None] * x)
    return ((w * (d - ps))[:, None] * x) @ (np.linalg.inv(hessian) * n)


def _ols(y, x, w, subset) -> tuple[np.ndarray, np.ndarray]:
    """Weighted OLS on ``subset``: fitted values for all rows and the linear representation."""
    n = y.size
    ws = w * subset
    gram = x.T @ (ws[:, None] * x) / n
    if np.linalg.cond(gram) > 1 / np.finfo(float).eps:
        raise ValueError(
            "att_gt: an outcome regression of the 2x2 comparison is singular; remove covariates."
        )
    gram_inv = np.linalg.inv(gram)
    beta = gram_inv @ (x.T @ (ws * y)) / n
    fit = x @ beta
    return fit, ((ws * (y - fit))[:, None] * x) @ gram_inv


def _trim(d, ps) -> np.ndarray:
    keep = np.ones(d.size, dtype=bool)
    keep[d == 0] = ps[d == 0] < PS_TRIM_LEVEL
    return keep


def _panel_means(dy, d, w) -> tuple[float, np.ndarray]:
    """:func:`_panel_2x2` without covariates, in closed form: the weighted difference of the
    cohort's and the comparison group's mean changes, and each unit's deviation from its
    group's mean over the group's share of the weight (the normalisation of ``w`` cancels)."""
    group = d.astype(np.intp)
    total = np.bincount(group, weights=w, minlength=2)
    mean = np.bincount(group, weights=w * dy, minlength=2) / total
    scale = np.array([-1.0, 1.0]) * (w.size / total)
    return float(mean[1] - mean[0]), scale[group] * w * (dy - mean[group])


def _panel_2x2(dy, d, x, w, method) -> tuple[float, np.ndarray]:
    """ATT and influence function of a panel 2x2 comparison with weights ``w``.

    DRDID's ``drdid_panel`` (``"dr"``), ``std_ipw_did_panel`` (``"ipw"``) and
    ``reg_did_panel`` (``"reg"``).
    """
    w = w / w.mean()
    if method == "reg":
        out, lin_ols = _ols(dy, x, w, 1.0 - d)
        w_t = w * d
        m_t = w_t.mean()
        eta_t = (w_t * dy).mean() / m_t
        eta_c = (w_t * out).mean() / m_t
        inf_t = (w_t * dy - w_t * eta_t) / m_t
        inf_c = (w_t * out - w_t * eta_c + lin_ols @ (w_t[:, None] * x).mean(0)) / m_t
        return float(eta_t - eta_c), inf_t - inf_c
    ps = _weighted_logit(d, x, w)
    trim = _trim(d, ps)
    lin_ps = _ps_linear(d, x, w, ps)
    w_t = trim * w * d
    w_c = trim * w * ps * (1 - d) / (1 - ps)
    m_t, m_c = w_t.mean(), w_c.mean()
    if m_t == 0 or m_c == 0:
        raise ValueError("att_gt: no treated or comparison units left after trimming.")
    if method == "ipw":
        att_t = (w_t * dy).mean() / m_t
        att_c = (w_c * dy).mean() / m_c
        inf_t = (w_t * dy - w_t * att_t) / m_t
        inf_c = (w_c * dy - w_c * att_c) / m_c
        inf_ps = lin_ps @ ((w_c * (dy - att_c))[:, None] * x).mean(0) / m_c
        return float(att_t - att_c), inf_t - (inf_c + inf_ps)
    out, lin_ols = _ols(dy, x, w, 1.0 - d)
    resid = dy - out
    eta_t = (w_t * resid).mean() / m_t
    eta_c = (w_c * resid).mean() / m_c
    inf_t = (w_t * resid - w_t * eta_t - lin_ols @ (w_t[:, None] * x).mean(0)) / m_t
    base = w_c * resid - w_c * eta_c
    inf_c = (
        base
        + lin_ps @ ((w_c * (resid - eta_c))[:, None] * x).mean(0)
        - lin_ols @ (w_c[:, None] * x).mean(0)
    ) / m_c
    return float(eta_t - eta_c), inf_t - inf_c


def _rc_2x2(y, post, d, x, w, method) -> tuple[float, np.ndarray]:
    """ATT and influence function of a 2x2 comparison of repeated cross-sections.

    DRDID's ``drdid_rc`` (``"dr"``, the locally efficient doubly robust estimator of Sant'Anna
    and Zhao 2020, eq. 3.4, which R's did uses), ``std_ipw_did_rc`` (``"ipw"``) and
    ``reg_did_rc`` (``"reg"``). One entry per observation (row).
    """
    w = w / w.mean()
    pre = 1.0 - post
    ctrl = 1.0 - d
    if method == "reg":
        out_pre, lin_pre = _ols(y, x, w, ctrl * pre)
        out_post, lin_post = _ols(y, x, w, ctrl * post)
        w_t0, w_t1, w_c = w * d * pre, w * d * post, w * d
        att_t0, att_t1, att_c = w_t0 * y, w_t1 * y, w_c * (out_post - out_pre)
        eta_t0 = att_t0.mean() / w_t0.mean()
        eta_t1 = att_t1.mean() / w_t1.mean()
        eta_c = att_c.mean() / w_c.mean()
        inf_t = (att_t1 - w_t1 * eta_t1) / w_t1.mean() - (att_t0 - w_t0 * eta_t0) / w_t0.mean()
        moment = (w_c[:, None] * x).mean(0)
        inf_c = (att_c - w_c * eta_c + lin_post @ moment - lin_pre @ moment) / w_c.mean()
        return float(eta_t1 - eta_t0 - eta_c), inf_t - inf_c
    ps = _weighted_logit(d, x, w)
    trim = _trim(d, ps)
    lin_ps = _ps_linear(d, x, w, ps)
    odds = trim * w * ps * ctrl / (1 - ps)
    w_t0, w_t1 = trim * w * d * pre, trim * w * d * post
    w_c0, w_c1 = odds * pre, odds * post
    if method == "ipw":

        def part(wk):
            m = wk.mean()
            att = (wk * y).mean() / m
            return att, (wk * y - wk * att) / m, m

        a_t0, i_t0, _ = part(w_t0)
        a_t1, i_t1, _ = part(w_t1)
        a_c0, i_c0, m_c0 = part(w_c0)
        a_c1, i_c1, m_c1 = part(w_c1)
        m_pre = ((w_c0 * (y - a_c0))[:, None] * x).mean(0) / m_c0
        m_post = ((w_c1 * (y - a_c1))[:, None] * x).mean(0) / m_c1
        inf_c = i_c1 - i_c0 + lin_ps @ (m_post - m_pre)
        return float(a_t1 - a_t0 - (a_c1 - a_c0)), (i_t1 - i_t0) - inf_c
    out_c0, lin_c0 = _ols(y, x, w, ctrl * pre)
    out_c1, lin_c1 = _ols(y, x, w, ctrl * post)
    out_t0, lin_t0 = _ols(y, x, w, d * pre)
    out_t1, lin_t1 = _ols(y, x, w, d * post)
    out_c = post * out_c1 + pre * out_c0
    w_d, w_dt1, w_dt0 = trim * w * d, w_t1, w_t0
    resid = y - out_c
    gap1, gap0 = out_t1 - out_c1, out_t0 - out_c0

    def eta(wk, v):
        m = wk.mean()
        return (wk * v).mean() / m, m

    a_t0, m_t0 = eta(w_t0, resid)
    a_t1, m_t1 = eta(w_t1, resid)
    a_c0, m_c0 = eta(w_c0, resid)
    a_c1, m_c1 = eta(w_c1, resid)
    a_d1, m_d = eta(w_d, gap1)
    a_dt1, m_dt1 = eta(w_dt1, gap1)
    a_d0, _ = eta(w_d, gap0)
    a_dt0, m_dt0 = eta(w_dt0, gap0)
    att = (a_t1 - a_t0) - (a_c1 - a_c0) + (a_d1 - a_dt1) - (a_d0 - a_dt0)

    def mean_x(v):
        return (v[:, None] * x).mean(0)

    inf_t0 = w_t0 * (resid - a_t0) / m_t0
    inf_t1 = w_t1 * (resid - a_t1) / m_t1
    inf_t_or = lin_c1 @ (-mean_x(w_t1 * post) / m_t1) + lin_c0 @ (-mean_x(w_t0 * pre) / m_t0)
    inf_t = inf_t1 - inf_t0 + inf_t_or
    inf_c0 = w_c0 * (resid - a_c0) / m_c0
    inf_c1 = w_c1 * (resid - a_c1) / m_c1
    mom_c0 = mean_x(w_c0 * (resid - a_c0)) / m_c0
    mom_c1 = mean_x(w_c1 * (resid - a_c1)) / m_c1
    inf_c_ps = lin_ps @ (mom_c1 - mom_c0)
    inf_c_or = lin_c1 @ (-mean_x(w_c1 * post) / m_c1) + lin_c0 @ (-mean_x(w_c0 * pre) / m_c0)
    inf_c = inf_c1 - inf_c0 + inf_c_ps + inf_c_or
    inf_eff = (
        w_d * (gap1 - a_d1) / m_d
        - w_dt1 * (gap1 - a_dt1) / m_dt1
        - (w_d * (gap0 - a_d0) / m_d - w_dt0 * (gap0 - a_dt0) / m_dt0)
    )
    mom_post = mean_x(w_d / m_d - w_dt1 / m_dt1)
    mom_pre = mean_x(w_d / m_d - w_dt0 / m_dt0)
    inf_or = (lin_t1 - lin_c1) @ mom_post - (lin_t0 - lin_c0) @ mom_pre
    return float(att), inf_t - inf_c + inf_eff + inf_or


def _rc_means(y, post, d, w) -> tuple[float, np.ndarray]:
    """:func:`_rc_2x2` without covariates, in closed form.

    With an intercept only, the propensity score and the outcome regressions of every method
    are (weighted) means of the four cohort-period groups, so the ATT is
    ``(Y[g, t] - Y[g, b]) - (Y[c, t] - Y[c, b])`` and a row's influence is its deviation from
    its group's mean over the group's share of the weight (with the group's sign).
    """
    group = (2 * d + post).astype(np.intp)  # 0: comparison base, 1: comparison t, 2, 3: g
    total = np.bincount(group, weights=w, minlength=4)
    mean = np.bincount(group, weights=w * y, minlength=4) / total
    sign = np.array([1.0, -1.0, -1.0, 1.0])
    # DRDID's w_i (y_i - mean_k) / mean(w 1_k), w normalised to mean one: the normalisation
    # cancels, leaving n_rows * w_i (y_i - mean_k) / total_k
    scale = sign * (w.size / total)
    return float(sign @ mean), scale[group] * w * (y - mean[group])


def _cell_long(long, rows, g, ti, n, code, out, method):
    """ATT of one 2x2 comparison of rows (repeated cross-sections, or an unbalanced panel).

    As R's did: the cell's influence function, one entry per row, is scaled by ``n / n1``
    (``n`` observation units, ``n1`` rows in the cell) and summed into ``out`` by ``code``
    (the row's cluster, or its observation unit). Returns ``(att, n_treated, n_control)``
    counting rows, or ``(None, ...)`` when one of the four cohort-period groups is empty.
    """
    d = (long.cohort[rows] == g).astype(float)
    post = (long.time[rows] == ti).astype(float)
    n_t = int(d.sum())
    n_c = int(d.size - n_t)
    if (
        min((d * post).sum(), (d * (1 - post)).sum()) == 0
        or min(((1 - d) * post).sum(), ((1 - d) * (1 - post)).sum()) == 0
    ):
        return None, n_t, n_c
    y = long.y[rows]
    w = np.ones(rows.size) if long.weights is None else long.weights[rows]
    if long.x is None:
        att, local = _rc_means(y, post, d, w)
    else:
        design = np.column_stack([np.ones(rows.size), long.x[rows]])
        att, local = _rc_2x2(y, post, d, design, w, method)
    out[:] = np.bincount(code[rows], weights=(n / rows.size) * local, minlength=out.size)
    return att, n_t, n_c
