"""The report's words follow the evidence, in Indonesian and English; results.json round-trips."""
# ruff: noqa: E501 -- whole sentences a reader sees are kept on one line, as they read

import json
import re

import jinja2
import jinja2.meta
import numpy as np
import pandas as pd
import pytest

from asn_eval.analysis.panels import TrainingGap
from asn_eval.domain.outcomes import OUTCOMES
from asn_eval.estimators.results import EstimateTable, normal_interval
from asn_eval.report.narrative import (
    FEW_CLUSTERS,
    GLOSSARY_TERMS,
    effect_sentence,
    estimator_label,
    glossary,
    p_relation,
    templates,
    text,
    text_group,
    training_capacity_text,
    verdict,
    verdict_label,
)
from asn_eval.results.store import ResultRecord, load_results, results_frame, save_results

# (outcome, estimate, Indonesian clause, English clause): a rise and a fall of every outcome
# in the registry, read as the outcome's own direction (issue 11, item 2).
OUTCOME_SENTENCES = [
    ('skp_good_share', 0.05,
     'Proporsi pegawai dengan predikat SKP Baik atau lebih naik 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih baik)',
     'The share of staff rated Baik or better (SKP) rose by 5.00 percentage points after performance appraisal was adopted (better)'),
    ('skp_good_share', -0.05,
     'Proporsi pegawai dengan predikat SKP Baik atau lebih turun 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih buruk)',
     'The share of staff rated Baik or better (SKP) fell by 5.00 percentage points after performance appraisal was adopted (worse)'),
    ('skp_good', 0.05,
     'Proporsi pegawai dengan predikat SKP Baik atau lebih naik 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih baik)',
     'The share of staff rated Baik or better (SKP) rose by 5.00 percentage points after performance appraisal was adopted (better)'),
    ('skp_good', -0.05,
     'Proporsi pegawai dengan predikat SKP Baik atau lebih turun 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih buruk)',
     'The share of staff rated Baik or better (SKP) fell by 5.00 percentage points after performance appraisal was adopted (worse)'),
    ('absence_mean', 1.5,
     'Hari tidak hadir tanpa alasan sah per pegawai naik 1,50 hari setelah penilaian kinerja diterapkan (kehadiran lebih buruk)',
     'Unexcused absence days per employee rose by 1.50 days after performance appraisal was adopted (worse attendance)'),
    ('absence_mean', -1.5,
     'Hari tidak hadir tanpa alasan sah per pegawai turun 1,50 hari setelah penilaian kinerja diterapkan (kehadiran lebih baik)',
     'Unexcused absence days per employee fell by 1.50 days after performance appraisal was adopted (better attendance)'),
    ('sanction_share', 0.05,
     'Proporsi pegawai yang dijatuhi hukuman disiplin naik 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih banyak pelanggaran disiplin)',
     'The share of staff with a disciplinary sanction rose by 5.00 percentage points after performance appraisal was adopted (more disciplinary breaches)'),
    ('sanction_share', -0.05,
     'Proporsi pegawai yang dijatuhi hukuman disiplin turun 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih sedikit pelanggaran disiplin)',
     'The share of staff with a disciplinary sanction fell by 5.00 percentage points after performance appraisal was adopted (fewer disciplinary breaches)'),
    ('jp_mean', 12.0,
     'Jam pelatihan (JP) per pegawai naik 12,00 JP setelah penilaian kinerja diterapkan (ini serapan program, bukan ukuran kinerja)',
     'Training hours (JP) per employee rose by 12.00 JP after performance appraisal was adopted (this is programme uptake, not a measure of performance)'),
    ('jp_mean', -12.0,
     'Jam pelatihan (JP) per pegawai turun 12,00 JP setelah penilaian kinerja diterapkan (ini serapan program, bukan ukuran kinerja)',
     'Training hours (JP) per employee fell by 12.00 JP after performance appraisal was adopted (this is programme uptake, not a measure of performance)'),
    ('health_minutes', 8.28,
     'Waktu layanan rawat jalan di puskesmas naik 8,28 menit setelah penilaian kinerja diterapkan (lebih lambat)',
     'Outpatient service time at health centres rose by 8.28 minutes after performance appraisal was adopted (slower)'),
    ('health_minutes', -8.28,
     'Waktu layanan rawat jalan di puskesmas turun 8,28 menit setelah penilaian kinerja diterapkan (lebih cepat)',
     'Outpatient service time at health centres fell by 8.28 minutes after performance appraisal was adopted (faster)'),
    ('ikm', 2.5,
     'Indeks kepuasan masyarakat (IKM) naik 2,50 poin setelah penilaian kinerja diterapkan (lebih baik)',
     'The community satisfaction index (IKM) rose by 2.50 points after performance appraisal was adopted (better)'),
    ('ikm', -2.5,
     'Indeks kepuasan masyarakat (IKM) turun 2,50 poin setelah penilaian kinerja diterapkan (lebih buruk)',
     'The community satisfaction index (IKM) fell by 2.50 points after performance appraisal was adopted (worse)'),
    ('dukcapil_days', 1.5,
     'Waktu penyelesaian dokumen Dukcapil naik 1,50 hari setelah penilaian kinerja diterapkan (lebih lambat)',
     'Dukcapil document processing time rose by 1.50 days after performance appraisal was adopted (slower)'),
    ('dukcapil_days', -1.5,
     'Waktu penyelesaian dokumen Dukcapil turun 1,50 hari setelah penilaian kinerja diterapkan (lebih cepat)',
     'Dukcapil document processing time fell by 1.50 days after performance appraisal was adopted (faster)'),
    ('share_within_standard', 0.05,
     'Proporsi layanan yang selesai sesuai standar pelayanan naik 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih baik)',
     'The share of services completed within the service standard rose by 5.00 percentage points after performance appraisal was adopted (better)'),
    ('share_within_standard', -0.05,
     'Proporsi layanan yang selesai sesuai standar pelayanan turun 5,00 poin persentase setelah penilaian kinerja diterapkan (lebih buruk)',
     'The share of services completed within the service standard fell by 5.00 percentage points after performance appraisal was adopted (worse)'),
]


