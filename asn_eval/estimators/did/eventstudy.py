"""``event_study``: effects by event time (periods since adoption).

``method="cs"`` aggregates ATT(g, t) by event time (R's did ``aggte(type="dynamic")``);
``method="twfe"`` is the dynamic two-way fixed effects regression, which lives with TWFE
(:func:`_event_study_twfe`, below).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from asn_eval.estimators.did.grouptime import att_gt
from asn_eval.estimators.did.preprocess import NEVER_TREATED, _check_anticipation, _require_columns
from asn_eval.estimators.did.results import METHOD_NAME, EventStudyResult
from asn_eval.estimators.twfe import twfe


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    method: str = "cs",
    window: tuple[int, int] | None = None,
    reference: int | None = -1,
    cluster: str | None = None,
    control_group: str = "never",
    anticipation: int = 0,
    endpoints: str = "bin",
    n_boot: int = 0,
    seed: int | None = None,
    boot_weights: str = "rademacher",
    level: float = 0.95,
) -> EventStudyResult:
    """Effects by event time (periods since adoption).

    ``method="cs"`` aggregates :func:`att_gt` by event time (R's ``aggte(type="dynamic")``);
    with ``reference=-1`` it uses the universal base period ``g - 1`` so that event time
    -1 is 0 by construction, as in a regression event study (Roth 2024 recommends this for
    plots); ``reference=None`` uses the varying base period of R's did default. With
    ``anticipation=d`` the universal base period is ``g - 1 - d``, so the reference must be
    ``-1 - d`` (or ``None``).
    ``method="twfe"`` is the dynamic two-way fixed effects regression with one dummy per
    event time except ``reference``; never-treated units have all dummies 0. This
    specification is biased when effects differ between cohorts (Sun and Abraham 2021) and
    is offered for comparison.

    Parameters
    ----------
    data, outcome, unit, time, cohort
        As in :func:`att_gt` (cohort 0 or missing = never treated).
    method
        ``"cs"`` or ``"twfe"``.
    window
        ``(first, last)`` event times. ``cs``: cells outside are left out. ``twfe``: see
        ``endpoints``.
    reference
        Event time normalised to 0 (``-1``); ``cs`` also accepts ``None``.
    cluster
        Column to cluster on (e.g. agency, or the unit itself). The conventions against R's
        did are those of :func:`att_gt` (``cs``) and :func:`~asn_eval.estimators.twfe.twfe`
        (``twfe``).
    control_group
        ``cs`` only: ``"never"`` or ``"notyet"``.
    anticipation
        Periods before adoption in which units may already react (R's did
        ``anticipation``). ``cs``: as in :func:`att_gt`; ``twfe``: the regression is
        unchanged and the reference must be an event time before the anticipation,
        ``reference <= -1 - anticipation``.
    endpoints
        ``twfe`` with a window: ``"bin"`` puts event times beyond the window into the end
        points (Schmidheiny and Siegloch 2023), which assumes the effect is constant beyond
        them; ``"trim"`` drops treated rows outside the window.
    n_boot, seed, boot_weights
        ``cs`` only: multiplier-bootstrap draws for uniform (sup-t) bands over event times,
        their seed and weights (``"rademacher"``, as R's did, ``"webb"`` or ``"mammen"``).

    Returns
    -------
    EventStudyResult
        Indexed by ``event_time``, with ``vcov`` of the estimated event times and
        ``overall_att``/``overall_se`` (average over event times >= 0).
    """
    if window is not None:
        window = (int(window[0]), int(window[1]))
        if window[0] > window[1]:
            raise ValueError(f"event_study: window must be (first, last); got {window}.")
    if endpoints not in ("bin", "trim"):
        raise ValueError(f"event_study: endpoints must be 'bin' or 'trim'; got {endpoints!r}.")
    anticipation = _check_anticipation(anticipation)
    if method == "twfe" and n_boot:
        raise ValueError(
            "event_study(method='twfe'): n_boot is for method='cs'; for few-cluster inference "
            "on TWFE use the wild cluster bootstrap."
        )
    if method == "cs":
        return _event_study_cs(
            data,
            outcome=outcome,
            unit=unit,
            time=time,
            cohort=cohort,
            window=window,
            reference=reference,
            cluster=cluster,
            control_group=control_group,
            anticipation=anticipation,
            n_boot=n_boot,
            seed=seed,
            boot_weights=boot_weights,
            level=level,
        )
    if method == "twfe":
        return _event_study_twfe(
            data,
            outcome=outcome,
            unit=unit,
            time=time,
            cohort=cohort,
            window=window,
            reference=reference,
            cluster=cluster,
            anticipation=anticipation,
            endpoints=endpoints,
            level=level,
        )
    raise ValueError(f"event_study: method must be 'cs' or 'twfe'; got {method!r}.")


def _event_study_cs(
    data,
    *,
    outcome,
    unit,
    time,
    cohort,
    window,
    reference,
    cluster,
    control_group,
    anticipation,
    n_boot,
    seed,
    boot_weights,
    level,
) -> EventStudyResult:
    universal = -1 - anticipation
    if reference not in (universal, None):
        base = f"g-{1 + anticipation}"
        with_anticipation = f" with anticipation={anticipation}" if anticipation else ""
        raise ValueError(
            f"event_study(method='cs'): reference must be {universal} (universal base period "
            f"{base}{with_anticipation}) or None (varying base period); got {reference!r}."
        )
    res = att_gt(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        control_group=control_group,
        base_period="varying" if reference is None else "universal",
        cluster=cluster,
        n_boot=n_boot,
        seed=seed,
        boot_weights=boot_weights,
        anticipation=anticipation,
        level=level,
    )
    lo, hi = (None, None) if window is None else window
    agg = res.aggregate("dynamic", min_e=lo, max_e=hi)
    se = agg.std_errors.copy()
    estimated = se.notna().to_numpy()
    if reference is not None:
        estimated &= agg.params.index != reference
    vcov = agg.vcov.loc[estimated, estimated]
    info = dict(agg.info)
    info.pop("overall ATT", None)
    info["specification"] = "aggregation of ATT(g,t) by event time, " + (
        "varying base period"
        if reference is None
        else f"universal base period g{reference} (event time {reference} is 0)"
    )
    info["overall ATT (e >= 0)"] = f"{agg.overall_att:.4f} (SE {agg.overall_se:.4f})"
    return EventStudyResult(
        params=agg.params,
        std_errors=se,
        method=METHOD_NAME + " event study",
        outcome=outcome,
        level=level,
        critical_value=agg.critical_value,
        df=agg.df,
        info=info,
        reference=reference,
        vcov=vcov,
        overall_att=agg.overall_att,
        overall_se=agg.overall_se,
        source=res,
    )


# --------------------------------------------------------------------------------------
# Dynamic TWFE event study (method="twfe" of event_study)
# --------------------------------------------------------------------------------------
def _event_name(e: int) -> str:
    return f"lead_{-e}" if e < 0 else f"lag_{e}"


def _event_study_twfe(
    data, *, outcome, unit, time, cohort, window, reference, cluster, anticipation, endpoints,
    level,
) -> EventStudyResult:  # fmt: skip
    if reference is None:
        raise ValueError("event_study(method='twfe'): reference must be an event time, e.g. -1.")
    if reference > -1 - anticipation:
        raise ValueError(
            f"event_study(method='twfe'): with anticipation={anticipation} units may react "
            f"from event time {-anticipation}; the reference must be {-1 - anticipation} or "
            f"earlier, got {reference}."
        )
    _require_columns(
        data, {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "cluster": cluster}
    )
    g = pd.to_numeric(data[cohort]).fillna(NEVER_TREATED).to_numpy(dtype=float)
    t = data[time].to_numpy(dtype=float)
    treated = g != NEVER_TREATED
    if not treated.any():
        raise ValueError(f"event_study: no unit is ever treated (column {cohort!r}).")
    e = np.where(treated, t - g, np.nan)
    if window is not None:
        if not window[0] <= reference <= window[1]:
            raise ValueError(
                f"event_study: reference {reference} lies outside the window {window}."
            )
        if endpoints == "trim":
            inside = ~treated | ((e >= window[0]) & (e <= window[1]))
            data, e, treated = data.loc[inside], e[inside], treated[inside]
        else:
            e = np.where(treated, np.clip(e, window[0], window[1]), np.nan)
    times = np.unique(e[treated]).astype(int)
    if reference not in times:
        raise ValueError(
            f"event_study: reference event time {reference} does not occur in the data "
            f"(event times {times.min()}..{times.max()})."
        )
    estimated = [int(k) for k in times if k != reference]
    # the cluster may be the unit (or time) column itself: select each column once
    frame = data[list(dict.fromkeys([outcome, unit, time] + ([cluster] if cluster else [])))]
    names = [_event_name(k) for k in estimated]
    frame = frame.assign(
        **{n: (e == k).astype(float) for n, k in zip(names, estimated, strict=True)}
    )
    if not (~treated).any():
        warnings.warn(
            "event_study(method='twfe'): without never-treated units the dynamic "
            "specification is identified only through the binned or farthest event times; "
            "consider a window.",
            stacklevel=2,
        )
    fit = twfe(frame, outcome=outcome, treatment=names, unit=unit, time=time, cluster=cluster)
    by_name = dict(zip(names, estimated, strict=True))
    params = fit.params.loc[names].rename(index=by_name)
    se = fit.std_errors.loc[names].rename(index=by_name)
    vcov = fit.vcov.loc[names, names].rename(index=by_name, columns=by_name)
    params.loc[reference] = 0.0
    se.loc[reference] = np.nan
    params = params.sort_index().rename_axis("event_time").rename("estimate")
    se = se.sort_index().rename_axis("event_time").rename("std_error")
    vcov.index.name = "event_time"
    vcov.columns.name = None
    post = [k for k in estimated if k >= 0]
    w = np.full(len(post), 1.0 / len(post)) if post else np.zeros(0)
    overall = float(w @ params.loc[post].to_numpy()) if post else np.nan
    overall_se = float(np.sqrt(w @ vcov.loc[post, post].to_numpy() @ w)) if post else np.nan
    info = {
        "specification": "dynamic two-way fixed effects, unit and time effects, one dummy "
        f"per event time, reference {reference}"
        + (
            ""
            if window is None
            else f", end points {'binned' if endpoints == 'bin' else 'trimmed'} at {window}"
        ),
        **({"anticipation": f"{anticipation} period(s)"} if anticipation else {}),
        "overall ATT (e >= 0)": f"{overall:.4f} (SE {overall_se:.4f})",
        **{k: v for k, v in fit.info.items()},
    }
    return EventStudyResult(
        params=params,
        std_errors=se,
        method="TWFE event study",
        outcome=outcome,
        level=level,
        df=getattr(fit, "df", None) or None,
        info=info,
        reference=reference,
        vcov=vcov,
        overall_att=overall,
        overall_se=overall_se,
        source=fit,
    )
