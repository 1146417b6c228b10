"""Dukcapil against the province's other offices: the synthetic DiD recovers the generated
effect, the ITS stands beside it without a verdict, and without the comparison table
everything is as before."""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import replace

import pandas as pd
import pytest

from asn_eval.analysis import AnalysisSpec
from asn_eval.analysis.impact import (
    DUKCAPIL_POLICIES,
    ITS_METHOD,
    SDID_METHOD,
    ImpactResults,
    dukcapil_its,
    dukcapil_sdid,
    its_record,
)
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError, load_dataset, write_dataset
from asn_eval.data.contract import COMPARISON_TABLE
from asn_eval.estimators.multiple import holm
from asn_eval.report import narrative
from asn_eval.report.chapters import base, open_chapter
from asn_eval.report.chapters.conclusion import findings
from asn_eval.report.effects import EffectSummary
from asn_eval.results.truth import true_effect

DEFAULT = PROJECT_ROOT / "data" / "kupang-synthetic"
KEY = "test-key"
SPEC = AnalysisSpec(year=2024)
TRAINING, DIGITAL = "training_programme", "digitalisation"


@pytest.fixture(scope="module")
def committed():
    return load_dataset(DEFAULT, key=KEY)


@pytest.fixture(scope="module")
def committed_sdid(committed):
    return dukcapil_sdid(committed, seed=SPEC.seed)


@pytest.fixture(scope="module")
def results(committed, committed_sdid):
    """Chapter 3's Dukcapil results (the agency-year estimates are not needed here)."""
    return ImpactResults(
        spec=SPEC,
        agency_panel=pd.DataFrame(),
        estimates={},
        its=dukcapil_its(committed, level=SPEC.level),
        sdid=committed_sdid,
    )


def _truth(folder):
    return json.loads((folder / "truth.json").read_text())


def _covers(comparisons, truth, policy):
    for (p, outcome), comparison in comparisons.items():
        if p != policy:
            continue
        record = comparison.record(p, outcome)
        effect = true_effect(truth, policy=p, outcome=outcome, estimator=SDID_METHOD)
        assert effect is not None and effect != 0
        assert record.ci_low <= effect <= record.ci_high, (outcome, effect, record)
        assert record.verdict == "improved"


def test_training_effect_recovered_on_the_committed_data(committed, committed_sdid):
    _covers(committed_sdid, _truth(DEFAULT), TRAINING)
    training = committed_sdid[(TRAINING, "dukcapil_days")]
    assert training.donors == 21 and training.donors_left_out == 0
    assert training.weights().sum() == pytest.approx(1.0)
    # The same seed, the same placebo replications: the same numbers.
    again = dukcapil_sdid(committed, seed=SPEC.seed)[(TRAINING, "dukcapil_days")]
    assert again.result.std_error == training.result.std_error


def test_digitalisation_is_left_to_the_its_when_training_ran_through_its_pre_period(
    committed, committed_sdid
):
    policies = committed.tables["policies"].set_index("agency_code")
    dukcapil = committed.tables["agencies"].query("agency_name.str.contains('Kependudukan')")
    starts = policies.loc[dukcapil["agency_code"].iloc[0], list(DUKCAPIL_POLICIES)]
    assert starts[TRAINING] < starts[DIGITAL]  # training was running when digitalisation began
    for outcome in ("dukcapil_days", "share_within_standard"):
        skipped = committed_sdid[(DIGITAL, outcome)]
        assert not skipped.ok and skipped.reason == "other_policy_running"
        assert skipped.earlier_policy(DIGITAL) == TRAINING


def test_effect_recovered_on_a_freshly_generated_city(tmp_path):
    out = write_dataset(tmp_path / "city", n_employees=300, seed=11)  # with its dirty rows
    dataset = load_dataset(out, key=KEY)
    _covers(dukcapil_sdid(dataset, seed=SPEC.seed), _truth(out), TRAINING)


def test_without_the_comparison_table_only_the_its_and_the_same_records(
    committed, results, tmp_path
):
    folder = tmp_path / "no-comparison"
    shutil.copytree(DEFAULT, folder)
    (folder / f"{COMPARISON_TABLE}.csv").unlink()
    alone = load_dataset(folder, key=KEY)
    assert COMPARISON_TABLE not in alone.tables
    assert dukcapil_sdid(alone, seed=SPEC.seed) == {}
    its = dukcapil_its(alone, level=SPEC.level)
    before = ImpactResults(
        spec=SPEC,
        agency_panel=pd.DataFrame(),
        estimates={},
        its=its,
    )
    expected = [its_record(p, o, s.result) for (p, o), s in its.items() if s.ok]
    assert before.records() == expected
    # The ITS itself does not depend on the comparison table.
    assert [r.estimate for r in expected] == [
        its_record(p, o, s.result).estimate for (p, o), s in results.its.items() if s.ok
    ]


