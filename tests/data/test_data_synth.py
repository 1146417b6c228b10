"""The synthetic city: reproducible bytes, a truth file that matches the data, known effects."""

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from asn_eval.cli.data import add_synth_arguments, run_synth
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import generate_city, write_dataset
from asn_eval.data.export import rounded_truth
from asn_eval.data.synth import DEFAULT_EFFECTS, SCORE_NOISE_SD, resolve_effects

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"


@pytest.fixture(scope="module")
def city():
    return generate_city()  # the committed dataset's generator, seed 2025


def test_same_seed_gives_byte_identical_files_and_matches_committed_data(tmp_path):
    out = write_dataset(tmp_path / "again")
    files = sorted(p.name for p in DEFAULT.iterdir())
    assert files == sorted(p.name for p in out.iterdir())
    assert len(files) == 13  # nine tables, comparison_services, metadata, truth.json, README
    for name in files:
        assert (out / name).read_bytes() == (DEFAULT / name).read_bytes(), name
    other = write_dataset(tmp_path / "other", n_employees=200, seed=1)
    again = write_dataset(tmp_path / "other2", n_employees=200, seed=1)
    third = write_dataset(tmp_path / "other3", n_employees=200, seed=2)
    assert (other / "training.csv").read_bytes() == (again / "training.csv").read_bytes()
    assert (other / "training.csv").read_bytes() != (third / "training.csv").read_bytes()


def test_metadata_marks_the_dataset_synthetic():
    meta = __import__("yaml").safe_load((DEFAULT / "metadata.yaml").read_text())
    assert meta["synthetic"] is True
    assert meta["notice"] == "synthetic data: illustrative only"
    assert meta["years"] == [2019, 2025]
    # The cover names an issuing office: one no reader can take for a real one.
    assert "contoh, data sintetis" in meta["issuer"]["office"]
    assert meta["issuer"]["contact"].endswith("@example.invalid")


def test_truth_file_is_the_generators_truth(city):
    truth = json.loads((DEFAULT / "truth.json").read_text())
    truth.pop("dirty_rows")
    assert truth == json.loads(json.dumps(rounded_truth(city.truth)))
    # 12 significant digits: the same on every CPU, and the generator's values to 1e-12
    effects = [row["effect"] for row in city.truth["services"]]
    stored = [row["effect"] for row in truth["services"]]
    assert stored == pytest.approx(effects, rel=1e-11) and stored != effects


def _policy_exposure(city, policy):
    perf = city.tables["performance"]
    start = city.tables["policies"].set_index("agency_code")[policy].dt.year
    cohort = perf["agency_code"].map(start)
    return perf.assign(cohort=cohort, exposure=perf["year"] - cohort)


def test_truth_counts_and_formula_match_the_data(city):
    att = pd.DataFrame(city.truth["att"])
    for policy in ("performance_appraisal", "reward_punishment", "training_programme"):
        perf = _policy_exposure(city, policy)
        treated = perf[perf["exposure"] >= 0]
        counts = treated.groupby(["cohort", "exposure"]).size()
        rows = att.query("policy == @policy and outcome == 'skp_latent'").set_index(
            ["cohort", "exposure"]
        )["rows"]
        assert counts.astype(int).sort_index().equals(rows.sort_index()), policy
    # Documented formula: (level + growth * e) * (1 + spread * (2024 - g) / 4).
    pa = att.query("policy == 'performance_appraisal' and outcome == 'skp_latent'")
    expected = (1.5 + 0.75 * pa["exposure"]) * (1 + 0.5 * (2024 - pa["cohort"]) / 4)
    np.testing.assert_allclose(pa["effect"], expected, atol=1e-6)
    # Effects grow with exposure and early cohorts gain more, so naive TWFE is biased.
    assert pa.query("cohort == 2020")["effect"].is_monotonic_increasing
    assert (att.query("outcome == 'jp' and exposure == 0")["effect"] > 5).all()


def _did_pre2022(city, policy, cohort, year):
    """Employee first differences (year vs 2019), cohort agencies vs never-adopting ones."""
    perf = _policy_exposure(city, policy).dropna(subset=["skp_score"])
    wide = perf.pivot_table(index=["nip", "agency_code"], columns="year", values="skp_score")
    wide = wide.dropna(subset=[2019, year]).reset_index()
    start = city.tables["policies"].set_index("agency_code")[policy].dt.year
    wide["cohort"] = wide["agency_code"].map(start).fillna(0)
    change = wide[year] - wide[2019]
    return change[wide["cohort"] == cohort].mean() - change[wide["cohort"] == 0].mean()


