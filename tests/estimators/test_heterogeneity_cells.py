"""The subgroup effects from the engine's cells equal those from the employee-year panel.

:func:`heterogeneity_from_cells` on :func:`asn_eval.analysis.panels.subgroup_cells` (DuckDB)
gives, for each subgroup of chapter 4, the Callaway-Sant'Anna simple ATT, its standard error
clustered by agency, the differences against the first group and the Wald test of
:func:`heterogeneity` on :func:`asn_eval.analysis.challenges.heterogeneity_panel`, to 1e-10:
on the committed Kupang data, on a generated city, and on that city with a tenth of its
appraisals removed (so that att_gt drops the employees no longer seen every year) and an
agency whose adoption date is unknown.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
import pandas as pd
import pytest

from asn_eval.analysis.challenges import (
    HETEROGENEITY_BY,
    heterogeneity_panel,
    subgroup_effects,
    subgroup_effects_from_cells,
)
from asn_eval.analysis.panels import subgroup_cells
from asn_eval.analysis.spec import AnalysisSpec
from asn_eval.data.synth import generate_city

TOLERANCE = 1e-10
POLICY = "digitalisation"


def _both(dataset, years):
    spec = AnalysisSpec(year=years[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = heterogeneity_panel(dataset, years=years, policy=POLICY)
        unit = subgroup_effects(panel, spec=spec)
        cells = subgroup_cells(dataset, policy=POLICY, years=years)
        grouped = subgroup_effects_from_cells(cells, spec=spec)
    return panel, cells, unit, grouped


def _assert_same(unit, grouped):
    assert list(unit) == list(grouped) == list(HETEROGENEITY_BY)
    for by in HETEROGENEITY_BY:
        a, b = unit[by], grouped[by]
        assert a.problem == b.problem
        if not a.ok:
            continue
        a, b = a.result, b.result
        assert a.params.index.name == b.params.index.name == by
        for x, y in ((a.params, b.params), (a.std_errors, b.std_errors)):
            pd.testing.assert_series_equal(x, y, check_exact=False, rtol=0, atol=TOLERANCE)
        for x, y in (
            (a.differences.params, b.differences.params),
            (a.differences.std_errors, b.differences.std_errors),
        ):
            pd.testing.assert_series_equal(x, y, check_exact=False, rtol=0, atol=TOLERANCE)
        assert abs(a.equality_stat - b.equality_stat) <= TOLERANCE * max(1.0, a.equality_stat)
        assert abs(a.equality_pvalue - b.equality_pvalue) <= TOLERANCE
        assert (a.method, a.info, a.equality_df) == (b.method, b.info, b.equality_df)


def test_kupang_subgroup_effects_from_cells(kupang_dataset):
    years = kupang_dataset.years
    panel, cells, unit, grouped = _both(kupang_dataset, years)
    _assert_same(unit, grouped)
    assert all(a.ok for a in unit.values())
    assert cells["n_employees"].iloc[0] == panel["employee_id"].nunique()
    assert cells["n_agencies"].iloc[0] == panel["agency_code"].nunique()
    # Some employees are not seen every year: the balanced panel drops them.
    assert (cells["n_years"] < len(years)).any()


@pytest.fixture(scope="module")
def city():
    tables = generate_city(n_employees=2500, seed=9).tables
    # The generator's tables before pseudonymisation: the NIP stands in for employee_id.
    tables = {name: frame.rename(columns={"nip": "employee_id"}) for name, frame in tables.items()}
    years = sorted(int(y) for y in tables["performance"]["year"].unique())
    return tables, years


def test_generated_city_subgroup_effects_from_cells(city):
    tables, years = city
    dataset = types.SimpleNamespace(tables=tables, years=years, metadata={})
    _, _, unit, grouped = _both(dataset, years)
    _assert_same(unit, grouped)
    assert all(a.ok for a in unit.values())


def test_unbalanced_city_with_an_unknown_adoption_date(city):
    tables, years = city
    rng = np.random.default_rng(4)
    performance = tables["performance"]
    policies = tables["policies"].copy()
    policies = policies.iloc[1:]  # its first agency: adoption dates unknown
    changed = {
        **tables,
        "performance": performance.loc[rng.random(len(performance)) >= 0.1],
        "policies": policies,
    }
    dataset = types.SimpleNamespace(tables=changed, years=years, metadata={})
    panel, cells, unit, grouped = _both(dataset, years)
    _assert_same(unit, grouped)
    # Employees who started in the agency without dates are left out (not never-adopters).
    unknown = tables["policies"]["agency_code"].iloc[0]
    kept = changed["performance"]
    first = kept.sort_values("year").groupby("employee_id")["agency_code"].first()
    assert (first == unknown).any()
    assert not panel["employee_id"].isin(first.index[first == unknown]).any()
    assert cells["n_employees"].iloc[0] == panel["employee_id"].nunique()