def _simulated_record(effect, *, better, seed, n_agencies=400, outcome="ikm"):
    """Difference in agency means from data with a known true effect (normal 95% interval)."""
    rng = np.random.default_rng(seed)
    half = n_agencies // 2
    control = rng.normal(80.0, 2.0, half)
    treated = rng.normal(80.0 + effect, 2.0, half)
    estimate = treated.mean() - control.mean()
    se = np.sqrt(treated.var(ddof=1) / half + control.var(ddof=1) / half)
    lo, hi = normal_interval(estimate, se)
    return ResultRecord(
        policy="performance_appraisal",
        outcome=outcome,
        estimator="difference in means",
        estimate=float(estimate),
        std_error=float(se),
        ci_low=float(lo),
        ci_high=float(hi),
        n_agencies=n_agencies,
        n_employees=12_345,
        better=better,
        unit="points",
    )


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(
    ("true_effect", "better", "expected"),
    [
        (1.5, "higher", "improved"),
        (0.0, "higher", "no_detectable_effect"),
        (-1.5, "higher", "worsened"),
        (-1.5, "lower", "improved"),  # e.g. processing days fall
        (1.5, "lower", "worsened"),
    ],
)
def test_prose_from_known_effects_has_the_right_verdict_and_words(
    lang, true_effect, better, expected
):
    record = _simulated_record(true_effect, better=better, seed=7)
    assert record.verdict == expected
    sentence = effect_sentence(record, lang)
    # The outcome moves the way its estimate does; "better"/"worse" follow the verdict;
    # "no detectable change" only when the interval covers zero, with the interval given.
    words = {
        "id": {"up": " naik ", "down": " turun ", "better": "(lebih baik)", "worse": "(lebih buruk)",
               "none": "Tidak terdeteksi perubahan"},
        "en": {"up": " rose by ", "down": " fell by ", "better": "(better)", "worse": "(worse)",
               "none": "No detectable change"},
    }[lang]  # fmt: skip
    if expected == "no_detectable_effect":
        assert sentence.startswith(words["none"])
    else:
        assert (words["up"] in sentence) == (record.estimate > 0)
        assert (words["down"] in sentence) == (record.estimate < 0)
    assert (words["better"] in sentence) == (expected == "improved")
    assert (words["worse"] in sentence) == (expected == "worsened")
    sep = "; " if lang == "id" else ", "
    dec = "," if lang == "id" else "."
    lo = f"{record.ci_low:.2f}".replace(".", dec)
    hi = f"{record.ci_high:.2f}".replace(".", dec)
    assert f"[{lo}{sep}{hi}]" in sentence
    employees = "12.345 pegawai" if lang == "id" else "12,345 employees"
    assert employees in sentence


