"""Chapters: numbered output in both languages, known effects recovered and worded honestly,
conclusions read from results.json, small cells suppressed, identical output run after run."""

from __future__ import annotations

import json
import re
from importlib import import_module
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import make_dataset

from asn_eval.analysis import AnalysisSpec
from asn_eval.analysis.impact import OUTCOMES, estimate_policy_outcome
from asn_eval.analysis.panels import agency_year_panel
from asn_eval.config import CHAPTERS
from asn_eval.report.chapters import base, chapter_class, open_chapter
from asn_eval.report.narrative import effect_sentence, templates, text, verdict_label
from asn_eval.results.store import (
    ResultRecord,
    load_policy_decisions,
    load_results,
    save_results,
)

# Few draws keep the impact chapter quick in tests; the report uses 999 and 199.
FAST = {"spec": AnalysisSpec(year=2024, seed=1, n_boot=99, n_perm=19)}


@pytest.fixture
def shown(monkeypatch):
    """Collect the HTML each chapter displays instead of sending it to IPython."""
    captured: list[str] = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: captured.append(html))
    return captured


def run(name, dataset, out, *, lang="id", **options):
    chapter = open_chapter(
        name,
        data_dir=None,
        year=2024,
        lang=lang,
        seed=1,
        output_dir=out,
        dataset=dataset,
        **options,
    )
    chapter.heading()
    for section in chapter.sections:
        chapter.show(section)
    return chapter


@pytest.fixture(scope="module")
def data():
    return make_dataset(effect=0.25, per_agency=30)


@pytest.mark.parametrize(
    ("lang", "title", "date", "rows", "figure_word"),
    [
        ("id", "1. Pendahuluan", "31 Januari 2025", "2.160", "Gambar 1.1."),
        ("en", "1. Introduction", "31 January 2025", "2,160", "Figure 1.1."),
    ],
)
def test_introduction_numbers_headings_and_writes_numbers_for_the_language(
    shown, data, tmp_path, lang, title, date, rows, figure_word
):
    chapter = run("introduction", data, tmp_path, lang=lang)
    html = "\n".join(shown)
    assert f"<h1>{title}</h1>" in html
    headings = [text for kind, text in chapter.emitted if kind == "h2"]
    assert [h.split(" ")[0] for h in headings] == ["1.1", "1.2", "1.3", "1.4"]
    # Data date in the language's month names; 12 agencies x 30 employees x 6 years of
    # performance rows with the language's digit grouping.
    assert date in html
    assert rows in html
    assert figure_word in html
    assert (tmp_path / "figures" / "1-1_workforce.png").exists()
    assert (tmp_path / "tables" / "1-2_data_sources.csv").exists()
    # The synthetic-data notice comes from the dataset's metadata.
    assert chapter.common("synthetic_notice") in [t for k, t in chapter.emitted if k == "notice"]


def test_no_synthetic_notice_for_real_data(shown, tmp_path):
    real = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    real.synthetic = False
    chapter = open_chapter(
        "introduction", data_dir=None, year=2024, output_dir=tmp_path, dataset=real
    )
    chapter.heading()
    assert not [k for k, _ in chapter.emitted if k == "notice"]


