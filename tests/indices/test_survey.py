"""Tests for asn_eval.indices.survey: alpha against published and independent values, identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from asn_eval.indices import survey as sv


def _parallel_items(rng, n, k, true_sd=1.0, error_sd=1.0):
    """k parallel items: one true score plus independent errors."""
    true = rng.normal(0, true_sd, size=(n, 1))
    return pd.DataFrame(
        true + rng.normal(0, error_sd, size=(n, k)), columns=[f"q{j}" for j in range(1, k + 1)]
    )


def _likert(rng, n=60, k=6):
    """Answers 1-5 driven by one latent trait (a change-readiness-like scale)."""
    latent = rng.normal(size=(n, 1))
    raw = 3 + 1.1 * latent + rng.normal(0, 0.9, size=(n, k))
    return pd.DataFrame(np.clip(np.rint(raw), 1, 5), columns=[f"q{j}" for j in range(1, k + 1)])


# --- published values -----------------------------------------------------------------


def test_alpha_matches_the_published_likert_example():
    # pingouin documentation, cronbach_alpha example on its "cronbach_alpha" data set
    # (15 subjects x 10 items, scores 1-7), "tested against the psych R package":
    # (0.5917188485995826, array([0.195, 0.84])).
    data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items", values="Scores")
    result = sv.cronbach_alpha(data, scale=(1, 7))
    assert result.alpha == pytest.approx(0.5917188485995826, abs=1e-12)
    assert result.ci_low == pytest.approx(0.195, abs=5e-4)
    assert result.ci_high == pytest.approx(0.840, abs=5e-4)
    assert (result.respondents, result.k, result.dropped) == (15, 10, 0)
    assert result.interpretation == "poor"


def test_listwise_alpha_matches_the_published_value_with_missing_answers():
    # pingouin documentation: "In R: psych:alpha(data, use='complete.obs')" on
    # "cronbach_wide_missing" gives alpha 0.8016949152542373.
    data = pg.read_dataset("cronbach_wide_missing")
    result = sv.cronbach_alpha(data)
    assert result.alpha == pytest.approx(0.8016949152542373, abs=1e-12)
    assert (result.respondents, result.dropped) == (9, 3)
    # Our interval uses the 9 complete respondents. (pingouin's listwise interval,
    # [0.581, 0.933], keeps n = 12 from before the deletion.) On the complete cases alone
    # pingouin agrees with us.
    _, (low, high) = pg.cronbach_alpha(data=data.dropna())
    assert result.ci_low == pytest.approx(low, abs=5e-4)
    assert result.ci_high == pytest.approx(high, abs=5e-4)


# --- independent computations on the same data -----------------------------------------


def test_alpha_and_interval_equal_pingouin_on_the_same_data():
    rng = np.random.default_rng(11)
    for n, k in [(30, 4), (120, 8), (370, 12)]:
        data = _likert(rng, n, k)
        ours = sv.cronbach_alpha(data, scale=(1, 5), level=0.9)
        alpha, (low, high) = pg.cronbach_alpha(data=data, ci=0.9)
        assert ours.alpha == pytest.approx(alpha, abs=1e-12)
        assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), abs=5e-4)


def test_alpha_equals_hoyt_anova_reliability():
    # Hoyt (1941): alpha = 1 - MS(residual) / MS(respondents) in the two-way ANOVA of
    # respondents x items without replication, computed here from sums of squares.
    data = _likert(np.random.default_rng(3), 45, 7).to_numpy()
    n, k = data.shape
    grand = data.mean()
    ss_rows = k * ((data.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((data.mean(axis=0) - grand) ** 2).sum()
    ss_res = ((data - grand) ** 2).sum() - ss_rows - ss_cols
    hoyt = 1 - (ss_res / ((n - 1) * (k - 1))) / (ss_rows / (n - 1))
    assert sv.cronbach_alpha(pd.DataFrame(data)).alpha == pytest.approx(hoyt, abs=1e-12)


def test_item_statistics_identities():
    data = _likert(np.random.default_rng(5), 80, 5)
    result = sv.cronbach_alpha(data)
    items = result.to_frame().set_index("item")
    total = data.sum(axis=1)
    for col in data.columns:
        rest = total - data[col]
        assert items.loc[col, "item_rest_r"] == pytest.approx(np.corrcoef(data[col], rest)[0, 1])
        assert items.loc[col, "item_total_r"] == pytest.approx(np.corrcoef(data[col], total)[0, 1])
        dropped = sv.cronbach_alpha(data.drop(columns=col)).alpha
        assert items.loc[col, "alpha_if_deleted"] == pytest.approx(dropped, abs=1e-12)
    # Standardised alpha is the raw alpha of z-scored items.
    z = (data - data.mean()) / data.std(ddof=1)
    assert result.alpha_standardized == pytest.approx(sv.cronbach_alpha(z).alpha, abs=1e-12)


# --- known truth ----------------------------------------------------------------------


def test_alpha_recovers_the_reliability_of_parallel_items():
    # k parallel items with true-score variance 1 and error variance 1: each item has
    # reliability 0.5 and the sum has k * 0.5 / (1 + (k - 1) * 0.5) (Spearman-Brown);
    # for k = 6 that is 6/7 = 0.857.
    data = _parallel_items(np.random.default_rng(1), 20_000, 6)
    assert sv.cronbach_alpha(data).alpha == pytest.approx(6 / 7, abs=0.005)


def test_feldt_interval_covers_the_true_alpha_at_its_nominal_rate():
    rng = np.random.default_rng(2025)
    truth, reps = 5 * 0.5 / (1 + 4 * 0.5), 400
    covered = 0
    for _ in range(reps):
        result = sv.cronbach_alpha(_parallel_items(rng, 40, 5))
        covered += result.ci_low <= truth <= result.ci_high
    # Nominal 95%; with 400 samples the rate should fall within about 0.93-0.97.
    assert 0.92 <= covered / reps <= 0.98


def test_reverse_coded_items_restore_alpha():
    data = _likert(np.random.default_rng(9), 100, 6)
    worded_negatively = data.assign(q3=6 - data["q3"])
    naive = sv.cronbach_alpha(worded_negatively)
    fixed = sv.cronbach_alpha(worded_negatively, reverse=["q3"], scale=(1, 5))
    assert fixed.alpha == pytest.approx(sv.cronbach_alpha(data).alpha, abs=1e-12)
    assert naive.alpha < fixed.alpha
    items = naive.to_frame().set_index("item")
    assert items.loc["q3", "item_rest_r"] < 0
    assert fixed.to_frame().set_index("item")["reversed"].tolist() == [
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    assert sv.reverse_code(data, ["q1"], scale=(1, 5))["q1"].tolist() == (6 - data["q1"]).tolist()


# --- messages -------------------------------------------------------------------------


def test_answer_outside_the_scale_names_value_column_and_row():
    data = _likert(np.random.default_rng(0), 10, 3)
    data.loc[3, "q2"] = 6
    with pytest.raises(ValueError) as err:
        sv.cronbach_alpha(data, scale=(1, 5))
    assert str(err.value) == "q2 has 6 in row 3; answers must be whole numbers 1-5"
    data = data.astype(object)
    data.loc[0, "q1"] = "setuju"
    with pytest.raises(ValueError) as err:
        sv.cronbach_alpha(data)
    assert str(err.value) == "q1 has 'setuju' in row 0; answers must be numbers"


def test_other_bad_calls_explain_themselves():
    data = _likert(np.random.default_rng(0), 10, 3)
    with pytest.raises(ValueError) as err:
        sv.cronbach_alpha(data, reverse=["q1"])
    assert str(err.value) == (
        "reverse needs scale=(lowest, highest) to know what to reverse against"
    )
    with pytest.raises(ValueError) as err:
        sv.cronbach_alpha(data[["q1"]])
    assert str(err.value) == "items has 1 column(s); this needs at least 2 items"
    with pytest.raises(ValueError) as err:
        sv.cronbach_alpha(pd.DataFrame({"q1": [3, 3, 3], "q2": [2, 2, 2]}))
    assert str(err.value) == "every respondent has the same total score; alpha is undefined"
    with pytest.raises(ValueError) as err:
        sv.reverse_code(data, ["q9"])
    assert str(err.value) == "reverse names 'q9', not a column of items"


def test_statement_and_html():
    data = _likert(np.random.default_rng(4), 50, 5)
    result = sv.cronbach_alpha(data)
    text = result.statement()
    assert text.startswith(f"Cronbach's alpha is {result.alpha:.3f} (95% CI ")
    assert "for 5 items and 50 respondents" in text
    assert "Standardised alpha" in result._repr_html_()