@pytest.mark.parametrize(("outcome", "estimate", "id_words", "en_words"), OUTCOME_SENTENCES)
def test_every_outcome_reads_in_its_own_direction_in_both_languages(
    outcome, estimate, id_words, en_words
):
    registered = OUTCOMES[outcome]
    record = dict(
        policy="performance_appraisal",
        outcome=outcome,
        estimator="Callaway-Sant'Anna",
        estimate=estimate,
        ci_low=estimate - abs(estimate) / 2,
        ci_high=estimate + abs(estimate) / 2,
        better=registered.better,
        unit=registered.unit,
        n_agencies=60,
        pretrend_status="passed",
    )
    assert effect_sentence(record, "id").startswith(id_words + ";")
    assert effect_sentence(record, "en").startswith(en_words + ";")
    # Programme uptake is never called performance, and never "better" or "worse".
    if registered.kind == "uptake":
        for lang in ("id", "en"):
            assert verdict_label(record, lang) in ("Serapan naik", "Serapan turun",
                                                   "Uptake rose", "Uptake fell")  # fmt: skip


def test_zero_effect_intervals_cover_zero_at_nominal_rate():
    # The no-effect verdict is what a true zero gives in about 95% of samples.
    verdicts = [_simulated_record(0.0, better="higher", seed=s).verdict for s in range(400)]
    share = verdicts.count("no_detectable_effect") / len(verdicts)
    assert 0.92 <= share <= 0.98


@pytest.mark.parametrize(
    ("args", "better", "expected"),
    [
        ((0.5, 0.0, 1.0), "higher", "no_detectable_effect"),  # touching zero detects nothing
        ((0.5, 0.01, 1.0), "higher", "improved"),
        ((-0.5, -1.0, -0.01), "higher", "worsened"),
        ((-0.5, -1.0, -0.01), "lower", "improved"),
        ((0.5, float("nan"), float("nan")), "higher", "no_detectable_effect"),
    ],
)
def test_verdict_rules(args, better, expected):
    assert verdict(*args, better=better) == expected


def test_verdict_messages():
    with pytest.raises(ValueError, match=r"^better must be 'higher' or 'lower', not 'up'\.$"):
        verdict(1, 0.5, 1.5, better="up")
    with pytest.raises(ValueError, match=r"^Estimate 3 lies outside its confidence interval"):
        verdict(3, 0.5, 1.5)
    with pytest.raises(ValueError) as err:
        ResultRecord(
            policy="digitalisation",
            outcome="ikm",
            estimator="CS",
            estimate=1.0,
            ci_low=-1.0,
            ci_high=3.0,
            verdict="improved",
        )
    assert str(err.value) == (
        "Result for digitalisation on ikm carries the verdict 'improved', but its numbers "
        "say 'no_detectable_effect'."
    )


def _record(**overrides):
    base = dict(
        policy="training_programme",
        outcome="skp_good_share",
        estimator="Callaway-Sant'Anna",
        estimate=0.06,
        std_error=0.02,
        ci_low=0.02,
        ci_high=0.10,
        p_value=0.003,
        n_agencies=80,
        n_employees=3500,
        better="higher",
        unit="share",
        pretrend_p=0.41,
    )
    base.update(overrides)
    return ResultRecord(**base)


def test_share_effects_read_in_percentage_points():
    assert " naik 6,00 poin persentase " in effect_sentence(_record(), "id")
    assert " rose by 6.00 percentage points " in effect_sentence(_record(), "en")