def test_impact_recovers_a_known_effect_and_says_improved(shown, data, tmp_path):
    run("impact", data, tmp_path, **FAST)
    records = {(r.policy, r.outcome, r.estimator): r for r in load_results(tmp_path)}
    rec = records[("performance_appraisal", "skp_good_share", "Callaway-Sant'Anna")]
    # True effect: the chance of Baik or better rises by 0.25 once appraisal is in force.
    assert rec.ci_low <= 0.25 <= rec.ci_high
    assert rec.verdict == "improved"
    assert rec.n_agencies == 12
    assert rec.p_value_few_cluster is not None and rec.pretrend_p is not None
    # results.json carries what the issue asks for, per policy and outcome.
    stored = json.loads((tmp_path / "results.json").read_text())["records"]
    entry = next(
        e
        for e in stored
        if e["policy"] == "performance_appraisal"
        and e["outcome"] == "skp_good_share"
        and e["estimator"] == "Callaway-Sant'Anna"
    )
    for key in ("estimate", "std_error", "ci_low", "ci_high", "p_value", "n_agencies"):
        assert entry[key] is not None
    assert entry["n_employees"] == 360 and entry["verdict"] == "improved"
    # The prose shown uses the word the interval allows.
    html = "\n".join(shown)
    assert (
        "Proporsi pegawai dengan predikat SKP Baik atau lebih naik" in html
        and "setelah penilaian kinerja diterapkan (lebih baik)" in html
    )
    assert "= &lt;" not in html  # a tiny p-value reads "p < 0,001", never "p = < 0,001"
    assert (tmp_path / "figures" / "3-1_event_study_training_programme.png").exists()
    assert (tmp_path / "tables" / "3-1_overall_effects.csv").exists()


@pytest.mark.parametrize(
    ("effect", "verdict", "words"),
    [
        (0.0, "no_detectable_effect", "Tidak terdeteksi perubahan proporsi pegawai"),
        (-0.25, "worsened", "setelah penilaian kinerja diterapkan (lebih buruk)"),
    ],
)
def test_zero_and_negative_effects_are_worded_as_such(effect, verdict, words):
    panel = agency_year_panel(make_dataset(effect=effect, per_agency=30))
    res = estimate_policy_outcome(
        panel,
        "performance_appraisal",
        OUTCOMES["skp_good_share"],
        spec=AnalysisSpec(year=2024, seed=1),
        few_cluster=False,
    )
    rec = res.record()
    assert rec.ci_low <= effect <= rec.ci_high
    assert rec.verdict == verdict
    assert words in effect_sentence(rec, "id")


def test_conclusion_builds_findings_from_results_json(shown, tmp_path):
    records = [
        ResultRecord(
            policy="training_programme",
            outcome="skp_good_share",
            estimator="Callaway-Sant'Anna",
            estimate=0.1234,
            std_error=0.02,
            ci_low=0.0834,
            ci_high=0.1634,
            p_value=0.001,
            p_value_few_cluster=0.01,
            pretrend_p=0.6,
            n_agencies=40,
            better="higher",
            unit="share",
        ),
        ResultRecord(
            policy="digitalisation",
            outcome="ikm",
            estimator="Callaway-Sant'Anna",
            estimate=0.5,
            std_error=0.4,
            ci_low=-0.3,
            ci_high=1.3,
            p_value=0.2,
            n_agencies=40,
            better="higher",
            unit="points",
        ),
        # TWFE is not a headline finding: it must stay out of the table.
        ResultRecord(
            policy="digitalisation", outcome="ikm", estimator="TWFE", estimate=9.0, n_agencies=40
        ),
    ]
    save_results(tmp_path, records, chapter=3)
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    chapter = run("conclusion", small, tmp_path, lang="en")
    html = "\n".join(shown)
    csv = pd.read_csv(tmp_path / "tables" / "5-1_findings.csv")
    assert len(csv) == 2
    assert "12.34" in html  # 0.1234 shown in percentage points, English decimal point
    assert "Improved" in html and "No detectable effect" in html
    assert (
        "Of 2 headline estimates of performance and services, 1 show a confirmed improvement "
        "and 0 a tentative one; 0 show a confirmed deterioration and 0 a tentative one; 1 show "
        "no detectable effect."
    ) in html
    assert "The report tests 2 effects at once; at the 5% level about 0 of them" in html
    # One decision per policy with findings, from its main outcome, kept in results.json.
    recommendations = next(t for k, t in chapter.emitted if k == "bullets" and "Keep" in t)
    assert recommendations.splitlines()[:2] == [
        "The training programme: Keep and extend. The share of staff rated Baik or better "
        "(SKP), its main outcome, improved and the finding is confirmed. Responsible: BKPSDM "
        "(the city's civil service and human resources development agency); checked again in "
        "the 2025 report.",
        "Digitalisation of administration: No evidence yet. No effect was detected on the "
        "community satisfaction index (IKM), its main outcome. Responsible: The Organisation "
        "Section of the City Secretariat with the communications and informatics agency "
        "(Diskominfo); checked again in the 2025 report.",
    ]
    decisions = load_policy_decisions(tmp_path)
    assert [(d["policy"], d["decision"]) for d in decisions] == [
        ("training_programme", "extend"),
        ("digitalisation", "no_evidence_yet"),
    ]


