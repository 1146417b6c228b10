"""Aggregations of ATT(g, t) (R's did ``aggte``): simple, dynamic, group and calendar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from asn_eval.estimators.did.compute import _scalar

if TYPE_CHECKING:
    from asn_eval.estimators.did.results import GroupTimeResult

AGGREGATIONS = ("simple", "dynamic", "group", "calendar")
_CARRIED_INFO = (
    "n_units",
    "n_clusters",
    "control_group",
    "base_period",
    "anticipation",
    "standard_errors",
)


def _aggregate(res: GroupTimeResult, kind: str, *, min_e=None, max_e=None) -> dict[str, Any]:
    """The fields of the :class:`~asn_eval.estimators.did.results.AggregateResult` of ``kind``
    (R did's ``aggte``); :meth:`GroupTimeResult.aggregate` builds the result from them."""
    inf = res.inference
    cells = res.cells
    g = cells["cohort"].to_numpy(dtype=float)
    t = cells["time"].to_numpy(dtype=float)
    e = t - g
    att = res.params.to_numpy(dtype=float)
    psi = res.influence
    gi = np.searchsorted(inf.groups.astype(float), g)
    pg_cell = inf.pg[gi]
    lo = -np.inf if min_e is None else min_e
    hi = np.inf if max_e is None else max_e
    in_window = (e >= lo) & (e <= hi)
    post = (g <= t) & in_window

    recorded: list[tuple[np.ndarray, np.ndarray | float]] = []

    def combine(which: np.ndarray, weights: np.ndarray, with_wif: bool) -> np.ndarray:
        full = np.zeros(psi.shape[0])
        full[which] = weights  # a full weight vector avoids copying rows of psi
        out = full @ psi
        wif = 0.0
        if with_wif:
            wif = inf.weight_influence(gi[which], pg_cell[which], att[which])
            out = out + wif
        recorded.append((full, wif))  # every row is one call: redone on influence_adj
        return out

    rows: list[tuple[Any, float, np.ndarray]] = []
    if kind == "simple":
        keep = np.flatnonzero(post)
        w = pg_cell[keep] / pg_cell[keep].sum()
        overall = float(w @ att[keep])
        overall_if = combine(keep, w, True)
        index_name = "aggregation"
        rows.append(("simple", overall, overall_if))
    elif kind == "group":
        index_name = "cohort"
        used = []
        for j, grp in enumerate(inf.groups):
            keep = np.flatnonzero(post & (g == grp))
            if keep.size == 0:
                continue
            w = np.full(keep.size, 1.0 / keep.size)
            rows.append((_scalar(grp), float(w @ att[keep]), combine(keep, w, False)))
            used.append(j)
        used = np.array(used)
        est_g = np.array([r[1] for r in rows])
        psi_g = np.vstack([r[2] for r in rows])
        pgg = inf.pg[used]
        w = pgg / pgg.sum()
        overall = float(w @ est_g)
        overall_if = w @ psi_g + inf.weight_influence(used, pgg, est_g)
    elif kind == "dynamic":
        index_name = "event_time"
        for ev in np.unique(e[in_window]):
            keep = np.flatnonzero((e == ev) & in_window)
            w = pg_cell[keep] / pg_cell[keep].sum()
            rows.append((_scalar(ev), float(w @ att[keep]), combine(keep, w, True)))
        ev_all = np.array([r[0] for r in rows], dtype=float)
        pos = ev_all >= 0
        est = np.array([r[1] for r in rows])
        psi_e = np.vstack([r[2] for r in rows])
        overall = float(est[pos].mean())
        overall_if = psi_e[pos].mean(axis=0)
    else:  # calendar
        index_name = "time"
        for period in np.unique(t[post]):
            keep = np.flatnonzero(post & (t == period))
            w = pg_cell[keep] / pg_cell[keep].sum()
            rows.append((_scalar(period), float(w @ att[keep]), combine(keep, w, True)))
        est = np.array([r[1] for r in rows])
        psi_t = np.vstack([r[2] for r in rows])
        overall = float(est.mean())
        overall_if = psi_t.mean(axis=0)

    labels = pd.Index([r[0] for r in rows], name=index_name)
    psi_rows = np.vstack([r[2] for r in rows])
    psi_adj_rows = None
    if res.influence_adj is not None:
        psi_adj_rows = np.vstack([full @ res.influence_adj + wif for full, wif in recorded])
    # reference cells of a universal base period have an exactly zero influence function
    se, crit = inf.standard_errors(psi_rows)
    if kind == "simple":
        # one row: its interval is pointwise, estimate +/- z * SE, as R's aggte prints it
        # (summary.AGGTEobj: qnorm(1 - alp/2) * overall.se); a sup-t value of one row is a
        # Monte Carlo draw of that quantile, not a band
        crit = None
    overall_se = inf.standard_errors(overall_if[None, :])[0][0]
    return dict(
        params=pd.Series([r[1] for r in rows], index=labels, name="estimate"),
        std_errors=pd.Series(se, index=labels, name="std_error"),
        outcome=res.outcome,
        level=res.level,
        critical_value=crit,
        df=inf.df,
        info={
            "overall ATT": f"{overall:.4f} (SE {overall_se:.4f})",
            **{k: v for k, v in res.info.items() if k in _CARRIED_INFO},
        },
        kind=kind,
        overall_att=overall,
        overall_se=float(overall_se),
        influence=psi_rows,
        inference=inf,
        influence_adj=psi_adj_rows,
    )
