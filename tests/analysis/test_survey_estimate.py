"""Chapter 3's IKM estimate from the respondents (repeated cross-sections): the frame's
identities, known effects recovered, one decision per policy, and the section in both
languages."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from asn_eval.analysis import AnalysisSpec
from asn_eval.analysis.attempt import Attempt
from asn_eval.analysis.impact import CS_METHOD, OUTCOMES, ImpactResults, estimate_policy_outcome
from asn_eval.analysis.panels import agency_year_panel, ikm_by_agency_year
from asn_eval.analysis.survey import (
    RCS_METHOD,
    estimate_survey_outcome,
    respondent_frame,
)
from asn_eval.indices.ikm import IKM_ITEMS
from asn_eval.report.chapters import base, open_chapter
from asn_eval.report.chapters.conclusion import findings
from asn_eval.results.truth import true_effect

FAST = AnalysisSpec(year=2025, seed=1, n_boot=99, n_perm=19)


def _city(seed: int, effects=None):
    """A regenerated city as the panels read it, and its truth."""
    from asn_eval.data.synth import generate_city

    city = generate_city(seed=seed, effects=effects)
    tables = {
        name: frame.rename(columns={"nip": "employee_id"}).drop(columns=["name"], errors="ignore")
        for name, frame in city.tables.items()
    }
    years = list(range(city.truth["years"][0], city.truth["years"][1] + 1))
    return SimpleNamespace(tables=tables, years=years), city.truth


@pytest.fixture(scope="module")
def placebo():
    """A city with every effect switched off: the true effect of digitalisation on IKM is
    zero (truth.json's effects are all 0)."""
    return _city(101, effects=0)


# --- the frame ------------------------------------------------------------------------
def test_one_row_per_accepted_respondent_and_agency_means_are_the_panels_ikm(kupang_dataset):
    frame = respondent_frame(kupang_dataset)
    accepted = kupang_dataset.tables["satisfaction"]
    assert len(frame) == len(accepted) and frame.attrs["incomplete"] == 0
    assert frame["respondent_id"].is_unique
    means = frame.groupby(["agency_code", "year"])["ikm"].mean()
    panel = ikm_by_agency_year(kupang_dataset).set_index(["agency_code", "year"])["ikm"]
    assert means.index.equals(panel.index)
    np.testing.assert_allclose(means.to_numpy(), panel.to_numpy(), rtol=0, atol=1e-12)
    # and the panel the agency-year estimate reads carries the same IKM
    years = kupang_dataset.years
    agency = agency_year_panel(kupang_dataset, years=years).set_index(["agency_code", "year"])
    np.testing.assert_allclose(means.to_numpy(), agency.loc[means.index, "ikm"].to_numpy())


def test_a_respondent_with_an_unanswered_element_is_counted_not_scored(kupang_dataset):
    tables = dict(kupang_dataset.tables)
    sat = tables["satisfaction"].astype({c: float for c in IKM_ITEMS})
    sat.loc[sat.index[:2], "u3"] = np.nan
    tables["satisfaction"] = sat
    data = SimpleNamespace(tables=tables, years=kupang_dataset.years)
    frame = respondent_frame(data)
    assert len(frame) + frame.attrs["incomplete"] == len(sat)
    assert frame.attrs["incomplete"] == 2


# --- known effects recovered ----------------------------------------------------------
def test_with_no_effect_the_interval_covers_the_true_zero(placebo):
    data, truth = placebo
    # zero on any scale: per agency or per respondent
    true = true_effect(truth, policy="digitalisation", outcome="ikm", estimator=CS_METHOD)
    assert true == 0.0
    found = estimate_survey_outcome(respondent_frame(data), spec=FAST)
    rec = found.result.record()
    assert rec.ci_low <= true <= rec.ci_high, rec


def test_an_effect_planted_in_the_element_scores_is_recovered(placebo):
    """Each element of a respondent served by an adopting agency after adoption is raised by
    one point with probability 0.4 (never above 4): the true effect on the respondent's IKM is
    known respondent by respondent, and its mean over those respondents is recovered."""
    data, _ = placebo
    sat = data.tables["satisfaction"].copy()
    frame = respondent_frame(data).set_index("respondent_id")
    cohort = sat["respondent_id"].map(frame["cohort_digitalisation"])
    year = sat["period"].str[:4].astype(int)
    post = ((cohort > 0) & (year >= cohort)).to_numpy()
    rng = np.random.default_rng(7)
    scores = sat[list(IKM_ITEMS)].to_numpy()
    raised = np.minimum(scores + (rng.random(scores.shape) < 0.4), 4)
    scores = np.where(post[:, None], raised, scores)
    gain = 25 * (scores - sat[list(IKM_ITEMS)].to_numpy()).mean(axis=1)
    true = float(gain[post].mean())
    sat[list(IKM_ITEMS)] = scores
    planted = SimpleNamespace(tables={**data.tables, "satisfaction": sat}, years=data.years)
    rec = estimate_survey_outcome(respondent_frame(planted), spec=FAST).result.record()
    assert true > 5  # a planted effect well away from zero
    assert rec.ci_low <= true <= rec.ci_high, (true, rec)
    assert rec.ci_low > 0


def test_without_never_adopting_agencies_it_says_why(kupang_dataset):
    frame = respondent_frame(kupang_dataset)
    frame = frame[frame["cohort_digitalisation"] > 0]
    found = estimate_survey_outcome(frame, spec=FAST)
    assert not found.ok
    assert found.problem == "needs adopting and never-adopting agencies"


# --- one decision per policy, and the section -----------------------------------------
@pytest.fixture(scope="module")
def results(kupang_dataset):
    spec = FAST
    panel = agency_year_panel(kupang_dataset, years=spec.years(kupang_dataset))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        means = estimate_policy_outcome(panel, "digitalisation", OUTCOMES["ikm"], spec=spec)
    survey = estimate_survey_outcome(respondent_frame(kupang_dataset), spec=spec)
    return ImpactResults(
        spec=spec,
        agency_panel=panel,
        estimates={("digitalisation", "ikm"): means},
        its={},
        survey=survey,
    )


def test_the_findings_read_the_agency_year_record_only(results):
    records = [r for r in results.records() if r.outcome == "ikm"]
    estimators = sorted(r.estimator for r in records)
    assert RCS_METHOD in estimators
    chosen = findings([r.__class__(**{**r.__dict__, "chapter": "3"}) for r in records])
    assert [(r.policy, r.outcome, r.estimator) for r in chosen] == [
        ("digitalisation", "ikm", "Callaway-Sant'Anna")
    ]
    frame = results.to_frame()
    assert (frame["estimator"] == RCS_METHOD).sum() == 1


@pytest.mark.parametrize(
    ("lang", "heading", "means", "respondents"),
    [
        ("en", "Community satisfaction from the respondents themselves", "Agency-year means",
         "Respondents (repeated cross-sections)"),
        ("id", "Kepuasan masyarakat menurut respondennya sendiri",
         "Rata-rata perangkat daerah-tahun", "Responden (potong lintang berulang)"),
    ],
)  # fmt: skip
def test_the_section_shows_both_estimates_with_computed_numbers(
    monkeypatch, tmp_path, kupang_dataset, results, lang, heading, means, respondents
):
    from asn_eval.common.formatting import fmt_number

    shown: list[str] = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: shown.append(html))
    chapter = open_chapter(
        "impact",
        data_dir=None,
        year=2025,
        lang=lang,
        seed=1,
        output_dir=tmp_path,
        dataset=kupang_dataset,
        spec=FAST,
        results=results,
    )
    chapter.heading()
    chapter.show("survey")
    html = "\n".join(shown)
    assert heading in html and means in html and respondents in html
    rcs = results.survey.result.record()
    agency = results.records()[0]
    for value in (rcs.estimate, agency.estimate, rcs.estimate - agency.estimate):
        assert fmt_number(value, lang, 2) in html
    assert f"t({results.survey.result.n_agencies - 1})" in html


def test_a_refused_estimate_is_said_in_the_section(monkeypatch, tmp_path, kupang_dataset, results):
    shown: list[str] = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: shown.append(html))
    refused = ImpactResults(
        **{**results.__dict__, "survey": Attempt(problem="no survey respondents")}
    )
    chapter = open_chapter(
        "impact", data_dir=None, year=2025, lang="en", seed=1, output_dir=tmp_path,
        dataset=kupang_dataset, spec=FAST, results=refused,
    )  # fmt: skip
    chapter.heading()
    chapter.show("survey")
    assert (
        "The IKM effect cannot be estimated from the respondents: no survey respondents."
        in "\n".join(shown)
    )