def test_sdid_records_form_the_holm_family_and_the_its_beside_them_has_no_record(results):
    records = results.records()
    led = [r for r in records if r.estimator == SDID_METHOD]
    assert {(r.policy, r.outcome) for r in led} == {
        (TRAINING, "dukcapil_days"),
        (TRAINING, "share_within_standard"),
    }
    # Holm over the family's trusted p-values (the placebo ones: 22 offices, under 50).
    raw = [c.record(p, o).p_value_few_cluster for (p, o), c in results.sdid.items() if c.ok]
    assert [r.p_value_adjusted for r in led] == pytest.approx(list(holm(raw)))
    # A comparison design: nothing in the decision rules keeps it from being confirmed (the
    # ITS of one office always stays tentative).
    assert [r.standing for r in led] == ["confirmed", "confirmed"]
    its = [(r.policy, r.outcome) for r in records if r.estimator == ITS_METHOD]
    assert all(policy == DIGITAL for policy, _ in its) and len(its) == 2
    # The findings (table 5.1, the executive summary) read the SDID record for training and
    # the ITS for digitalisation, one record per policy and outcome.
    chosen = findings([replace(r, chapter="3") for r in records])
    assert sorted((r.policy, r.outcome, r.estimator) for r in chosen) == sorted(
        [(TRAINING, o, SDID_METHOD) for o in ("dukcapil_days", "share_within_standard")]
        + [(DIGITAL, o, ITS_METHOD) for o in ("dukcapil_days", "share_within_standard")]
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_services_section_renders_the_verdict_as_the_tables_read_it(
    committed, results, lang, tmp_path, monkeypatch
):
    shown: list[str] = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: shown.append(html))
    chapter = open_chapter(
        "impact",
        data_dir=None,
        year=2024,
        lang=lang,
        seed=1,
        output_dir=tmp_path,
        dataset=committed,
        results=results,
    )
    chapter.show("services")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "\n".join(shown)))
    bullets = [
        html.unescape(b) for b in re.findall(r"<li>(.*?)</li>", "\n".join(shown), flags=re.S)
    ]
    for record in chapter.service_records.values():
        effect = EffectSummary(record, lang)
        line = next(b for b in bullets if effect.sentence in b)
        assert effect.verdict in line
    # The training ITS is shown beside the comparison with no verdict word of any kind.
    words = narrative.text_group("verdict", lang).values()
    training_its = [b for b in bullets if b.startswith(chapter.policy_name(TRAINING))]
    assert len(training_its) == 2
    assert not any(w in b for b in training_its for w in words)
    # Digitalisation's ITS is its finding and says the verdict its record carries.
    digital = [b for b in bullets if b.startswith(chapter.policy_name(DIGITAL))]
    digital_records = [
        r for r in results.records() if r.policy == DIGITAL and r.estimator == ITS_METHOD
    ]
    for record in digital_records:
        assert any(EffectSummary(record, lang).verdict in b for b in digital)
    start = results.sdid[(DIGITAL, "dukcapil_days")].starts
    assert chapter.month(start[TRAINING]) in text and chapter.month(start[DIGITAL]) in text
    assert (tmp_path / "figures" / "3-1_dukcapil_sdid.png").exists()


def test_a_bad_cell_rejects_its_row_naming_file_line_and_column(tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(DEFAULT, folder)
    path = folder / f"{COMPARISON_TABLE}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[4].split(";")
    cells[6] = "lima"  # median_time of file line 5
    lines[4] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = load_dataset(folder, key=KEY)
    reject = dataset.rejects[dataset.rejects["table"] == COMPARISON_TABLE]
    assert reject[["file", "line", "column", "value", "rule"]].values.tolist() == [
        [f"{COMPARISON_TABLE}.csv", 5, "median_time", "lima", "invalid_number"]
    ]
    quality = dataset.quality.set_index("table").loc[COMPARISON_TABLE]
    assert (quality["read"], quality["rejected"]) == (len(lines) - 1, 1)
    # The office missing that month is left out of the donors, not half-used.
    comparison = dukcapil_sdid(dataset, seed=SPEC.seed)[(TRAINING, "dukcapil_days")]
    assert (comparison.donors, comparison.donors_left_out) == (20, 1)


def test_a_missing_column_stops_with_the_message_naming_file_and_column(tmp_path):
    folder = tmp_path / "nocolumn"
    shutil.copytree(DEFAULT, folder)
    path = folder / f"{COMPARISON_TABLE}.csv"
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    frame.drop(columns="requests").to_csv(path, sep=";", index=False)
    with pytest.raises(DataError) as info:
        load_dataset(folder, key=KEY)
    assert str(info.value) == (
        "File comparison_services.csv has no column 'requests' required for the "
        "'comparison_services' table. Found columns: office_code, office_name, month, "
        "service, completed, median_time, time_unit, share_within_standard, complaints. "
        "Expected: office_code, office_name, month, service, requests, completed, "
        "median_time, time_unit, share_within_standard, complaints. Rename the header in "
        "the file, or map it under 'tables: comparison_services: columns:' in the mapping "
        "YAML."
    )