@pytest.mark.parametrize(
    ("lang", "fail"),
    [
        ("id", "tidak dapat dibaca sebagai efek kebijakan: estimasinya 6,00 poin persentase "
               "(selang kepercayaan 95%: [2,00; 10,00]). Diestimasi dengan Callaway-Sant'Anna "
               "pada 80 perangkat daerah dan 3.500 pegawai. Sebabnya: uji tren sebelum "
               "penerapan menolak asumsi tren sejajar (p = 0,012): perbedaan sesudah penerapan "
               "bisa saja kelanjutan tren yang sudah ada sebelumnya."),
        ("en", "cannot be read as an effect of the policy: the estimate is 6.00 percentage "
               "points (95% confidence interval: [2.00, 10.00]). Estimated with "
               "Callaway-Sant'Anna on 80 agencies and 3,500 employees. The reason: the "
               "pre-adoption trend test rejects parallel trends (p = 0.012): the difference "
               "after adoption may continue a trend that was there before."),
    ],
)  # fmt: skip
def test_pretrend_failure_is_said_out_loud(lang, fail):
    """A failed pre-trend test is not "improved, tentative": the sentence says the estimate
    cannot be read as an effect, and why, and never that the outcome rose or improved."""
    failed = effect_sentence(_record(pretrend_p=0.012), lang)
    assert failed.endswith(fail), failed
    assert not any(word in failed for word in (" naik ", "membaik", " rose ", "improv"))
    # A passed test is said once in the chapter's design, not in every sentence.
    passed = effect_sentence(_record(pretrend_p=0.41), lang)
    assert "0,41" not in passed and "0.41" not in passed and "tentative" not in passed
    untestable = effect_sentence(_record(pretrend_p=None, pretrend_status="untestable"), lang)
    words = {"id": "asumsi tren sejajar tidak dapat diuji", "en": "cannot be tested"}[lang]
    assert words in untestable


@pytest.mark.parametrize(
    ("lang", "p", "reads"),
    [
        ("id", 1e-6, "(p < 0,001)"),
        ("en", 0.0004, "(p < 0.001)"),
        ("id", 0.012, "(p = 0,012)"),
        ("en", 0.03, "(p = 0.030)"),
    ],
)
def test_p_values_read_with_one_relation(lang, p, reads):
    sentence = effect_sentence(_record(pretrend_p=p), lang)
    assert reads in sentence
    assert "= <" not in sentence
    assert p_relation(p, lang) == reads[3:-1]


def test_few_cluster_caveats():
    many = effect_sentence(_record(n_agencies=FEW_CLUSTERS), "en")
    assert "randomization" not in many and "tentative" not in many
    unconfirmed = effect_sentence(_record(n_agencies=30, p_value_few_cluster=0.21), "en")
    assert unconfirmed.endswith(
        "Estimated with Callaway-Sant'Anna on 30 agencies and 3,500 employees; "
        "randomization-inference p-value 0.210. This finding is tentative: only 30 agencies "
        "and the randomization-inference p-value (0.210) does not confirm it."
    )
    confirmed = effect_sentence(_record(n_agencies=30, p_value_few_cluster=0.01), "id")
    assert confirmed.endswith("pada 30 perangkat daerah dan 3.500 pegawai; nilai p uji "
                              "randomisasi 0,010.")  # fmt: skip
    missing = effect_sentence(_record(n_agencies=30), "en")
    assert "no randomization-inference p-value was computed" in missing


def test_verdict_label_carries_the_one_decision_symmetrically():
    confirmed = _record(n_agencies=30, p_value_few_cluster=0.01)
    assert (confirmed.standing, verdict_label(confirmed, "en")) == ("confirmed", "Improved")
    unconfirmed = _record(n_agencies=30, p_value_few_cluster=0.06)
    assert verdict_label(unconfirmed, "en") == "Improved, tentative (few agencies)"
    pretrend = _record(n_agencies=30, p_value_few_cluster=0.01, pretrend_p=0.01)
    assert (pretrend.verdict, pretrend.standing) == ("not_identified", None)
    assert verdict_label(pretrend, "id") == "Tidak dapat dibaca sebagai efek"
    worse_pretrend = _record(pretrend_p=0.01, estimate=-0.06, ci_low=-0.10, ci_high=-0.02)
    assert verdict_label(worse_pretrend, "en") == "Cannot be read as an effect"
    untestable = _record(pretrend_p=None, pretrend_status="untestable")
    assert untestable.reasons == ("pretrend_untestable",)
    assert verdict_label(untestable, "en") == "Improved, tentative (pre-trend untestable)"
    # "worsened" on one office or a handful of agencies is as tentative as "improved" there
    worse = dict(estimate=-0.06, ci_low=-0.10, ci_high=-0.02)
    one_office = _record(n_agencies=1, pretrend_p=None, **worse)
    assert verdict_label(one_office, "id") == "Memburuk, belum pasti (satu kantor)"
    few = _record(n_agencies=5, p_value_few_cluster=0.3, **worse)
    assert verdict_label(few, "en") == "Worsened, tentative (few agencies)"
    assert (few.verdict, few.standing) == ("worsened", "tentative")
    none = _record(estimate=0.01, ci_low=-0.02, ci_high=0.04, n_agencies=5)
    assert (none.standing, verdict_label(none, "en")) == (None, "No detectable effect")