def test_a_known_effect_is_recovered_and_zero_effects_give_zero():
    effects = {"zero": True, "performance_appraisal.level": 3.0,
               "performance_appraisal.growth": 1.0}  # fmt: skip
    treated = generate_city(n_employees=20_000, effects=effects, seed=3)
    truth = pd.DataFrame(treated.truth["att"]).query(
        "policy == 'performance_appraisal' and outcome == 'skp_latent' and cohort == 2020"
    )
    assert truth.set_index("exposure")["effect"][1] == pytest.approx(4.0)
    assert _did_pre2022(treated, "performance_appraisal", 2020, 2021) == pytest.approx(4.0, abs=0.6)
    placebo = generate_city(n_employees=20_000, effects=0, seed=3)
    assert all(row["effect"] == 0 for row in placebo.truth["att"])
    assert _did_pre2022(placebo, "performance_appraisal", 2020, 2021) == pytest.approx(0, abs=0.6)


def test_unbalanced_panel_with_hires_exits_and_transfers(city):
    emp, perf = city.tables["employees"], city.tables["performance"]
    assert emp["service_end"].notna().mean() > 0.05  # retirements and other exits
    assert (emp["service_start"] > "2019-01-01").mean() > 0.05  # hires in the window
    moved = perf.groupby("nip")["agency_code"].nunique()
    assert (moved > 1).mean() > 0.03  # transfers
    assert perf.groupby("nip").size().nunique() > 1
    assert 35 <= len(city.tables["agencies"]) <= 45


def test_challenges_and_services_in_the_truth_and_the_data(city):
    t = city.truth
    share = t["budget"]["share_meeting_20_jp_by_budget_tercile"]
    assert share["low"] < share["mid"] < share["high"]
    by_age = list(t["digitalisation_by_age"]["effect_in_first_year_of_use_by_age"].values())
    assert by_age == sorted(by_age, reverse=True)  # older staff gain less
    # Dukcapil KTP-el: the year the training programme starts vs the year before.
    services = city.tables["services"].query("service == 'ktp_el'")
    duk = services["agency_code"].iloc[0]
    start = city.tables["policies"].set_index("agency_code").loc[duk, "training_programme"].year
    log_time = np.log(services["median_time"]).groupby(services["month"].dt.year).mean()
    truth = next(r for r in t["services"] if r["service"] == "ktp_el"
                 and r["policy"] == "training_programme" and r["exposure"] == 0)  # fmt: skip
    assert truth["log_ratio"] == pytest.approx(DEFAULT_EFFECTS["dukcapil.training"])
    change = log_time[start] - log_time[start - 1] - 0.01  # minus the 1%/year trend
    assert change == pytest.approx(truth["log_ratio"], abs=0.05)
    # IKM 'waktu' (u3) tracks the agency's on-time share across semesters.
    sat = city.tables["satisfaction"]
    waktu = sat.groupby(["agency_code", "period"])["u3"].mean()
    sv = city.tables["services"]
    on_time = sv.groupby(
        [sv["agency_code"], sv["month"].dt.year.astype(str)
         + np.where(sv["month"].dt.month <= 6, "-S1", "-S2")]
    )["share_within_standard"].mean()  # fmt: skip
    joined = pd.concat([waktu, on_time], axis=1, join="inner")
    assert joined.corr().iloc[0, 1] > 0.3


def test_effects_from_yaml_and_command_line(tmp_path):
    path = tmp_path / "effects.yaml"
    path.write_text("zero: true\nhealth.appraisal: -0.2\n")
    effects = resolve_effects(path)
    assert effects["health.appraisal"] == -0.2 and effects["training.return"] == 0
    with pytest.raises(ValueError, match="unknown effect names"):
        resolve_effects({"training.retrun": 1})
    parser = add_synth_arguments(argparse.ArgumentParser())
    argv = ["--out", str(tmp_path / "z"), "--employees", "100", "--no-effects",
            "--effect", "performance_appraisal.level=2", "--no-dirty"]  # fmt: skip
    args = parser.parse_args(argv)
    assert run_synth(args) == 0
    truth = json.loads((tmp_path / "z" / "truth.json").read_text())
    assert truth["effects"]["performance_appraisal.level"] == 2
    assert truth["effects"]["reward_punishment.absence"] == 0
    assert "dirty_rows" not in truth


