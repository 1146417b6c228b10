"""Clustering on the unit column itself, for every estimator that takes ``cluster``.

One agency, one cluster is the most common choice, and issue 13 found that
``event_study(method="twfe", cluster=<the unit column>)`` crashed because the unit column was
selected twice. Clustering on the unit column must give exactly what clustering on an
identical copy of it under another name gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from asn_eval.data.synth import simulate_panel
from asn_eval.estimators import (
    att_gt,
    dose_response,
    event_study,
    heterogeneity,
    twfe,
    wild_cluster_bootstrap,
)

UNIT, COPY = "agency", "agency_copy"
COLUMNS = dict(outcome="y", unit=UNIT, time="year", cohort="cohort")
TWFE_COLUMNS = dict(outcome="y", treatment="treated", unit=UNIT, time="year")


@pytest.fixture(scope="module")
def agencies() -> pd.DataFrame:
    """Agency-year panel: the unit is the agency, as in the impact chapter."""
    staff = simulate_panel(n_employees=900, n_agencies=30, seed=7)
    frame = staff.groupby([UNIT, "year"], as_index=False).agg(
        y=("y", "mean"), cohort=("cohort", "first"), treated=("treated", "first")
    )
    rng = np.random.default_rng(7)
    frame["jp"] = np.where(rng.random(len(frame)) < 0.7, rng.gamma(2.0, 15.0, len(frame)), 0.0)
    frame["band"] = np.where(frame[UNIT] % 2 == 0, "even", "odd")
    frame[COPY] = frame[UNIT].copy()
    assert (frame.groupby("band")["cohort"].agg(lambda c: (c == 0).any() and (c > 0).any())).all()
    return frame


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)


@pytest.mark.parametrize(
    "estimate",
    [
        lambda d, c: att_gt(d, **COLUMNS, cluster=c),
        lambda d, c: att_gt(d, **COLUMNS, cluster=c).aggregate("dynamic"),
        lambda d, c: att_gt(d, **COLUMNS, cluster=c, n_boot=199, seed=1),
        lambda d, c: event_study(d, **COLUMNS, method="cs", cluster=c),
        lambda d, c: event_study(d, **COLUMNS, method="cs", cluster=c, n_boot=199, seed=1),
        lambda d, c: event_study(d, **COLUMNS, method="twfe", cluster=c),
        lambda d, c: event_study(d, **COLUMNS, method="twfe", cluster=c, window=(-2, 2)),
        lambda d, c: twfe(d, **TWFE_COLUMNS, cluster=c),
        lambda d, c: dose_response(d, outcome="y", hours="jp", unit=UNIT, time="year", cluster=c),
        lambda d, c: heterogeneity(d, **COLUMNS, by="band", cluster=c),
        lambda d, c: heterogeneity(d, **COLUMNS, by="band", cluster=c, method="twfe"),
        lambda d, c: wild_cluster_bootstrap(d, **TWFE_COLUMNS, cluster=c, n_boot=199, seed=1),
    ],
    ids=[
        "att_gt",
        "att_gt-dynamic",
        "att_gt-bootstrap",
        "event_study-cs",
        "event_study-cs-bootstrap",
        "event_study-twfe",
        "event_study-twfe-window",
        "twfe",
        "dose_response",
        "heterogeneity-cs",
        "heterogeneity-twfe",
        "wild_cluster_bootstrap",
    ],
)
def test_clustering_on_the_unit_equals_clustering_on_a_copy_of_it(agencies, estimate):
    on_unit = estimate(agencies, UNIT)
    on_copy = estimate(agencies, COPY)
    _same(on_unit, on_copy)
    assert np.isfinite(on_unit.std_errors.dropna()).all() and on_unit.std_errors.notna().any()
    overall = getattr(on_unit, "overall_se", None)
    if overall is not None:
        assert overall == on_copy.overall_se


def test_twfe_event_study_clustered_on_the_unit_keeps_the_cluster_count(agencies):
    es = event_study(agencies, **COLUMNS, method="twfe", cluster=UNIT)
    assert es.source.n_clusters == agencies[UNIT].nunique() == 30
    assert es.df == 29  # t(G - 1) intervals, as fixest