def test_training_capacity_action_names_its_cost_owner_and_check_year():
    """The places short priced at the year's budget per place (issue 20, item 4), the office
    that acts and the report that checks it again."""
    gap = TrainingGap(2025, 0.35, 120.0, 2_504_000.0, 120 * 2_504_000.0)
    assert training_capacity_text(gap, "id") == (
        "Kapasitas pelatihan: 35% pegawai belum mencapai batas minimal 20 JP per tahun, dan "
        "kuota pelatihan 2025 kurang 120 dari yang dibutuhkan untuk batas minimal 20 JP. Tambah "
        "kuota pelatihan dan manfaatkan e-learning serta jalur nonklasikal lain, yang turut "
        "dihitung untuk batas minimal. Dengan anggaran per kuota 2025 (Rp2,5 juta), kuota yang "
        "kurang itu bernilai sekitar Rp300,5 juta. Penanggung jawab: BKPSDM (Badan Kepegawaian "
        "dan Pengembangan Sumber Daya Manusia); diperiksa lagi dalam laporan 2026."
    )
    assert training_capacity_text(gap, "en", short=True) == (
        "Training capacity: add places and e-learning; 35% of employees are below 20 JP; 120 "
        "places short, about Rp300.5 million. Responsible: BKPSDM; checked again in the 2026 "
        "report."
    )
    # Without budget data the places are not priced; without a gap there is no action.
    unpriced = TrainingGap(2025, 0.05, 12.0, float("nan"), float("nan"))
    assert "Rp" not in training_capacity_text(unpriced, "id")
    assert "35%" not in training_capacity_text(unpriced, "id")  # 5% is within the tolerance
    assert training_capacity_text(TrainingGap(2025, 0.05, 0.0, 2e6, 0.0), "id") is None


def test_a_yearly_band_the_overall_number_hides_is_said_once():
    """IKM: no overall effect, but the year-4 band lies wholly below zero (issue 20, item 2)."""
    hidden = _record(policy="digitalisation", outcome="ikm", estimate=-0.9, ci_low=-1.87,
                     ci_high=0.08, unit="points", event_times_below=(4,))  # fmt: skip
    sentence = effect_sentence(hidden, "id")
    assert sentence.endswith(
        "Menurut tahun sejak penerapan, pita kepercayaan simultan pada tahun ke-4 seluruhnya di "
        "bawah nol (lebih buruk), walaupun efek keseluruhannya tidak terdeteksi; satu atau dua "
        "tahun saja belum cukup untuk menyimpulkan efek kebijakan."
    )
    assert "simultaneous confidence band lies wholly below zero in year 4 (worse)" in (
        effect_sentence(hidden, "en")
    )
    assert hidden.verdict == "no_detectable_effect"  # said beside the verdict, not instead
    # A band on the same side as the overall interval hides nothing; nor does a record that
    # is not read as an effect, or one without an event study.
    same = _record(estimate=0.06, ci_low=0.02, ci_high=0.10, event_times_above=(1, 2))
    failed = _record(pretrend_p=0.001, event_times_below=(3,))
    for record in (same, failed, _record()):
        assert "Menurut tahun sejak penerapan" not in effect_sentence(record, "id")
    both = _record(estimate=0.0, ci_low=-0.1, ci_high=0.1, event_times_below=(0,),
                   event_times_above=(3, 4))  # fmt: skip
    assert (
        "pita kepercayaan simultan pada tahun penerapan seluruhnya di bawah nol (lebih buruk) dan "
        "pada tahun ke-3 dan tahun ke-4 seluruhnya di atas nol (lebih baik)"
    ) in effect_sentence(both, "id")


def test_templates_have_the_same_keys_and_placeholders_in_both_languages():
    env = jinja2.Environment()
    id_t, en_t = templates("id"), templates("en")
    assert id_t.keys() == en_t.keys()
    for key in id_t:
        names = [jinja2.meta.find_undeclared_variables(env.parse(t[key])) for t in (id_t, en_t)]
        assert names[0] == names[1], key
        # {{ none }} parses as Jinja's None, so no value could fill it: it would print "None".
        for template in (id_t[key], en_t[key]):
            assert not re.search(r"\{\{-?\s*(none|true|false)\b", template, re.I), key