def test_conclusion_without_results_says_so(shown, tmp_path):
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    chapter = open_chapter(
        "conclusion", data_dir=None, year=2024, output_dir=tmp_path, dataset=small
    )
    chapter.show("findings")
    assert chapter.t("sections.findings.missing") in "\n".join(shown)


def test_cells_from_fewer_than_five_employees_are_suppressed(shown, tmp_path):
    data = make_dataset(per_agency=10, years=[2023, 2024])
    perf = data.tables["performance"]
    keep = perf["agency_code"].ne("A11") | perf["employee_id"].isin(
        sorted(perf.loc[perf["agency_code"] == "A11", "employee_id"].unique())[:3]
    )
    data.tables["performance"] = perf[keep].reset_index(drop=True)
    chapter = open_chapter("policies", data_dir=None, year=2024, output_dir=tmp_path, dataset=data)
    chapter.show("training")
    table = pd.read_csv(tmp_path / "tables" / "2-1_jp_minimum_by_agency.csv")
    flags = ["jp_minimum_2023_share_suppressed", "jp_minimum_2024_share_suppressed"]
    small = table["agency"] == "Agency 11"
    assert table.loc[small, flags].all().all()
    assert table.loc[small, ["jp_minimum_2023_share", "jp_minimum_2024_share"]].isna().all().all()
    # One complementary cell a year, so the city share does not give Agency 11's away.
    assert (table[flags].sum() == 2).all()
    assert chapter.suppression_note() in "\n".join(shown)


def test_output_is_identical_run_after_run(shown, tmp_path):
    data = make_dataset(n_agencies=6, per_agency=8, years=[2022, 2023, 2024])
    run("introduction", data, tmp_path / "a")
    first = list(shown)
    shown.clear()
    run("introduction", data, tmp_path / "b")
    assert shown == first
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*") if p.is_file()
    )
    assert files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_unknown_section_and_chapter_messages(tmp_path):
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    chapter = open_chapter("policies", data_dir=None, year=2024, output_dir=tmp_path, dataset=small)
    with pytest.raises(ValueError, match=r"Chapter 2 \(policies\) has no section 'budget'; its "):
        chapter.show("budget")
    with pytest.raises(ValueError, match="Unknown chapter 'dampak'; the chapters are introduction"):
        open_chapter("dampak", data_dir=None, year=2024, dataset=small)


def test_every_text_the_chapters_ask_for_exists_in_both_languages():
    """Keys are checked where the code names them, so a text used only in a rare branch
    (missing data, a failed estimate) cannot be missing from one language's templates."""
    package = Path(base.__file__).parent
    literal = re.compile(r'self\.t\(\s*"([^"]+)"')
    for _, name in CHAPTERS:
        cls = chapter_class(name)
        source = Path(import_module(cls.__module__).__file__).read_text(encoding="utf-8")
        asked = set(literal.findall(source))
        asked |= {"title", "intro"} | {f"sections.{s}.title" for s in cls.sections}
        for lang in ("id", "en"):
            names = templates(lang)
            for key in sorted(asked):
                full = f"chapters.{cls.key}.{key}"
                assert full in names or any(n.startswith(f"{full}.") for n in names), (lang, full)
    # One template set: no chapter keeps prose of its own.
    assert not list(package.glob("*.yaml"))


