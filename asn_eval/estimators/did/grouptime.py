"""``att_gt``: group-time average treatment effects of Callaway and Sant'Anna (2021).

The front of the estimator (R's did ``att_gt``): it checks the options, prepares the data
(:mod:`.preprocess`), runs one 2x2 comparison per cell (:mod:`.compute`), turns the influence
functions into standard errors (:mod:`.bootstrap`) and returns a :class:`.GroupTimeResult`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from asn_eval.estimators.did.bootstrap import BOOT_WEIGHTS, _bootstrap_note, _Inference
from asn_eval.estimators.did.compute import (
    EST_METHODS,
    _as_period,
    _cell,
    _cell_long,
    _scalar,
    _size,
)
from asn_eval.estimators.did.preprocess import (
    BASE_PERIODS,
    CONTROL_GROUPS,
    NEVER_TREATED,
    UNBALANCED,
    _check_anticipation,
    _is_balanced,
    _prepare,
    _prepare_long,
    _require_columns,
)
from asn_eval.estimators.did.results import METHOD_NAME, GroupTimeResult

# Leverage-corrected influence functions (for the small-sample pre-trend test) are kept only
# up to this many clusters: beyond it the correction is negligible unless a cohort is tiny,
# and a second (cells x clusters) array would double the memory of national panels.
SMALL_SAMPLE_MAX_CLUSTERS = 20_000
_DROP_TEXT = {
    "dropped_unbalanced": "{} units not observed with complete data in every period",
    "dropped_treated_first_period": "{} units already treated in the first period",
    "dropped_rows_missing": "{} rows with a missing outcome or covariate",
    "recoded_never": "{} units first treated after the last period counted as never treated",
    "kept_unbalanced": "{} units observed in only some periods kept (pairwise cells)",
    "cluster_movers": "{} units changing cluster, assigned to their first cluster",
    "skipped_cells": "{} (g, t) cells without treated or comparison units left out",
    "unbalanced_units": "{} units of an unbalanced panel kept, their rows used as repeated "
    "cross-sections clustered by unit",
}
_METHOD_WORDS = {
    "dr": "doubly robust (Sant'Anna-Zhao)",
    "ipw": "inverse probability weighting (standardised, Sant'Anna-Zhao)",
    "reg": "outcome regression (Sant'Anna-Zhao)",
}


def att_gt(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    control_group: str = "never",
    base_period: str = "varying",
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    n_boot: int = 0,
    seed: int | None = None,
    boot_weights: str = "rademacher",
    anticipation: int = 0,
    unbalanced: str = "drop",
    level: float = 0.95,
    panel: bool = True,
    allow_unbalanced: bool = False,
    weights: str | None = None,
    est_method: str = "dr",
) -> GroupTimeResult:
    """Group-time average treatment effects of Callaway and Sant'Anna (2021).

    For each adoption cohort ``g`` (first treated period) and period ``t``, ATT(g, t)
    compares the change in ``outcome`` from a base period to ``t`` in cohort ``g`` with the
    same change among comparison units (never treated, or not yet treated by ``t``). With
    ``base_period="varying"`` pre-treatment cells compare consecutive periods and
    post-treatment cells use ``g - 1``; ``"universal"`` uses ``g - 1`` throughout (its own
    cell is 0). Without covariates each cell is a difference of cohort means; with covariates
    it is the doubly robust estimator of Sant'Anna and Zhao (2020) with covariates from the
    earlier of the two periods, the default of R's did. Standard errors come from the
    influence function (R's did with ``bstrap=FALSE``). ``n_boot > 0`` gives multiplier-
    bootstrap standard errors and uniform (sup-t) confidence bands, with one weight per
    cluster (Rademacher by default, as R's did).

    With ``anticipation=d`` units may react ``d`` periods before adoption (R's did
    ``anticipation``): the base period of cohort ``g`` is the last period before ``g - d``,
    not-yet-treated comparison units must be untreated until ``d`` periods after the later
    of the two periods compared, cohorts adopting within ``d`` periods of the first period
    have no clean base period and are dropped, and cohorts adopting later than ``d``
    periods after the last one count as never treated.

    ``panel=False`` treats the rows as repeated cross-sections (R's did ``panel=FALSE``): each
    row is its own observation (``unit`` is only a respondent id and is not used to link
    rows), and each cell compares four cohort-period groups of rows with the estimators of
    Sant'Anna and Zhao (2020) for repeated cross-sections, as R's DRDID: ``drdid_rc`` (the
    locally efficient doubly robust estimator, R did's default) for ``est_method="dr"``,
    ``std_ipw_did_rc`` for ``"ipw"`` and ``reg_did_rc`` for ``"reg"``. Covariates are those of
    each row; without them every method gives the difference of cohort-period means
    ``(Y[g, t] - Y[g, b]) - (Y[c, t] - Y[c, b])``. The influence function has one entry per row
    (R's did: ``n / n1`` times DRDID's, ``n`` rows in all, ``n1`` in the cell) and the
    aggregations weight cohorts by their share of rows. ``allow_unbalanced=True`` keeps an
    unbalanced panel as R's did ``allow_unbalanced_panel=TRUE`` does: if, after dropping rows
    with missing data, every unit is seen in every period the panel estimators run unchanged;
    otherwise the rows are used as repeated cross-sections whose influence functions are
    summed within unit (``n`` = units, cohort shares = shares of units), so standard errors
    are clustered by unit. This is valid under attrition unrelated to outcomes but ignores
    the panel's within-unit differencing, so it is noisier than the balanced estimator.

    ``weights`` names a column of sampling weights, divided by their mean as R's did does;
    each 2x2 comparison is weighted (R's ``i.weights``) and so are the cohort shares of the
    aggregations. In panel data a unit's weight must not change over time. ``est_method``
    chooses DRDID's panel estimator with covariates: ``drdid_panel`` (``"dr"``),
    ``std_ipw_did_panel`` (``"ipw"``) or ``reg_did_panel`` (``"reg"``); without covariates the
    three are the same difference of means.

    Clustering conventions, against R's did 2.5 (which reports analytic cluster-robust
    standard errors since 2.5.0, from the cluster sums of the influence function): with
    ``cluster`` the cluster sums here are multiplied by G/(G-1) and intervals and p-values
    use t(G-1) quantiles, the usual small-sample corrections for few clusters (as Stata and
    fixest do for clustered regressions); R's did uses neither, so clustered standard errors
    here are ``sqrt(G/(G-1))`` times R's (the bootstrap ones too) and intervals wider.
    Clustering on the unit column itself is allowed and adds only the factor G/(G-1); R's
    did ignores a cluster variable equal to the unit id. Without ``cluster`` the results
    equal R's.

    Parameters
    ----------
    data
        Long panel, one row per unit and period.
    outcome, unit, time
        Column names; ``time`` holds integer-like periods (e.g. years).
    cohort
        Column with the first treated period of the unit; 0 or missing = never treated.
        Cohorts after the last period count as never treated; units treated in the first
        period are dropped (as R's did).
    control_group
        ``"never"`` (never treated) or ``"notyet"`` (never or not yet treated).
    base_period
        ``"varying"`` or ``"universal"``.
    covariates
        Columns for the doubly robust estimator (values of the earlier period are used).
    cluster
        Column to cluster on (e.g. agency); each unit belongs to its cluster of its first
        observed period. ``None``: the unit is the cluster, as R's did.
    n_boot, seed, boot_weights
        Multiplier bootstrap draws (0 = analytic), seed, and the weights drawn per cluster:
        ``"rademacher"`` (+-1, R's did), ``"webb"`` (six points, Webb 2023; more distinct
        draws with fewer than about 12 clusters) or ``"mammen"`` (two skewed points). The
        summary states which were used.
    anticipation
        Number of periods before adoption in which units may already react (integer >= 0;
        R's did ``anticipation``).
    unbalanced
        ``"drop"``: keep only units observed in every period (R's did default);
        ``"pairwise"``: each cell is the balanced panel estimator on the units observed
        (with complete data) in both of its periods; cell by cell it equals ``att_gt`` on
        that two-period sub-panel (estimate and standard error), and the aggregations weight
        cohorts by their share of all units kept. No external package computes it; for R
        did's estimator use ``allow_unbalanced=True``.
    level
        Confidence level.
    panel
        ``True``: a panel (one row per unit and period). ``False``: repeated cross-sections,
        every row its own observation (R's did ``panel=FALSE``).
    allow_unbalanced
        Keep an unbalanced panel as R's did ``allow_unbalanced_panel=TRUE`` (see above);
        cannot be combined with ``unbalanced="pairwise"``.
    weights
        Column of non-negative sampling weights (R's did ``weightsname``); ``None``: equal.
    est_method
        ``"dr"`` (doubly robust, R's did default), ``"ipw"`` (standardised inverse probability
        weighting) or ``"reg"`` (outcome regression); matters only with covariates.

    Returns
    -------
    GroupTimeResult
        ATT(g, t) with ``to_frame()`` columns ``cohort``, ``time``, ``estimate``,
        ``std_error``, ``ci_low``, ``ci_high``; ``.aggregate(kind)``; ``cells``; ``vcov``.

    Examples
    --------
    >>> from asn_eval.data.synth import simulate_panel
    >>> panel = simulate_panel(n_employees=600, n_agencies=20, seed=1)
    >>> res = att_gt(panel, outcome="y", unit="employee_id", time="year", cohort="cohort")
    >>> res.aggregate("dynamic").to_frame().columns[0]
    'event_time'
    >>> survey = panel.sample(frac=0.5, random_state=1)  # a respondent-level survey
    >>> rcs = att_gt(survey, outcome="y", unit="employee_id", time="year", cohort="cohort",
    ...              panel=False)
    >>> rcs.info["estimator"]
    'difference of cohort-period means, repeated cross-sections'

    References
    ----------
    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. Journal of Econometrics 219(1), 101-122.
    """
    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"control_group must be 'never' or 'notyet'; got {control_group!r}.")
    if base_period not in BASE_PERIODS:
        raise ValueError(f"base_period must be 'varying' or 'universal'; got {base_period!r}.")
    if unbalanced not in UNBALANCED:
        raise ValueError(f"unbalanced must be 'drop' or 'pairwise'; got {unbalanced!r}.")
    if boot_weights not in BOOT_WEIGHTS:
        raise ValueError(
            f"boot_weights must be 'rademacher', 'mammen' or 'webb'; got {boot_weights!r}."
        )
    if est_method not in EST_METHODS:
        raise ValueError(f"est_method must be 'dr', 'ipw' or 'reg'; got {est_method!r}.")
    for name, flag in (("panel", panel), ("allow_unbalanced", allow_unbalanced)):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"{name} must be True or False; got {flag!r}.")
    if allow_unbalanced and unbalanced != "drop":
        raise ValueError(
            "allow_unbalanced=True and unbalanced='pairwise' are two ways of keeping an "
            "unbalanced panel; choose one."
        )
    if allow_unbalanced and not panel:
        raise ValueError("allow_unbalanced applies to panel data; with panel=False omit it.")
    anticipation = _check_anticipation(anticipation)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    options = dict(
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        control_group=control_group,
        base_period=base_period,
        covariates=covariates,
        cluster=cluster,
        n_boot=n_boot,
        seed=seed,
        boot_weights=boot_weights,
        anticipation=anticipation,
        level=level,
        weights=weights,
        est_method=est_method,
    )
    if not panel:
        return _att_gt_long(data, panel=False, **options)
    if allow_unbalanced:
        _require_columns(data, {"outcome": outcome, "unit": unit, "time": time})
        balanced = _is_balanced(data, outcome=outcome, unit=unit, time=time, covariates=covariates)
        if not balanced:  # as R's did: a balanced panel keeps the panel estimators
            return _att_gt_long(data, panel=True, **options)

    wide = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        covariates=covariates,
        cluster=cluster,
        unbalanced=unbalanced,
        anticipation=anticipation,
        weights=weights,
    )
    periods, y, x, g_unit, unit_cluster = wide.periods, wide.y, wide.x, wide.cohort, wide.cluster
    w_unit = wide.weights
    n = y.shape[0]
    # Units sorted by cohort: each cohort is then a contiguous block of rows (a slice, read
    # without copying), which is what makes the cells cheap on national panels.
    order = np.argsort(g_unit, kind="stable")
    if np.any(order != np.arange(n)):
        y, g_unit, unit_cluster = y[order], g_unit[order], unit_cluster[order]
        x = None if x is None else x[order]
        w_unit = None if w_unit is None else w_unit[order]
    values, starts, sizes = np.unique(g_unit, return_index=True, return_counts=True)
    block = {v: slice(int(a), int(a + k)) for v, a, k in zip(values, starts, sizes, strict=True)}
    groups = values[values != NEVER_TREATED]
    if groups.size == 0:
        raise ValueError(f"att_gt: no unit is ever treated (column {cohort!r}).")
    never_idx = block.get(NEVER_TREATED, slice(0, 0))
    n_never = never_idx.stop - never_idx.start
    if control_group == "never" and n_never == 0:
        raise ValueError(
            "att_gt: there are no never-treated units to compare with; use control_group='notyet'."
        )
    cohort_idx = {g: block[g] for g in groups}
    clustered = cluster is not None
    n_clusters = wide.n_clusters

    records = []
    first = 1 if base_period == "varying" else 0
    # one row per cell, filled in place: at national scale a row is a few tens of MB
    influence = np.zeros((groups.size * (periods.size - first), n_clusters))
    influence_adj = np.zeros_like(influence) if n_clusters <= SMALL_SAMPLE_MAX_CLUSTERS else None
    for g in groups:
        # the last period before units may react (R's did: t + anticipation < g)
        base_g = int(np.flatnonzero(periods + anticipation < g)[-1])
        for ti in range(first, periods.size):
            t = periods[ti]
            bi = base_g if (t >= g or base_period == "universal") else ti - 1
            if ti == bi:  # universal base: the reference cell itself
                records.append((g, t, periods[bi], t >= g, _size(cohort_idx[g]), 0, 0.0))
                continue
            if control_group == "never":
                ctrl = never_idx
            else:
                # comparison units must be untreated, anticipation included, in both periods
                later = max(t, periods[bi]) + anticipation
                ctrl = np.flatnonzero(
                    (g_unit == NEVER_TREATED) | ((g_unit > later) & (g_unit != g))
                )
            treat = cohort_idx[g]
            row = len(records)
            att, n_t, n_c = _cell(
                y,
                x,
                treat,
                ctrl,
                ti,
                bi,
                n,
                unit_cluster,
                clustered,
                influence[row],
                None if influence_adj is None else influence_adj[row],
                weights=w_unit,
                method=est_method,
            )
            if att is None:
                continue
            records.append((g, t, periods[bi], t >= g, n_t, n_c, att))

    skipped = sum(1 for g in groups for _ in range(first, periods.size)) - len(records)

    cluster_sizes = np.bincount(unit_cluster, minlength=n_clusters).astype(float)
    cohort_counts = np.zeros((n_clusters, groups.size))
    for j, g in enumerate(groups):
        # with sampling weights the cohort shares of the aggregations are weighted (R's pg)
        share = None if w_unit is None else w_unit[cohort_idx[g]]
        cohort_counts[:, j] = np.bincount(
            unit_cluster[cohort_idx[g]], weights=share, minlength=n_clusters
        )
    counts = dict(wide.info)
    counts["skipped_cells"] = skipped
    return _result(
        records,
        influence,
        influence_adj,
        n=n,
        cluster_sizes=cluster_sizes,
        cohort_counts=cohort_counts,
        groups=groups,
        cohort_sizes={_scalar(g): _size(cohort_idx[g]) for g in groups} | {"never": n_never},
        counts=counts,
        clustered=clustered,
        cluster=cluster,
        n_boot=n_boot,
        seed=seed,
        boot_weights=boot_weights,
        level=level,
        outcome=outcome,
        control_group=control_group,
        base_period=base_period,
        anticipation=anticipation,
        estimator=_estimator_note(covariates, est_method, weights, "panel"),
    )


def _result(
    records,
    influence,
    influence_adj,
    *,
    n,
    cluster_sizes,
    cohort_counts,
    groups,
    cohort_sizes,
    counts,
    clustered,
    cluster,
    n_boot,
    seed,
    boot_weights,
    level,
    outcome,
    control_group,
    base_period,
    anticipation,
    estimator,
) -> GroupTimeResult:
    """The :class:`GroupTimeResult` of the cells estimated (panel or repeated cross-sections)."""
    cells = pd.DataFrame(
        records,
        columns=["cohort", "time", "base", "post", "n_treated", "n_control", "estimate"],
    )
    cells = cells.astype({"post": bool, "n_treated": int, "n_control": int})
    influence = influence[: len(records)]
    if influence_adj is not None:
        influence_adj = influence_adj[: len(records)]
    n_clusters = cluster_sizes.size
    inference = _Inference(
        n_units=n,
        cluster_sizes=cluster_sizes,
        cohort_counts=cohort_counts,
        groups=groups,
        adjustment=n_clusters / (n_clusters - 1) if clustered and n_clusters > 1 else 1.0,
        clustered=clustered,
        n_boot=int(n_boot),
        seed=seed,
        boot_weights=boot_weights,
        level=level,
    )
    se, crit = inference.standard_errors(influence)
    index = pd.MultiIndex.from_arrays(
        [_as_period(cells["cohort"]), _as_period(cells["time"])], names=["cohort", "time"]
    )
    info = {
        "n_units": n,
        "n_clusters": n_clusters,
        "cohort_sizes": cohort_sizes,
        "control_group": {"never": "never treated", "notyet": "not yet treated"}[control_group],
        "base_period": base_period,
        **({"anticipation": f"{anticipation} period(s)"} if anticipation else {}),
        "estimator": estimator,
        "standard_errors": _se_note(inference, clustered, cluster),
    }
    info["dropped"] = _drop_account(counts)
    cells.insert(0, "cohort_label", index.get_level_values("cohort"))
    cells = cells.drop(columns="cohort").rename(columns={"cohort_label": "cohort"})
    cells["time"] = index.get_level_values("time")
    cells["base"] = _as_period(cells["base"])
    return GroupTimeResult(
        params=pd.Series(cells["estimate"].to_numpy(), index=index, name="estimate"),
        std_errors=pd.Series(se, index=index, name="std_error"),
        method=METHOD_NAME,
        outcome=outcome,
        level=level,
        critical_value=crit,
        df=inference.df,
        info=info,
        cells=cells.drop(columns="estimate").reset_index(drop=True),
        dropped=counts,
        influence=influence,
        inference=inference,
        influence_adj=influence_adj,
    )


def _drop_account(counts: dict[str, int]) -> str:
    """One readable sentence on what was dropped or recoded."""
    parts = [_DROP_TEXT[k].format(v) for k, v in counts.items() if v and k in _DROP_TEXT]
    return "; ".join(parts) if parts else "nothing"


def _se_note(inference: _Inference, clustered: bool, cluster: str | None) -> str:
    if clustered:
        how = (
            f"clustered by {cluster} ({inference.n_clusters} clusters, "
            "influence function summed within clusters, times G/(G-1); t(G-1) intervals)"
        )
    else:
        how = "by unit (influence function, as R's did)"
    if inference.n_boot > 0:
        return f"{_bootstrap_note(inference)}; {how}"
    return f"analytic, {how}"


def _estimator_note(covariates, est_method, weights, data_kind) -> str:
    """How each cell was estimated, in words (the summary's ``estimator`` line)."""
    if covariates:
        text = _METHOD_WORDS[est_method]
    else:
        text = (
            "difference of means" if data_kind == "panel" else "difference of cohort-period means"
        )
    if weights:
        text += f", weighted by {weights}"
    if data_kind == "rcs":
        text += ", repeated cross-sections"
    elif data_kind == "unbalanced":
        text += ", unbalanced panel as repeated cross-sections"
    return text


def _att_gt_long(
    data,
    *,
    panel,
    outcome,
    unit,
    time,
    cohort,
    control_group,
    base_period,
    covariates,
    cluster,
    n_boot,
    seed,
    boot_weights,
    anticipation,
    level,
    weights,
    est_method,
) -> GroupTimeResult:
    """ATT(g, t) from rows: repeated cross-sections, or an unbalanced panel (R's did with
    ``panel=FALSE`` or ``allow_unbalanced_panel=TRUE``)."""
    long = _prepare_long(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        covariates=covariates,
        cluster=cluster,
        weights=weights,
        panel=panel,
        anticipation=anticipation,
    )
    periods, g_row = long.periods, long.cohort
    groups = np.unique(g_row[g_row != NEVER_TREATED])
    if groups.size == 0:
        raise ValueError(f"att_gt: no unit is ever treated (column {cohort!r}).")
    if control_group == "never" and not (g_row == NEVER_TREATED).any():
        raise ValueError(
            "att_gt: there are no never-treated units to compare with; use control_group='notyet'."
        )
    clustered = cluster is not None
    # the influence function of a row is summed into its cluster (or its observation unit)
    row_code = long.cluster[long.owner]
    n_codes = long.n_clusters
    period_rows = [np.flatnonzero(long.time == k) for k in range(periods.size)]
    first = 1 if base_period == "varying" else 0
    influence = np.zeros((groups.size * (periods.size - first), n_codes))
    records = []
    for g in groups:
        base_g = int(np.flatnonzero(periods + anticipation < g)[-1])
        n_g = int((long.owner_cohort == g).sum())
        for ti in range(first, periods.size):
            t = periods[ti]
            bi = base_g if (t >= g or base_period == "universal") else ti - 1
            if ti == bi:
                records.append((g, t, periods[bi], t >= g, n_g, 0, 0.0))
                continue
            rows = np.concatenate([period_rows[bi], period_rows[ti]])
            gr = g_row[rows]
            if control_group == "never":
                ctrl = gr == NEVER_TREATED
            else:
                later = max(t, periods[bi]) + anticipation
                ctrl = (gr == NEVER_TREATED) | ((gr > later) & (gr != g))
            rows = rows[(gr == g) | ctrl]
            row = len(records)
            att, n_t, n_c = _cell_long(
                long, rows, g, ti, long.n_owners, row_code, influence[row], est_method
            )
            if att is None:
                continue
            records.append((g, t, periods[bi], t >= g, n_t, n_c, att))
    skipped = groups.size * (periods.size - first) - len(records)
    cluster_sizes = np.bincount(long.cluster, minlength=n_codes).astype(float)
    cohort_counts = np.zeros((n_codes, groups.size))
    weighted = None if weights is None else long.owner_weight
    for j, g in enumerate(groups):
        mine = long.owner_cohort == g
        cohort_counts[:, j] = np.bincount(
            long.cluster[mine],
            weights=None if weighted is None else weighted[mine],
            minlength=n_codes,
        )
    counts = dict(long.info)
    counts["skipped_cells"] = skipped
    sizes = {_scalar(g): int((long.owner_cohort == g).sum()) for g in groups}
    return _result(
        records,
        influence,
        None,
        n=long.n_owners,
        cluster_sizes=cluster_sizes,
        cohort_counts=cohort_counts,
        groups=groups,
        cohort_sizes=sizes | {"never": int((long.owner_cohort == NEVER_TREATED).sum())},
        counts=counts,
        clustered=clustered,
        cluster=cluster,
        n_boot=n_boot,
        seed=seed,
        boot_weights=boot_weights,
        level=level,
        outcome=outcome,
        control_group=control_group,
        base_period=base_period,
        anticipation=anticipation,
        estimator=_estimator_note(
            covariates, est_method, weights, "unbalanced" if panel else "rcs"
        ),
    )
