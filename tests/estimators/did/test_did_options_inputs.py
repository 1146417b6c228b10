"""The exact message a user sees for bad input to att_gt's panel, allow_unbalanced, weights
and est_method: each names the column or option and what is wrong with it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from asn_eval.data.simulate import simulate_panel
from asn_eval.estimators.did import att_gt

COLUMNS = dict(outcome="y", unit="employee_id", time="year", cohort="cohort")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data = simulate_panel(n_employees=200, n_agencies=20, seed=7)
    data["w"] = 1.0 + data["employee_id"] % 3
    return data


def _raises(data, message, error=ValueError, **options):
    shown = str(error(message))  # a KeyError shows its message quoted
    with pytest.raises(error, match=f"^{re.escape(shown)}$"):
        att_gt(data, **COLUMNS, **options)


@pytest.mark.parametrize("allow_unbalanced", [False, True])
def test_weights_that_vary_within_a_unit(panel, allow_unbalanced):
    bad = panel.copy()
    bad.loc[bad.index[[0, 8]], "w"] = 9.0  # employee 0 in 2019, employee 1 in 2020
    _raises(
        bad.iloc[1:] if allow_unbalanced else bad,
        "att_gt: weights 'w' must be constant within each employee_id, but it varies for "
        f"{1 if allow_unbalanced else 2} of them (in a panel a unit's sampling weight does not "
        "change over time).",
        weights="w",
        allow_unbalanced=allow_unbalanced,
    )


def test_weights_may_vary_between_rows_of_cross_sections(panel):
    # panel=False: rows are respondents, each with its own weight, whatever their id
    varied = panel.assign(w=np.linspace(0.5, 2.0, len(panel)))
    res = att_gt(varied, **COLUMNS, panel=False, weights="w")
    assert res.info["estimator"] == (
        "difference of cohort-period means, weighted by w, repeated cross-sections"
    )


@pytest.mark.parametrize("panel_data", [True, False])
@pytest.mark.parametrize(
    "value, count, what",
    [
        (np.nan, 2, "missing or non-numeric values"),
        ("n/a", 1, "missing or non-numeric value"),
        (-1.0, 2, "negative values"),
        (np.inf, 1, "infinite value"),
    ],
)
def test_weights_that_are_not_sampling_weights(panel, panel_data, value, count, what):
    bad = panel.astype({"w": object}).copy()
    bad.loc[bad.index[:count], "w"] = value
    _raises(
        bad,
        f"att_gt: the weights column 'w' has {count} {what}; sampling weights must be numbers "
        ">= 0 in every row.",
        weights="w",
        panel=panel_data,
    )


def test_weights_all_zero(panel):
    _raises(
        panel.assign(w=0.0),
        "att_gt: the weights column 'w' is zero in every row; at least one weight must be "
        "positive.",
        weights="w",
    )


@pytest.mark.parametrize("panel_data", [True, False])
def test_a_weights_column_the_data_lack(panel, panel_data):
    _raises(
        panel,
        "att_gt: the data have no column for weights 'wt'; available columns: employee_id, "
        "agency, year, cohort, treated, y, true_effect, w.",
        KeyError,
        weights="wt",
        panel=panel_data,
    )


def test_an_unknown_est_method(panel):
    _raises(panel, "est_method must be 'dr', 'ipw' or 'reg'; got 'DR'.", est_method="DR")


def test_pairwise_and_allow_unbalanced_together(panel):
    _raises(
        panel,
        "allow_unbalanced=True and unbalanced='pairwise' are two ways of keeping an unbalanced "
        "panel; choose one.",
        unbalanced="pairwise",
        allow_unbalanced=True,
    )


def test_allow_unbalanced_with_cross_sections(panel):
    _raises(
        panel,
        "allow_unbalanced applies to panel data; with panel=False omit it.",
        panel=False,
        allow_unbalanced=True,
    )


@pytest.mark.parametrize("option", ["panel", "allow_unbalanced"])
def test_flags_must_be_true_or_false(panel, option):
    _raises(panel, f"{option} must be True or False; got 'no'.", **{option: "no"})


@pytest.mark.parametrize("options", [dict(), dict(allow_unbalanced=True)])
def test_a_unit_seen_twice_in_a_period_points_to_cross_sections(panel, options):
    _raises(
        pd.concat([panel, panel.iloc[:1]]),
        "att_gt: each (employee_id, year) pair must appear once; the data have duplicates "
        "(for repeated cross-sections, with new respondents each period, use panel=False).",
        **options,
    )


def test_cross_sections_accept_a_repeated_or_missing_respondent_id(panel):
    # the id links nothing in repeated cross-sections (R's did uses its own row id)
    sample = panel.iloc[::2].copy()
    ref = att_gt(sample, **COLUMNS, panel=False)
    sample["employee_id"] = np.where(np.arange(len(sample)) % 5 == 0, np.nan, 1.0)
    pd.testing.assert_series_equal(att_gt(sample, **COLUMNS, panel=False).params, ref.params)


@pytest.mark.parametrize(
    "column, role, options",
    [("year", "time", dict(panel=False)), ("employee_id", "unit", dict(allow_unbalanced=True))],
)
def test_missing_ids_name_the_column(panel, column, role, options):
    bad = panel.assign(**{column: panel[column].where(panel.index != 3)})
    _raises(
        bad,
        f"att_gt: the {role} column {column!r} has 1 missing value; every row needs one.",
        **options,
    )


def test_cross_sections_need_two_periods(panel):
    _raises(
        panel[panel["year"] == 2020],
        "att_gt: need at least two periods in 'year', got 1.",
        panel=False,
    )