def test_chapter_text_is_filled_by_the_narrative_templates(tmp_path):
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    chapter = open_chapter(
        "impact", data_dir=None, year=2024, lang="en", dataset=small, output_dir=tmp_path
    )
    assert chapter.t("title") == text("chapters.impact.title", "en") == "Impact"
    assert chapter.t(
        "sections.dose_response.jump",
        threshold=20,
        jump="1.2",
        interval="[0.1, 2.3]",
        p=chapter.p_eq(0.0004),
    ) == (
        "Jump at the 20 JP minimum, over and above the smooth curve: 1.2 percentage points "
        "(95% CI [0.1, 2.3], p < 0.001)."
    )
    assert chapter.p_eq(0.0613) == "= 0.061"
    assert chapter.t("sections.overall.columns")["p_few"] == "Few-cluster p"
    with pytest.raises(KeyError) as err:
        chapter.t("sections.overall.lede")
    assert err.value.args[0] == (
        "No report text 'chapters.impact.sections.overall.lede' in the 'en' templates. "
        "Did you mean 'chapters.impact.sections.overall.lead'?"
    )


def test_dukcapil_its_separates_two_policies_and_recovers_each_jump():
    from asn_eval.analysis.impact import dukcapil_its

    data = make_dataset(n_agencies=4, per_agency=5, years=[2019, 2020, 2021, 2022, 2023, 2024])
    policies = data.tables["policies"]
    policies.loc[policies["agency_code"] == "A00", "training_programme"] = pd.Timestamp(
        "2020-07-01"
    )
    policies.loc[policies["agency_code"] == "A00", "digitalisation"] = pd.Timestamp("2022-07-01")
    services = data.tables["services"].copy()
    month = services["month"]
    rng = np.random.default_rng(3)
    # Days fall by 1 when training starts and by 2 more with digitalisation.
    days = 6.0 - 1.0 * (month >= "2020-07-01") - 2.0 * (month >= "2022-07-01")
    services["median_time"] = days + rng.normal(0, 0.05, len(services))
    services["share_within_standard"] = 0.8 + 0.05 * (month >= "2022-07-01")
    data.tables["services"] = services
    results = dukcapil_its(data, years=[2019, 2020, 2021, 2022, 2023, 2024])
    training = results[("training_programme", "dukcapil_days")].result
    digital = results[("digitalisation", "dukcapil_days")].result
    # Each regression sees only its own intervention: training's window ends before
    # digitalisation starts, digitalisation's begins when training started.
    assert training.observed.index.max() < pd.Timestamp("2022-07-01")
    assert digital.observed.index.min() == pd.Timestamp("2020-07-01")
    assert training.params["level_change"] == pytest.approx(-1.0, abs=0.1)
    assert digital.params["level_change"] == pytest.approx(-2.0, abs=0.1)
    share = results[("digitalisation", "share_within_standard")].result
    assert share.params["level_change"] == pytest.approx(0.05, abs=0.01)


def test_report_tables_align_words_left_and_numbers_right(tmp_path):
    from asn_eval.report.tables import save_table

    frame = pd.DataFrame(
        {
            "Kebijakan": ["Pelatihan", "Digitalisasi", "Penilaian kinerja"],
            "OPD": [12, 3, 7],
            "Selang 95%": ["[0,02; 0,10]", "[-0,05; 0,01]", "[0,10; 0,30]"],
            "p": ["< 0,001", "0,041", "0,200"],  # already written p-values are numbers too
            "Median (bulan)": [4.5, "belum tercapai", 6.0],  # one word among numbers
            "Pegawai": [base.SUPPRESSED, 40, 12],  # a suppression mark says neither
            "Kesimpulan": ["Meningkat", "Tidak terdeteksi efek", "Meningkat"],
        }
    )
    saved = save_table(frame, tmp_path, 3, 1, "overall", "Efek", "id")
    html = saved._repr_html_()
    rules = dict(re.findall(r"#T_3_1_overall \.col(\d) \{\s*text-align: (\w+);", html))
    assert rules == {"0": "left", "1": "right", "2": "right", "3": "right", "4": "right",
                     "5": "right", "6": "left"}  # fmt: skip
    # Numbers are not broken across lines ("< 0,001" stays whole); words may wrap.
    unbroken = re.findall(r"#T_3_1_overall td\.col(\d) \{\s*white-space: nowrap;", html)
    assert unbroken == ["1", "2", "3", "4", "5"]
    tex = saved.paths["tex"].read_text(encoding="utf-8")
    # Counts as siunitx columns; intervals, p-values and a column with words stay right-aligned
    # text; words left.
    assert r"\begin{tabular}{lS[table-format=2.0]rrrS[table-format=2.0]l}" in tex