def test_nips_stay_unique_across_chunks():
    from asn_eval.data.synth import iter_city

    stream = iter_city(n_employees=6000, chunk_employees=1000, seed=5)
    nips = pd.concat([part["employees"]["nip"] for kind, part in stream if kind == "chunk"])
    assert len(nips) == 6000 and nips.is_unique
    assert nips.str.fullmatch(r"\d{18}").all()


def test_subgroup_truth_is_the_chapter_4_estimand_computed_from_the_tables():
    """``att_by_subgroup`` on the latent scale, recomputed from the exported tables with the
    documented formula: each employee present in every year keeps the digitalisation cohort
    of the agency of his or her first year; after personal first use in an agency that has
    started, the effect is level * max(0, 1 - resistance * (age - 30) / 30) + growth * years
    since first use (ages up to 30 keep it all)."""
    from asn_eval.domain.subgroups import EDUCATION_GROUPS
    from asn_eval.estimators.adoption import age_band

    city = generate_city(n_employees=600, seed=7)
    t = city.tables
    eff = DEFAULT_EFFECTS
    start = t["policies"].set_index("agency_code")["digitalisation"].dt.year.fillna(0)
    perf = t["performance"][["nip", "year", "agency_code"]].sort_values(["nip", "year"])
    n_years = perf["year"].nunique()
    perf = perf[perf.groupby("nip")["year"].transform("size") == n_years].copy()
    perf["cohort"] = perf["nip"].map(perf.groupby("nip")["agency_code"].first().map(start))
    emp = t["employees"].set_index("nip")
    first_use = t["digital_adoption"].set_index("nip")["first_use"].dt.year
    age = perf["year"] - perf["nip"].map(emp["birth_date"].dt.year)
    fu = perf["nip"].map(first_use)
    using = (perf["agency_code"].map(start).between(1, perf["year"])) & (fu <= perf["year"])
    share = np.clip(1 - eff["digitalisation.resistance"] * np.clip(age - 30, 0, None) / 30, 0, 1)
    since = perf["year"] - fu
    effect = eff["digitalisation.level"] * share + eff["digitalisation.growth"] * since
    perf["effect"] = np.where(using, effect, 0.0)
    post = perf[(perf["cohort"] > 0) & (perf["year"] >= perf["cohort"])].copy()
    post["exposure"] = post["year"] - post["cohort"]
    groups = {
        "age_band_start": age_band(emp["birth_date"], at=pd.Timestamp("2019-01-01")).astype(str),
        "education_group": emp["education"].astype(str).map(EDUCATION_GROUPS),
        "position_type": emp["position_type"].astype(str),
    }
    truth = pd.DataFrame(city.truth["att_by_subgroup"])
    assert set(truth["policy"]) == {"digitalisation"}
    for variable, value in groups.items():
        direct = post.assign(value=post["nip"].map(value)).groupby(
            ["value", "cohort", "exposure"]
        )["effect"].agg(["mean", "size"])
        recorded = truth.query(
            "outcome == 'skp_latent' and subgroup_variable == @variable"
        ).set_index(["subgroup_value", "cohort", "exposure"])
        recorded.index.names = ["value", "cohort", "exposure"]
        assert direct.index.sort_values().equals(recorded.index.sort_values()), variable
        recorded = recorded.loc[direct.index]
        np.testing.assert_array_equal(recorded["rows"], direct["size"])
        np.testing.assert_allclose(recorded["effect"], direct["mean"], atol=1e-6)


def test_subgroup_truths_partition_one_population_on_the_share_scale(city):
    """Each subgroup variable splits the same employee-years: per cohort and exposure the
    rows and the row-weighted share-scale effect agree across the three variables; a share
    effect lies between 0 and the latent effect times the normal density's peak / noise SD."""
    from scipy import stats

    cells = pd.DataFrame(city.truth["att_by_subgroup"])
    good = cells[cells["outcome"] == "skp_good"].assign(
        total=lambda d: d["effect"] * d["rows"]
    )
    sums = good.groupby(["subgroup_variable", "cohort", "exposure"])[["rows", "total"]].sum()
    wide = sums.unstack("subgroup_variable")
    for column in ("rows", "total"):
        block = wide[column].to_numpy()
        np.testing.assert_allclose(block, block[:, [0]].repeat(block.shape[1], 1), atol=0.01)
    latent = cells[cells["outcome"] == "skp_latent"].set_index(
        ["subgroup_variable", "subgroup_value", "cohort", "exposure"]
    )["effect"]
    share = good.set_index(latent.index.names)["effect"].loc[latent.index]
    peak = stats.norm.pdf(0) / SCORE_NOISE_SD
    assert (share >= 0).all() and (share <= latent * peak + 1e-6).all()
