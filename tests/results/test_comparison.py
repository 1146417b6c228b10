"""Last year beside this year: pairing, changes, verdict changes, what differs between runs,
and the conclusion's section and summary line (stand-in records; tests/test_report_build.py
builds 2025 against a real 2024 report)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from support import make_dataset, stand_in_dataset

from asn_eval.report.chapters import base, open_chapter
from asn_eval.results.comparison import (
    PreviousReportError,
    compare,
    method_differences,
    previous_year_folder,
    read_previous,
)
from asn_eval.results.store import ResultRecord, save_results

CS = "Callaway-Sant'Anna"


def record(policy="training_programme", outcome="skp_good_share", *, estimate, low, high, **kw):
    values = dict(n_agencies=40, p_value_few_cluster=0.01, pretrend_status="passed", unit="share")
    values.update(kw)
    return ResultRecord(
        policy=policy,
        outcome=outcome,
        estimator=CS,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        **values,
    )


THEN = [
    record(estimate=0.02, low=-0.01, high=0.05),  # no detectable effect
    record("digitalisation", "ikm", estimate=1.0, low=0.2, high=1.8, unit="points"),
    record("reward_punishment", "absence_mean", estimate=-1.0, low=-1.5, high=-0.5,
           better="lower", unit="days"),
]  # fmt: skip
NOW = [
    record(estimate=0.06, low=0.02, high=0.10),  # improved, confirmed: direction changed
    # Still improved, but the few-cluster p-value is no longer below 5%: only the standing
    # changed.
    record("digitalisation", "ikm", estimate=1.5, low=0.5, high=2.5, unit="points",
           p_value_few_cluster=0.2),
    record("performance_appraisal", "skp_good_share", estimate=0.01, low=-0.02, high=0.04),
]  # fmt: skip
MANIFEST = {
    "inputs": {"employees.csv": "ab12"},
    "packages": {"asn-eval": "0.1.0", "numpy": "2.0"},
    "parameters": {"data_dir": "/a", "year": 2024, "lang": "id", "output_dir": "/o", "seed": 1},
}


def test_estimates_are_paired_by_policy_outcome_and_estimator_with_change_and_verdicts():
    compared = compare(THEN, NOW)
    rows = {(r.policy, r.outcome): r for r in compared.rows}
    skp = rows[("training_programme", "skp_good_share")]
    assert skp.change == pytest.approx(0.04)
    assert (skp.previous.verdict, skp.current.verdict) == ("no_detectable_effect", "improved")
    assert skp.verdict_changed and skp.standing_changed
    ikm = rows[("digitalisation", "ikm")]
    assert ikm.change == pytest.approx(0.5)
    assert not ikm.verdict_changed and ikm.standing_changed
    assert (ikm.previous.standing, ikm.current.standing) == ("confirmed", "tentative")
    # One side only: no change is computed and nothing is said to have changed.
    new, gone = (
        rows[("performance_appraisal", "skp_good_share")],
        rows[("reward_punishment", "absence_mean")],
    )
    assert new.previous is None and new.change is None and new.verdict_changed is None
    assert gone.current is None and gone.change is None
    assert (compared.n_paired, compared.n_changed) == (2, 2)
    # The current report's order first, then what only last year's report had.
    assert [r.policy for r in compared.rows][-1] == "reward_punishment"
    frame = compared.to_frame()
    assert list(frame["verdict_changed"]) == [True, False, None, None]


def test_runs_differ_in_inputs_version_and_options_but_not_in_year_language_or_folders():
    same = {**MANIFEST, "parameters": {**MANIFEST["parameters"], "year": 2025, "lang": "en"}}
    assert method_differences(MANIFEST, same) == ()
    changed = {
        "inputs": {"employees.csv": "cd34"},
        "packages": {"asn-eval": "0.2.0", "numpy": "2.1"},
        "parameters": {**MANIFEST["parameters"], "n_boot": 199, "previous_dir": "/p"},
    }
    assert method_differences(MANIFEST, changed) == ("inputs", "version", "parameter:n_boot")
    assert method_differences({}, MANIFEST) == ("manifest",)
    # Records computed at different confidence levels differ in method too.
    other_level = [record(estimate=0.06, low=0.03, high=0.09, level=0.9)]
    assert compare(THEN, other_level, previous_manifest=MANIFEST, current_manifest=MANIFEST) \
        .differences == ("level",)  # fmt: skip


def test_the_default_previous_report_is_the_year_before_beside_the_output(tmp_path):
    reports = tmp_path / "reports"
    assert previous_year_folder(reports / "2025-id", 2025) is None  # none there yet
    save_results(reports / "2024-id", THEN, chapter=3)
    assert previous_year_folder(reports / "2025-id", 2025) == reports / "2024-id"
    assert previous_year_folder(reports / "2025-en", 2025) is None
    assert previous_year_folder(tmp_path / "my-report", 2025) is None


def test_a_previous_folder_without_results_is_refused_with_its_reason(tmp_path):
    with pytest.raises(PreviousReportError, match="does not exist"):
        read_previous(tmp_path / "missing")
    with pytest.raises(PreviousReportError, match="holds no results.json"):
        read_previous(tmp_path)
    save_results(tmp_path, THEN, chapter=3)
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    previous = read_previous(tmp_path)
    assert previous.year == 2024 and len(previous.records) == 3


@pytest.fixture
def shown(monkeypatch):
    captured: list[str] = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: captured.append(html))
    return captured


def _conclusion(tmp_path, lang, previous_dir):
    save_results(tmp_path / "now", NOW, chapter=3)
    current = {**MANIFEST, "parameters": {**MANIFEST["parameters"], "year": 2025, "n_perm": 99}}
    (tmp_path / "now" / "manifest.json").write_text(json.dumps(current))
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024, 2025])
    return open_chapter(
        "conclusion",
        data_dir=None,
        year=2025,
        lang=lang,
        output_dir=tmp_path / "now",
        dataset=small,
        previous_dir=previous_dir,
    )


def test_conclusion_shows_the_comparison_table_and_what_differs(shown, tmp_path):
    save_results(tmp_path / "then", THEN, chapter=3)
    (tmp_path / "then" / "manifest.json").write_text(json.dumps(MANIFEST))
    chapter = _conclusion(tmp_path, "en", tmp_path / "then")
    chapter.show("findings")
    chapter.show("comparison")
    headings = [t for k, t in chapter.emitted if k == "h2"]
    assert headings == ["5.1 Findings", "5.2 Compared with last year"]
    table = pd.read_csv(tmp_path / "now" / "tables" / "5-2_comparison.csv")
    assert len(table) == 4
    first = table.iloc[0]
    assert first["estimate_previous"] == pytest.approx(2.0)  # shares in percentage points
    assert first["estimate_current"] == pytest.approx(6.0)
    assert (first["change"], first["estimate_unit"]) == (pytest.approx(4.0), "pp")
    # In the report's policy order; an estimate only one report has is said to be so.
    assert list(table["changed"]) == ["Direction", "Not in both", "Not in both", "Standing"]
    assert list(table["outcome"])[2:] == [
        "Unexcused absence days",
        "Community satisfaction index (IKM)",
    ]
    html = " ".join("\n".join(shown).split())
    assert "Of 2 estimates found in both, 2 changed verdict or standing." in html
    assert "Headline estimates in 2024 and 2025" in html
    assert "analysis option n_perm: – then, 99 now" in html
    assert "the input files" not in html  # same inputs: not listed


def test_without_a_previous_report_the_section_says_there_is_none(shown, tmp_path):
    chapter = _conclusion(tmp_path, "id", None)
    chapter.show("comparison")
    html = " ".join("\n".join(shown).split())
    assert "5.2 Dibanding tahun lalu" in html
    assert "Tidak ada laporan sebelumnya untuk dibandingkan." in html
    assert not (tmp_path / "now" / "tables").exists() or not list(
        (tmp_path / "now" / "tables").glob("*comparison*")
    )


def test_the_executive_summary_gives_the_comparison_one_line(shown, tmp_path):
    save_results(tmp_path / "then", THEN, chapter=3)
    (tmp_path / "then" / "manifest.json").write_text(json.dumps(MANIFEST))
    _conclusion(tmp_path, "id", tmp_path / "then").executive_summary()
    html = " ".join("\n".join(shown).split())
    assert (
        "<p>Dibanding 2024: 2 dari 2 estimasi utama berubah putusan atau kepastiannya; data "
        "atau metode berbeda (subbab 5.2).</p>"
    ) in html
    shown.clear()
    _conclusion(tmp_path / "alone", "id", None).executive_summary()
    assert "Dibanding" not in "\n".join(shown)


def test_the_run_passes_last_years_report_beside_the_output_to_chapter_5(tmp_path, monkeypatch):
    """reports/2024-id beside reports/2025-id reaches the notebooks as previous_dir; a
    named folder wins; --no-previous passes none."""

    import asn_eval.report.document
    from asn_eval.report import build as pipeline
    from asn_eval.report import kernels

    data = tmp_path / "export"
    data.mkdir()
    (data / "employees.csv").write_text("nip\n")
    notebooks = tmp_path / "chapters"
    notebooks.mkdir()
    for stem, _ in pipeline.CHAPTERS:
        (notebooks / f"{stem}.ipynb").write_text("{}")
    dataset = stand_in_dataset()
    monkeypatch.setattr(pipeline, "check_inputs", lambda *args, **kwargs: dataset)
    monkeypatch.setattr(kernels, "clean_notebook_metadata", lambda path: None)
    monkeypatch.setattr(asn_eval.report.document, "write_documents", lambda *a, **k: None)
    seen = []

    def chapter(source, target, *, parameters, **kwargs):
        target.write_text("{}")
        seen.append(parameters.get("previous_dir"))

    monkeypatch.setattr(kernels, "execute_notebook", chapter)
    reports = tmp_path / "reports"
    save_results(reports / "2024-id", THEN, chapter=3)

    def build(**options):
        seen.clear()
        pipeline.build_report(
            data_dir=data, out_dir=reports / "2025-id", notebooks_dir=notebooks,
            progress=lambda line: None, **options,
        )  # fmt: skip
        return set(seen)

    assert build() == {str(reports / "2024-id")}
    save_results(tmp_path / "older", THEN, chapter=3)
    assert build(previous_dir=tmp_path / "older") == {str(tmp_path / "older")}
    assert build(compare_previous=False) == {None}
    with pytest.raises(pipeline.ReportInputError, match="holds no results.json"):
        build(previous_dir=tmp_path / "chapters")


def test_notebook_5_declares_previous_dir_so_that_papermill_passes_it():
    from asn_eval.config import NOTEBOOKS_DIR
    from asn_eval.report.kernels import declared_parameters

    path = NOTEBOOKS_DIR / "05_conclusion.ipynb"
    assert declared_parameters(path, {"previous_dir": "/r/2024-id"}) == {
        "previous_dir": "/r/2024-id"
    }