def test_executive_summary_reads_the_one_decision_and_asks_no_change_without_confirmed_effects(
    shown, tmp_path
):
    """On data where nothing is confirmed the summary says so and asks for no policy change;
    each finding reads the same verdict and standing as the findings table."""
    tentative = ResultRecord(
        policy="performance_appraisal",
        outcome="health_minutes",
        estimator="Callaway-Sant'Anna",
        estimate=-8.28,
        ci_low=-9.0,
        ci_high=-7.5,
        p_value=0.001,
        p_value_few_cluster=0.2,
        pretrend_status="untestable",
        n_agencies=5,
        better="lower",
        unit="minutes",
    )
    none = ResultRecord(
        policy="digitalisation",
        outcome="ikm",
        estimator="Callaway-Sant'Anna",
        estimate=0.5,
        ci_low=-0.3,
        ci_high=1.3,
        p_value=0.2,
        pretrend_status="passed",
        n_agencies=60,
        better="higher",
        unit="points",
    )
    save_results(tmp_path, [tentative, none], chapter=3)
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    chapter = open_chapter(
        "conclusion", data_dir=None, year=2024, lang="en", output_dir=tmp_path, dataset=small
    )
    chapter.executive_summary()
    summary = next(t for k, t in chapter.emitted if k == "summary")
    assert "Executive summary" in summary
    assert (
        "outpatient service time at health centres fell by 8.3 minutes, faster "
        "(tentative: pre-trend untestable, few agencies)"
    ) in summary
    assert "the community satisfaction index (IKM): no detectable change" in summary
    assert "No effect is confirmed: these data are no basis for changing any policy." in summary
    assert "keep and extend" not in summary and "review how" not in summary
    assert "Improved, tentative (pre-trend untestable and few agencies)" == verdict_label(
        tentative, "en"
    )