def test_values_named_like_jinja_constants_are_refused():
    with pytest.raises(ValueError) as err:
        text("chapters.conclusion.sections.findings.lead", "en", n=3, none=1)
    assert str(err.value) == (
        "Report text 'chapters.conclusion.sections.findings.lead' is given a value named "
        "'none', which the templates read as a constant; give it another name."
    )
    lead = text(
        "chapters.conclusion.sections.findings.lead",
        "id",
        n=3,
        improved=1,
        improved_tentative=0,
        worsened=0,
        worsened_tentative=0,
        no_effect=2,
        not_identified=0,
        uptake=0,
        n_tests=40,
        expected_false=2,
    )
    assert lead.startswith(
        "Dari 3 estimasi utama tentang kinerja dan layanan, 1 menunjukkan perbaikan yang kuat "
        "dan 0 perbaikan yang belum pasti;"
    )
    assert "Laporan ini menguji 40 efek sekaligus; pada taraf 5%, kira-kira 2 di antaranya" in lead


@pytest.mark.parametrize(
    ("key", "id_text", "en_text"),
    [
        ("chapters.introduction.title", "Pendahuluan", "Introduction"),
        ("chapters.policies.title", "Kebijakan", "Policies"),
        ("chapters.impact.title", "Dampak", "Impact"),
        ("chapters.challenges.title", "Tantangan", "Challenges"),
        ("chapters.conclusion.title", "Kesimpulan", "Conclusion"),
    ],
)
def test_chapter_titles(key, id_text, en_text):
    assert text(key, "id") == id_text
    assert text(key, "en") == en_text


def test_text_fills_values_and_explains_mistakes():
    assert text("report.subtitle", "id", year=2025) == "Laporan tahunan 2025"
    with pytest.raises(KeyError) as err:
        text("chapters.impakt.title", "en")
    assert err.value.args[0] == (
        "No report text 'chapters.impakt.title' in the 'en' templates. "
        "Did you mean 'chapters.impact.title'?"
    )
    with pytest.raises(KeyError) as err:
        text("report.subtitle", "en")
    assert err.value.args[0] == "Report text 'report.subtitle' needs a value: 'year' is undefined."


def test_text_groups_keep_template_order_and_explain_mistakes():
    # The order of a group is the order of the template file: table columns rely on it.
    limits = text_group("chapters.challenges.sections.limits.items", "en")
    assert list(limits) == ["parallel", "few", "measure", "mentoring", "cost"]
    assert limits["cost"].startswith("Without cost data per policy, this report cannot judge")
    # A group holding a group comes back nested.
    twfe = text_group("chapters.impact.sections.twfe_bacon", "id", level="90")
    assert twfe["types"]["later_vs_earlier"] == "lebih lambat vs lebih awal (terlarang)"
    assert twfe["columns"]["twfe"] == "TWFE"
    assert twfe["columns"]["twfe_interval"] == "Selang 90% TWFE"  # the level it is given
    with pytest.raises(KeyError, match="twfe_interval' needs a value: 'level' is undefined"):
        text_group("chapters.impact.sections.twfe_bacon", "id")
    with pytest.raises(KeyError) as err:
        text_group("chapters.impact.sections.overall.colums", "en")
    assert err.value.args[0] == (
        "No group of report texts 'chapters.impact.sections.overall.colums' in the 'en' "
        "templates. Did you mean 'chapters.impact.sections.overall.columns'?"
    )


def test_glossary_in_both_languages():
    for lang in ("id", "en"):
        table = glossary(lang)
        assert table["term"].tolist()[: len(GLOSSARY_TERMS)] == list(GLOSSARY_TERMS)
        assert set(GLOSSARY_TERMS) == {
            "SKP",
            "JP",
            "OPD",
            "TPP",
            "IKM",
            "NIP",
            "ASN",
            "PNS",
            "PPPK",
        }
        assert table["definition"].str.len().min() > 20
    assert glossary("id").set_index("term").loc["JP", "definition"].startswith("Jam Pelajaran")
    # The method terms in each language's own words; the Indonesian definition names the
    # English term once, so that it need not appear anywhere else in the report.
    methods = glossary("id").set_index("term")
    assert methods.loc["Tren sejajar", "definition"].endswith("(Inggris: parallel trends).")
    assert methods.loc["Nilai p", "definition"].endswith("(Inggris: p-value).")
    assert "Event study" in glossary("en")["term"].tolist()