def test_executive_summary_carries_its_title_and_anchor_for_the_contents(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(base, "_display", lambda html, kind, **label: shown.append((html, label)))
    small = make_dataset(n_agencies=4, per_agency=6, years=[2023, 2024])
    chapter = open_chapter(
        "conclusion", data_dir=None, year=2024, lang="id", output_dir=tmp_path, dataset=small
    )
    chapter.executive_summary()
    ((html, label),) = shown
    assert label == {"title": "Ringkasan eksekutif", "anchor": "executive-summary"}
    assert html.startswith('<section class="executive-summary" id="executive-summary">')


def _digitalisation_effect_by_education(effects: dict[str, float], *, seed: int = 5):
    """make_dataset with SKP 'Baik or better' rising by ``effects[education]`` (a probability)
    once the employee's agency has digitalised, and by nothing otherwise."""
    from asn_eval.domain.regulations import SKP_PREDICATES

    data = make_dataset(per_agency=40, seed=seed)
    rng = np.random.default_rng(seed)
    perf = data.tables["performance"].copy()
    start = data.tables["policies"].set_index("agency_code")["digitalisation"].dt.year
    education = data.tables["employees"].set_index("employee_id")["education"].astype(str)
    treated = perf["year"].to_numpy() >= perf["agency_code"].map(start).fillna(9999).to_numpy()
    lift = perf["employee_id"].map(education).map(effects).fillna(0.0).to_numpy()
    good = rng.random(len(perf)) < 0.4 + lift * treated
    perf["skp_predicate"] = pd.Categorical(
        np.where(good, SKP_PREDICATES[1], SKP_PREDICATES[2]),
        categories=list(SKP_PREDICATES)[::-1],
        ordered=True,
    )
    data.tables["performance"] = perf
    return data


def test_challenges_recovers_an_effect_that_differs_by_education():
    from asn_eval.analysis.challenges import challenges

    # True effects: +0.40 for S2 holders, none for SMA graduates (make_dataset draws
    # education from SMA, D3, S1, S2, so the groups SMA-, D1-D3, D4/S1, S2/S3 each hold one).
    data = _digitalisation_effect_by_education({"SMA": 0.0, "D3": 0.0, "S1": 0.0, "S2": 0.4})
    results = challenges(data, AnalysisSpec(year=2024, level=0.95))
    by_education = results.to_frame().query("by == 'education_group'").set_index("group")
    assert by_education.loc["S2/S3", "ci_low"] <= 0.4 <= by_education.loc["S2/S3", "ci_high"]
    assert by_education.loc["SMA-", "ci_low"] <= 0.0 <= by_education.loc["SMA-", "ci_high"]
    assert by_education.loc["S2/S3", "ci_low"] > by_education.loc["SMA-", "ci_high"]
    assert by_education["equality_p"].iloc[0] < 0.001
    # The options behind each number travel with it.
    assert set(by_education["cluster"]) == {"agency_code"}
    assert set(by_education["level"]) == {0.95}
    # One results.json record per subgroup estimate, named by subgroup.
    subgroups = {(r.outcome, r.subgroup_variable, r.subgroup_value) for r in results.records()}
    assert ("skp_good", "education_group", "S2/S3") in subgroups
    assert len(results.records()) == len(results.to_frame())


def test_challenges_training_capacity_follows_the_20_jp_minimum():
    from asn_eval.analysis.challenges import challenges
    from asn_eval.domain.regulations import JP_MINIMUM_PER_YEAR

    data = make_dataset(per_agency=20)
    results = challenges(data, AnalysisSpec(year=2024))
    cap = results.capacity
    courses = data.tables["training"]
    jp_per_course = courses.loc[courses["date"].dt.year == 2024, "jp"].mean()
    # Places needed = headcount x 20 JP / mean JP per course, in whole places (PP 17/2020);
    # the shortfall is what the places do not cover, never negative.
    assert results.jp_per_course == pytest.approx(jp_per_course)
    assert JP_MINIMUM_PER_YEAR == 20
    needed = np.ceil(cap["headcount"] * 20 / jp_per_course)  # whole places
    assert np.array_equal(cap["places_needed"], needed)
    assert np.allclose(cap["shortfall"], (needed - cap["training_places"]).clip(lower=0))
    assert results.places_per_employee_needed * jp_per_course == pytest.approx(20)
    summary = results.capacity_summary()
    assert summary["agencies"] == len(cap) == 12
    short = int((cap["shortfall"] > 0).sum())
    assert summary["agencies_short"] == short == len(results.shortfall())
    assert summary["shortfall"] == pytest.approx(cap["shortfall"].sum())


def test_challenges_chapter_renders_the_results_it_is_given(shown, tmp_path):
    from asn_eval.analysis.challenges import challenges

    data = make_dataset(per_agency=20)
    spec = AnalysisSpec(year=2024, level=0.9, min_cell_size=25)
    results = challenges(data, spec)
    chapter = run("challenges", data, tmp_path, lang="en", spec=spec, results=results)
    assert chapter.results is results
    headings = [text for kind, text in chapter.emitted if kind == "h2"]
    assert [h.split(" ")[0] for h in headings] == ["4.1", "4.2", "4.3", "4.4"]
    for name in ("4-1_digital_adoption_km.png", "4-2_heterogeneity.png"):
        assert (tmp_path / "figures" / name).exists(), name
    # results.json holds the given results' subgroup estimates at the spec's level.
    stored = [r for r in load_results(tmp_path) if r.chapter == "4"]
    assert len(stored) == len(results.records()) > 0
    assert {r.level for r in stored} == {0.9}
    # ... and every caption, column label and sentence names that level, never a typed 95%
    page = " ".join(shown)
    assert "90% CI" in page and "95%" not in page
    # Every agency has 20 employees, below the spec's small-cell limit of 25: the share
    # meeting the 20 JP minimum is withheld in the shortfall table.
    shortfall = pd.read_csv(tmp_path / "tables" / "4-3_training_shortfall.csv")
    assert shortfall["jp_minimum_share_suppressed"].all()
    assert shortfall["jp_minimum_share"].isna().all()


def test_a_cached_dataset_names_the_folder_it_was_asked_for(tmp_path, monkeypatch):
    """The cache is keyed by content: a dataset cached from a relative path must not send the
    truth table (truth.json) or the cover looking in the wrong folder later."""
    from asn_eval.config import DEFAULT_DATA_DIR, PROJECT_ROOT
    from asn_eval.results.truth import load_truth

    monkeypatch.setattr(base, "_DATA_CACHE", {})
    monkeypatch.chdir(PROJECT_ROOT)
    first = base.load_dataset_cached("data/kupang-synthetic", cache_dir=tmp_path)
    assert first.source == DEFAULT_DATA_DIR
    monkeypatch.setattr(base, "_DATA_CACHE", {})
    monkeypatch.chdir(tmp_path)
    again = base.load_dataset_cached(DEFAULT_DATA_DIR, cache_dir=tmp_path)  # from the Parquet cache
    assert again.source == DEFAULT_DATA_DIR
    assert load_truth(again.source) is not None


def test_with_many_agencies_the_adoption_figure_shows_shares_not_a_row_each(shown, tmp_path):
    from asn_eval.report.agency_tables import MANY_AGENCIES

    many = make_dataset(n_agencies=MANY_AGENCIES + 1, per_agency=2, years=[2023, 2024])
    chapter = open_chapter("policies", data_dir=None, year=2024, output_dir=tmp_path, dataset=many,
                           lang="en")  # fmt: skip
    chapter.show("adoption")
    captions = [t for k, t in chapter.emitted if k == "figure"]
    assert captions == ["Figure 2.1. Share of agencies that had adopted each policy, by year"]


_NOTE_MARKS = "*†‡§¶"  # the marks a table note may point with (privacy's SUPPRESSED is "*")


def _tables_with_notes(html: str) -> list[tuple[str, str, str]]:
    """(caption, table HTML, note text) of every table the chapters showed with a note."""
    found = re.findall(
        r"(<table(?:(?!</table>).)*</table>)\s*<p class=\"table-note\"><small>(.*?)</small></p>",
        html,
        re.S,
    )
    return [(re.search(r"<caption>(.*?)</caption>", t, re.S).group(1), t, n) for t, n in found]


@pytest.mark.parametrize("min_cell_size", [5, 100])
def test_every_footnote_mark_of_a_table_note_stands_in_that_table(shown, tmp_path, min_cell_size):
    """Table 4.1 once carried the note "* Tidak ditampilkan ..." with no "*" in any cell: a
    note's mark points at cells, so it stands only under a table that holds it."""
    data = make_dataset(per_agency=20)
    spec = AnalysisSpec(year=2024, min_cell_size=min_cell_size)
    for name in ("introduction", "policies", "challenges"):
        run(name, data, tmp_path / name, spec=spec)
    notes = _tables_with_notes("\n".join(shown))
    assert notes
    marked = 0
    for caption, table, note in notes:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)
        for mark in set(note) & set(_NOTE_MARKS):
            marked += 1
            assert any(mark in cell for cell in cells), f"{caption}: {mark!r} is in no cell"
    # With a limit of 100 employees many cells are withheld, and their tables say so.
    assert marked > 0 or min_cell_size < 100