# --- results.json ------------------------------------------------------------------------


def test_results_round_trip_and_merge_chapters(tmp_path):
    ch3 = [_record(), _record(policy="digitalisation", outcome="ikm", unit="points")]
    ch4 = [
        _record(
            estimator="TWFE", estimate=0.1 + 0.2, ci_low=0.1, ci_high=0.5, std_error=float("nan")
        )
    ]
    save_results(tmp_path, ch3, chapter=3)
    save_results(tmp_path, ch4, chapter=4)
    loaded = load_results(tmp_path)
    assert [(r.chapter, r.policy, r.estimator) for r in loaded] == [
        ("3", "digitalisation", "Callaway-Sant'Anna"),
        ("3", "training_programme", "Callaway-Sant'Anna"),
        ("4", "training_programme", "TWFE"),
    ]
    assert loaded[1] == ch3[0].__class__(**{**ch3[0].__dict__, "chapter": "3"})
    raw = json.loads((tmp_path / "results.json").read_text())
    twfe = raw["records"][2]
    assert twfe["estimate"] == 0.3  # 0.30000000000000004 rounded
    assert twfe["std_error"] is None  # NaN is not JSON
    assert twfe["verdict"] == "improved"
    # saving chapter 3 again replaces chapter 3 and keeps chapter 4
    save_results(tmp_path, ch3[:1], chapter=3)
    assert [(r.chapter, r.policy) for r in load_results(tmp_path)] == [
        ("3", "training_programme"),
        ("4", "training_programme"),
    ]
    frame = results_frame(load_results(tmp_path))
    assert list(frame.columns[:3]) == ["policy", "outcome", "estimator"]


def test_results_file_is_deterministic(tmp_path):
    records = [_record(outcome=f"o{i}", estimate=0.06 + i / 3, ci_high=10.0) for i in range(5)]
    save_results(tmp_path / "a", records, chapter="3")
    save_results(tmp_path / "b", list(reversed(records)), chapter="3")
    a = (tmp_path / "a" / "results.json").read_bytes()
    assert a == (tmp_path / "b" / "results.json").read_bytes()
    assert b'"estimate": 0.393333' in a  # six significant digits


def test_duplicate_results_message(tmp_path):
    with pytest.raises(ValueError) as err:
        save_results(tmp_path, [_record(), _record()], chapter=3)
    assert str(err.value) == (
        "Chapter 3 saves two results for policy 'training_programme', outcome "
        "'skp_good_share' and estimator \"Callaway-Sant'Anna\"; give them distinct outcome "
        "or estimator names."
    )


def test_record_from_estimate_table():
    table = EstimateTable(
        params=pd.Series([2.0, 0.5], index=pd.Index(["ATT", "pre"], name="term")),
        std_errors=pd.Series([0.5, 0.5], index=pd.Index(["ATT", "pre"], name="term")),
        method="Callaway-Sant'Anna",
        outcome="ikm",
    )
    record = ResultRecord.from_estimate_table(table, policy="digitalisation", n_agencies=60)
    assert record.estimate == 2.0
    assert record.ci_low == pytest.approx(2.0 - 1.959964 * 0.5, abs=1e-6)
    assert record.p_value == pytest.approx(6.334e-5, rel=1e-3)  # 2 * (1 - Phi(4))
    assert record.verdict == "improved"


def test_estimator_names_are_written_in_the_report_language():
    its = _record(estimator="Interrupted time series", n_agencies=1, unit="days")
    assert estimator_label("Interrupted time series", "id", title=True) == "Deret waktu terputus"
    assert estimator_label("Interrupted time series", "en", title=True) == (
        "Interrupted time series"
    )
    assert "Diestimasi dengan deret waktu terputus pada 1 perangkat daerah" in effect_sentence(
        its, "id"
    )
    assert "Estimated with Callaway-Sant'Anna on 80 agencies" in effect_sentence(_record(), "en")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_table_of_the_data_contract_has_its_name_in_each_language(lang):
    """Table 1.6 and the CLI's quality table name every contract table in the reader's words,
    never by its key (a new optional table once read 'comparison services')."""
    from asn_eval.data.contract import CONTRACT

    missing = [name for name in CONTRACT if f"table.{name}" not in templates(lang)]
    assert missing == []
