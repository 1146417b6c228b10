"""Tests for asn_eval.indices: every matrix cell, every band edge, hand-worked IKM, bad input."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from asn_eval import indices as ix
from asn_eval.domain import regulations as reg

# --- SKP (PermenPANRB 6/2022) ----------------------------------------------------------

# The matrix as printed in shared/DOMAIN.md (rows hasil kerja, columns perilaku), typed here
# independently of regulations.SKP_MATRIX so that a wrong constant fails.
DOMAIN_MATRIX = {
    "di atas": {
        "di bawah": "Kurang/Misconduct",
        "sesuai": "Baik",
        "di atas": "Sangat Baik",
    },
    "sesuai": {"di bawah": "Kurang/Misconduct", "sesuai": "Baik", "di atas": "Baik"},
    "di bawah": {
        "di bawah": "Sangat Kurang",
        "sesuai": "Butuh Perbaikan",
        "di atas": "Butuh Perbaikan",
    },
}
CELLS = [(hk, pr, pred) for hk, row in DOMAIN_MATRIX.items() for pr, pred in row.items()]


@pytest.mark.parametrize(("hasil_kerja", "perilaku", "expected"), CELLS)
def test_every_cell_of_the_skp_matrix(hasil_kerja, perilaku, expected):
    assert ix.skp_predicate(hasil_kerja, perilaku) == expected
    # Any case, surrounding spaces and the word "ekspektasi" are accepted.
    assert ix.skp_predicate(f"  {hasil_kerja.upper()} Ekspektasi ", perilaku.title()) == expected


def test_skp_predicate_is_vectorised_and_keeps_the_index():
    hk = pd.Series([hk for hk, _, _ in CELLS], index=range(10, 19))
    pr = pd.Series([pr for _, pr, _ in CELLS], index=range(10, 19))
    out = ix.skp_predicate(hk, pr)
    assert list(out.index) == list(range(10, 19))
    assert out.astype(str).tolist() == [pred for _, _, pred in CELLS]
    assert out.dtype == ix.SKP_PREDICATE_DTYPE


def test_skp_predicates_sort_and_compare_best_last():
    out = ix.skp_predicate(pd.Series(["di bawah", "di atas", "sesuai"]), "di atas")
    assert out.max() == "Sangat Baik"
    assert out.sort_values().astype(str).tolist() == ["Butuh Perbaikan", "Baik", "Sangat Baik"]
    assert (out > "Baik").tolist() == [False, True, False]
    ordered = list(ix.SKP_PREDICATE_DTYPE.categories)
    assert ordered == [
        "Sangat Kurang",
        "Kurang/Misconduct",
        "Butuh Perbaikan",
        "Baik",
        "Sangat Baik",
    ]


def test_skp_predicate_broadcasts_a_scalar_and_keeps_missing():
    out = ix.skp_predicate(pd.Series(["diatas", None]), "sesuai")
    assert out.iloc[0] == "Baik"
    assert pd.isna(out.iloc[1])
    assert np.isnan(ix.skp_predicate(None, "sesuai"))


def test_unknown_skp_rating_names_value_and_row():
    with pytest.raises(ValueError) as err:
        ix.skp_predicate(pd.Series(["sesuai", "di atas", "tinggi"]), "sesuai")
    assert str(err.value) == (
        "hasil_kerja has unknown rating 'tinggi' in row 2; expected one of 'di atas', "
        "'sesuai', 'di bawah' (optionally followed by 'ekspektasi', any case)"
    )
    with pytest.raises(ValueError, match=r"^perilaku has unknown rating 'baik';"):
        ix.skp_predicate("sesuai", "baik")


def test_skp_inputs_of_different_length_are_refused():
    with pytest.raises(ValueError, match="hasil_kerja has 2 ratings but perilaku has 3"):
        ix.skp_predicate(["sesuai", "sesuai"], ["sesuai"] * 3)


# --- PP 46/2011 bands -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, "Buruk"),
        (50, "Buruk"),
        (51, "Kurang"),
        (60, "Kurang"),
        (61, "Cukup"),
        (75, "Cukup"),
        (76, "Baik"),
        (90, "Baik"),
        (90.5, "Baik"),  # between printed bands: the lower one
        (91, "Sangat Baik"),
        (100, "Sangat Baik"),
    ],
)
def test_pp46_band_edges_on_both_sides(score, expected):
    assert ix.skp_band(score) == expected


def test_pp46_bands_are_ordered_and_vectorised():
    out = ix.skp_band(pd.Series([95.0, 40.0, np.nan, 80.0]))
    assert out.dtype == ix.PP46_PREDICATE_DTYPE
    assert out.dropna().sort_values().astype(str).tolist() == ["Buruk", "Baik", "Sangat Baik"]
    assert (out >= "Baik").tolist() == [True, False, False, True]
    assert pd.isna(out.iloc[2])


@pytest.mark.parametrize("bad", [101, -1])
def test_pp46_score_outside_0_100_is_an_error(bad):
    with pytest.raises(ValueError) as err:
        ix.skp_band(pd.Series([80, bad]))
    assert str(err.value) == (
        f"score has {bad} in row 1; PP 46/2011 scores must be numbers from 0 to 100"
    )


# --- IKM grade edges ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (25.00, "D"),
        (64.99, "D"),
        (65.00, "C"),
        (76.60, "C"),
        (76.61, "B"),
        (88.30, "B"),
        (88.31, "A"),
        (100.0, "A"),
        # The regulation prints two decimals: values in the printed gap round half up.
        (76.6049, "C"),
        (76.605, "B"),
        (88.305, "A"),
        (24.75, "D"),  # minimum with the rounded 0.11 weights
    ],
)
def test_ikm_grade_edges_on_both_sides(value, grade):
    assert ix.ikm_grade(value) == grade


def test_ikm_grade_labels_follow_the_regulation():
    assert dict(ix.IKM_GRADE_LABELS) == {
        "A": "Sangat Baik",
        "B": "Baik",
        "C": "Kurang Baik",
        "D": "Tidak Baik",
    }


# --- IKM (PermenPANRB 14/2017) on a worked example -----------------------------------

# Four respondents, elements u1..u9 (u8 = sarana dan prasarana).
WORKED = pd.DataFrame(
    [
        [3, 4, 3, 3, 4, 4, 4, 2, 3],
        [3, 3, 3, 4, 4, 2, 4, 2, 3],
        [4, 3, 2, 3, 3, 4, 4, 3, 4],
        [3, 2, 2, 4, 3, 3, 3, 1, 2],
    ],
    columns=[f"u{i}" for i in range(1, 10)],
)
# NRR by hand: u1 13/4 = 3.25; u2 12/4 = 3.00; u3 10/4 = 2.50; u4 14/4 = 3.50;
# u5 14/4 = 3.50; u6 13/4 = 3.25; u7 15/4 = 3.75; u8 8/4 = 2.00; u9 12/4 = 3.00.
WORKED_NRR = [3.25, 3.00, 2.50, 3.50, 3.50, 3.25, 3.75, 2.00, 3.00]
# Sum of NRR = 27.75.
# Exact weights:   IKM = 27.75 x (1/9) x 25 = 77.0833... -> B (Baik)
# Rounded weights: IKM = 27.75 x 0.11 x 25 = 76.3125     -> C (Kurang Baik)


def test_ikm_worked_example_exact_weights():
    result = ix.ikm(WORKED, n_boot=0)
    row = result.to_frame().iloc[0]
    assert [row[f"nrr_u{i}"] for i in range(1, 10)] == WORKED_NRR
    assert row["ikm"] == pytest.approx(27.75 / 9 * 25)
    assert round(row["ikm"], 2) == 77.08
    assert (row["grade"], row["label"], row["respondents"]) == ("B", "Baik", 4)


def test_ikm_rounded_weights_option_changes_the_grade_here():
    row = ix.ikm(WORKED, weights="rounded", n_boot=0).to_frame().iloc[0]
    assert row["ikm"] == pytest.approx(27.75 * 0.11 * 25)
    assert row["ikm"] == pytest.approx(76.3125)
    assert (row["grade"], row["label"]) == ("C", "Kurang Baik")


def test_ikm_statement_names_the_weakest_element():
    text = ix.ikm(WORKED, n_boot=0).statement()
    assert text == (
        "IKM is 77.08, grade B (Baik), from 4 respondents; weakest element: sarana dan prasarana."
    )


def test_ikm_one_row_per_group_with_the_documented_columns():
    data = pd.concat(
        [
            WORKED.assign(agency_code="DUKCAPIL", period="2024-S1"),
            WORKED.assign(agency_code="DINKES", period="2024-S1"),
            WORKED.iloc[:2].assign(agency_code="DUKCAPIL", period="2024-S2"),
        ],
        ignore_index=True,
    )
    frame = ix.ikm(data, group_by=["agency_code", "period"], n_boot=0).to_frame()
    assert len(frame) == 3
    needed = ["ikm", "grade", "label", "respondents", *[f"nrr_u{i}" for i in range(1, 10)]]
    assert set(needed) <= set(frame.columns)
    assert frame[["agency_code", "period"]].values.tolist() == [
        ["DINKES", "2024-S1"],
        ["DUKCAPIL", "2024-S1"],
        ["DUKCAPIL", "2024-S2"],
    ]
    # The first two respondents alone: sums of their rows, by hand.
    two = (np.array([6, 7, 6, 7, 8, 6, 8, 4, 6]) / 2).sum() / 9 * 25
    assert frame["ikm"].iloc[2] == pytest.approx(two)


def test_unanswered_elements_drop_out_of_that_nrr_only():
    data = WORKED.astype(float)
    data.loc[3, "u8"] = np.nan
    row = ix.ikm(data, n_boot=0).to_frame().iloc[0]
    assert row["nrr_u8"] == pytest.approx(7 / 3)
    assert row["nrr_u1"] == 3.25
    assert row["respondents"] == 4


def test_ikm_bootstrap_is_reproducible_with_a_seed():
    a = ix.ikm(WORKED, seed=7, n_boot=500).to_frame()
    b = ix.ikm(WORKED, seed=7, n_boot=500).to_frame()
    c = ix.ikm(WORKED, seed=8, n_boot=500).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert (a["ci_low"].iloc[0], a["ci_high"].iloc[0]) != (
        c["ci_low"].iloc[0],
        c["ci_high"].iloc[0],
    )
    assert a["ci_low"].iloc[0] <= a["ikm"].iloc[0] <= a["ci_high"].iloc[0]


def test_ikm_bootstrap_interval_covers_the_true_index():
    # Each element scores 1-4 with these probabilities, so the true NRR is 3.0 for every
    # element and the true IKM is 3.0 x 25 = 75.
    probs = [0.05, 0.2, 0.45, 0.3]
    assert np.dot([1, 2, 3, 4], probs) == pytest.approx(3.0)
    rng = np.random.default_rng(2024)
    covered, surveys = 0, 200
    for _ in range(surveys):
        data = pd.DataFrame(
            rng.choice([1, 2, 3, 4], p=probs, size=(120, 9)),
            columns=[f"u{i}" for i in range(1, 10)],
        )
        row = ix.ikm(data, n_boot=400, seed=int(rng.integers(1_000_000))).to_frame().iloc[0]
        covered += row["ci_low"] <= 75 <= row["ci_high"]
    # Nominal 95%; with 200 surveys a rate outside 0.90-0.99 would signal a bug.
    assert 0.90 <= covered / surveys <= 0.99


def test_small_sample_warning_against_krejcie_morgan():
    data = pd.concat([WORKED] * 25, ignore_index=True)  # 100 respondents
    with pytest.warns(ix.SmallSampleWarning) as caught:
        result = ix.ikm(data, population=300, n_boot=0)
    message = (
        "IKM rests on 100 respondents; the Krejcie-Morgan sample for a population of 300 is 169"
    )
    assert str(caught[0].message) == message
    assert result.warnings == (message,)
    assert result.to_frame()["required_sample"].iloc[0] == 169
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ix.ikm(data, population=120, n_boot=0)  # needs 92: no warning


def test_population_per_group_must_cover_every_group():
    data = pd.concat([WORKED.assign(agency_code="A"), WORKED.assign(agency_code="B")])
    data = data.reset_index(drop=True)
    with pytest.raises(ValueError) as err:
        ix.ikm(data, group_by="agency_code", population={"A": 4}, n_boot=0)
    assert str(err.value).startswith("population has no entry for group 'B' (agency_code)")


@pytest.mark.parametrize(
    ("population", "sample"),
    [(5, 5), (10, 10), (50, 44), (300, 169), (301, 175), (2000, 322), (2_000_000, 384)],
)
def test_krejcie_morgan_lookup(population, sample):
    assert ix.krejcie_morgan(population) == sample


def test_krejcie_morgan_table_agrees_with_its_formula():
    # Krejcie & Morgan (1970): s = X2 N P(1-P) / (d2 (N-1) + X2 P(1-P)), X2 = 3.841,
    # P = 0.5, d = 0.05; the printed table rounds this to a whole respondent.
    for n, s in reg.KREJCIE_MORGAN:
        exact = 3.841 * n * 0.25 / (0.05**2 * (n - 1) + 3.841 * 0.25)
        assert abs(exact - s) < 1, (n, s, exact)


def test_ikm_score_outside_1_4_names_value_column_and_row():
    data = pd.concat([WORKED] * 4, ignore_index=True)
    data.loc[12, "u3"] = 5
    with pytest.raises(ValueError) as err:
        ix.ikm(data)
    assert str(err.value) == "u3 has score 5 in row 12; IKM scores must be whole numbers 1-4"


@pytest.mark.parametrize(("bad", "shown"), [(0, "0"), (2.5, "2.5"), ("baik", "'baik'")])
def test_ikm_other_bad_scores(bad, shown):
    data = WORKED.astype(object)
    data.loc[1, "u9"] = bad
    with pytest.raises(ValueError) as err:
        ix.ikm(data)
    assert str(err.value) == f"u9 has score {shown} in row 1; IKM scores must be whole numbers 1-4"


def test_ikm_missing_column_and_bad_weights():
    with pytest.raises(ValueError) as err:
        ix.ikm(WORKED.drop(columns=["u4", "u9"]))
    assert str(err.value).startswith("responses has no column u4, u9; IKM needs one column")
    with pytest.raises(ValueError, match=re.escape("weights has 'round'; use 'exact'")):
        ix.ikm(WORKED, weights="round")


def test_ikm_result_renders_as_html():
    html = ix.ikm(WORKED, n_boot=0)._repr_html_()
    assert "IKM (PermenPANRB 14/2017)" in html and "77.08" in html


# --- IP ASN (Peraturan BKN 8/2019) ----------------------------------------------------


def _ip_row(**changes):
    row = {
        "education": "S2",
        "leadership_training": True,
        "functional_training": False,
        "training_jp": 24.0,
        "seminar": True,
        "performance": "Baik",
        "discipline": "none",
    }
    row.update(changes)
    return row


def test_ip_asn_by_hand():
    data = pd.DataFrame(
        [
            # 20 (S2) + min(40, 15 + 15 + 10) + 25 (Baik) + 5 (never sanctioned) = 90
            _ip_row(),
            # 15 (S1) + 15 (functional; 10 JP < 20) + 15 (Butuh Perbaikan) + 3 (ringan) = 48
            _ip_row(
                education="S1",
                leadership_training=False,
                functional_training=True,
                training_jp=10.0,
                seminar=False,
                performance="Butuh Perbaikan",
                discipline="ringan",
            ),
            # Everything at once is capped at the kompetensi weight: 25 + 40 + 30 + 5 = 100
            _ip_row(education="S3", functional_training=True, performance="Sangat Baik"),
        ]
    )
    scores = ix.ip_asn(data).scores
    assert scores["ip_asn"].tolist() == [90.0, 48.0, 100.0]
    assert scores["kompetensi"].tolist() == [40.0, 15.0, 40.0]
    assert scores["level"].astype(str).tolist() == ["Tinggi", "Sangat Rendah", "Sangat Tinggi"]
    dims = scores[["kualifikasi", "kompetensi", "kinerja", "disiplin"]].sum(axis=1)
    assert (dims == scores["ip_asn"]).all()


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (60, "Sangat Rendah"),
        (61, "Rendah"),
        (70, "Rendah"),
        (71, "Sedang"),
        (80, "Sedang"),
        (81, "Tinggi"),
        (90, "Tinggi"),
        (91, "Sangat Tinggi"),
        (100, "Sangat Tinggi"),
    ],
)
def test_ip_asn_band_edges_on_both_sides(score, level):
    assert ix.ip_asn_level(score) == level


def test_ip_asn_points_mark_what_is_unconfirmed():
    points = ix.ip_asn_points()
    confirmed = points.loc[points["confirmed"], ["indicator", "value", "points"]]
    assert confirmed.values.tolist() == [
        ["education", "S3", 25],
        ["education", "S2", 20],
        ["discipline", "none", 5],
    ]
    # The largest points of each dimension equal its weight (25/40/30/5 with kompetensi
    # items capped), so a perfect employee scores 100.
    top = points.groupby("dimension")["points"].max()
    assert top["kualifikasi"] == reg.IP_ASN_WEIGHTS["kualifikasi"]
    assert top["kinerja"] == reg.IP_ASN_WEIGHTS["kinerja"]
    assert top["disiplin"] == reg.IP_ASN_WEIGHTS["disiplin"]
    assert sum(reg.IP_ASN_WEIGHTS.values()) == 100


def test_a_user_can_correct_an_unconfirmed_point():
    points = ix.ip_asn_points()
    points.loc[points["value"] == "ringan", "points"] = 4
    points.loc[points["value"] == "ringan", "confirmed"] = True
    data = pd.DataFrame([_ip_row(discipline="ringan")])
    assert ix.ip_asn(data).scores["ip_asn"].iloc[0] == 88.0
    assert ix.ip_asn(data, points=points).scores["ip_asn"].iloc[0] == 89.0


def test_points_above_a_dimension_weight_are_refused():
    points = ix.ip_asn_points()
    points.loc[points["value"] == "S3", "points"] = 30
    with pytest.raises(ValueError) as err:
        ix.ip_asn(pd.DataFrame([_ip_row()]), points=points)
    assert str(err.value) == (
        "points gives 30 in dimension kualifikasi, above its weight 25 (Peraturan BKN 8/2019)"
    )


def test_ip_asn_unknown_value_and_missing_input():
    with pytest.raises(ValueError) as err:
        ix.ip_asn(pd.DataFrame([_ip_row(), _ip_row(education="S4")]))
    assert str(err.value).startswith("education has unknown value 'S4' in row 1; expected one of")
    scores = ix.ip_asn(pd.DataFrame([_ip_row(performance=None)])).scores
    assert pd.isna(scores["ip_asn"].iloc[0])


def test_ip_asn_distribution_shares_add_to_one():
    data = pd.DataFrame([_ip_row(), _ip_row(education="S1"), _ip_row(discipline="berat")])
    dist = ix.ip_asn(data).distribution()
    assert dist["employees"].sum() == 3
    assert dist["share"].sum() == pytest.approx(1.0)
    assert "unconfirmed" in ix.ip_asn(data).statement()


def test_ip_asn_inputs_from_canonical_tables():
    employees = pd.DataFrame(
        {
            "employee_id": ["e1", "e2", "e3"],
            "agency_code": ["A", "A", "B"],
            "education": ["S2", "S1", "SMA"],
            "service_start": pd.to_datetime(["2010-01-01", "2015-01-01", "2025-02-01"]),
            "service_end": pd.NaT,
        }
    )
    performance = pd.DataFrame(
        {
            "employee_id": ["e1", "e2"],
            "year": [2024, 2024],
            "agency_code": ["A", "B"],  # e2 moved to B in 2024
            "skp_predicate": ["Sangat Baik", None],
            "skp_score": [np.nan, 80.0],
            "sanction_level": ["none", "sedang"],
        }
    )
    training = pd.DataFrame(
        {
            "employee_id": ["e1", "e1", "e1", "e2"],
            "date": pd.to_datetime(["2019-05-01", "2024-02-01", "2023-06-01", "2024-03-01"]),
            "jp": [90.0, 21.0, 8.0, 12.0],
            "type": ["kepemimpinan", "teknis", "workshop", "fungsional"],
            "route": ["klasikal", "e-learning", "klasikal", "klasikal"],
        }
    )
    inputs = ix.ip_asn_inputs(employees, performance, training, year=2024)
    assert inputs.index.tolist() == ["e1", "e2"]  # e3 starts in 2025
    assert inputs.loc["e2", "agency_code"] == "B"
    assert inputs["leadership_training"].tolist() == [True, False]
    assert inputs["functional_training"].tolist() == [False, True]
    assert inputs["training_jp"].tolist() == [21.0, 12.0]
    assert inputs["seminar"].tolist() == [True, False]  # the 2023 workshop counts
    assert inputs["performance"].tolist() == ["Sangat Baik", "Baik"]  # 80 -> Baik (PP 46)
    scores = ix.ip_asn(inputs, keep=["agency_code"]).scores
    # e1: 20 + (15 + 15 + 10) + 30 + 5 = 95; e2: 15 + 15 + 25 + 2 = 57
    assert scores["ip_asn"].tolist() == [95.0, 57.0]


# --- Training hours (20 JP minimum) ---------------------------------------------------


def _training_fixture():
    employees = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c", "d"],
            "agency_code": ["X", "X", "Y", "Y"],
            "service_start": pd.to_datetime(["2010-01-01"] * 3 + ["2000-01-01"]),
            "service_end": [pd.NaT, pd.NaT, pd.NaT, pd.Timestamp("2023-06-30")],
        }
    )
    training = pd.DataFrame(
        {
            "employee_id": ["a", "a", "b", "b", "a", "zz"],
            "date": pd.to_datetime(
                ["2024-03-01", "2024-09-01", "2024-05-05", "2024-11-11", "2023-12-31", "2024-01-02"]
            ),
            "jp": [12.0, 9.0, 15.0, 4.5, 40.0, 30.0],
            "type": ["teknis", "seminar", "fungsional", "workshop", "teknis", "teknis"],
            "route": [
                "klasikal",
                "e-learning",
                "klasikal",
                "nonklasikal lain",
                "klasikal",
                "klasikal",
            ],
        }
    )
    return employees, training


def test_training_hours_counts_untrained_staff_as_zero():
    employees, training = _training_fixture()
    result = ix.training_hours(training, year=2024, employees=employees)
    frame = result.to_frame().set_index("employee_id")
    # a: 12 + 9 = 21 JP (the 2023 course is another year); b: 15 + 4.5 = 19.5; c: none.
    # d left service in 2023 and is not counted; zz is not an employee.
    assert frame.index.tolist() == ["a", "b", "c"]
    assert frame["jp"].tolist() == [21.0, 19.5, 0.0]
    assert frame["meets_minimum"].tolist() == [True, False, False]
    assert result.share_meeting_minimum == pytest.approx(1 / 3)
    assert result.unmatched_courses == 1
    route_cols = ["jp_klasikal", "jp_e_learning", "jp_nonklasikal_lain"]
    type_cols = [f"jp_{t}" for t in ix.TRAINING_TYPES]
    # Identities: JP by route and JP by type both add up to the total.
    assert np.allclose(frame[route_cols].sum(axis=1), frame["jp"])
    assert np.allclose(frame[type_cols].sum(axis=1), frame["jp"])
    assert frame.loc["a", "jp_e_learning"] == 9.0
    by_agency = result.compliance(by="agency_code").set_index("agency_code")
    assert by_agency.loc["X", "share_meeting_minimum"] == 0.5
    assert by_agency.loc["Y", "employees"] == 1


def test_training_hours_without_employees_says_it_overstates():
    _, training = _training_fixture()
    result = ix.training_hours(training, year=2024)
    assert result.population == "trained only"
    assert result.to_frame()["employee_id"].tolist() == ["a", "b", "zz"]
    assert result.statement() == (
        "In 2024, 67% of 3 employees reached the minimum of 20 JP (mean 23.5 JP). "
        "Only employees with training are counted, so the share is overstated."
    )


def test_training_hours_bad_input():
    _, training = _training_fixture()
    bad = training.copy()
    bad.loc[2, "jp"] = -3.0
    with pytest.raises(ValueError) as err:
        ix.training_hours(bad, year=2024)
    assert str(err.value) == "jp has -3 in row 2; JP must be a non-negative number"
    bad = training.copy()
    bad.loc[1, "route"] = "daring"
    with pytest.raises(ValueError) as err:
        ix.training_hours(bad, year=2024)
    assert str(err.value) == (
        "route has unknown value 'daring' in row 1; expected one of 'klasikal', "
        "'e-learning', 'nonklasikal lain'"
    )


# --- Discipline (PP 94/2021) ----------------------------------------------------------

LADDER_EDGES = [
    (0, None, "none"),
    (2, None, "none"),
    (3, "teguran lisan", "ringan"),
    (4, "teguran tertulis", "ringan"),
    (6, "teguran tertulis", "ringan"),
    (7, "pernyataan tidak puas secara tertulis", "ringan"),
    (10, "pernyataan tidak puas secara tertulis", "ringan"),
    (11, "pemotongan tunjangan kinerja 25% selama 6 bulan", "sedang"),
    (13, "pemotongan tunjangan kinerja 25% selama 6 bulan", "sedang"),
    (14, "pemotongan tunjangan kinerja 25% selama 9 bulan", "sedang"),
    (16, "pemotongan tunjangan kinerja 25% selama 9 bulan", "sedang"),
    (17, "pemotongan tunjangan kinerja 25% selama 12 bulan", "sedang"),
    (20, "pemotongan tunjangan kinerja 25% selama 12 bulan", "sedang"),
    (21, "penurunan jabatan setingkat lebih rendah selama 12 bulan", "berat"),
    (24, "penurunan jabatan setingkat lebih rendah selama 12 bulan", "berat"),
    (25, "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan", "berat"),
    (27, "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan", "berat"),
    (28, "pemberhentian dengan hormat tidak atas permintaan sendiri", "berat"),
]


@pytest.mark.parametrize(("days", "sanction", "level"), LADDER_EDGES)
def test_discipline_ladder_edges(days, sanction, level):
    assert ix.discipline_sanction(days) == ix.Sanction(days, sanction, level)


def test_discipline_vectorised_with_ordered_levels_and_consecutive_days():
    out = ix.discipline_sanction(
        pd.Series([2, 12, 30, 5], index=list("wxyz")), consecutive_days=[0, 0, 0, 10]
    )
    assert out.index.tolist() == list("wxyz")
    assert out["level"].astype(str).tolist() == ["none", "sedang", "berat", "berat"]
    assert (out["level"] > "sedang").tolist() == [False, False, True, True]
    assert out.loc["z", "sanction"].startswith("pemberhentian")


@pytest.mark.parametrize(("bad", "shown"), [(-1, "-1"), (2.5, "2.5"), ("tiga", "'tiga'")])
def test_discipline_bad_days_name_value_and_row(bad, shown):
    with pytest.raises(ValueError) as err:
        ix.discipline_sanction(pd.Series([3, 4, bad], dtype=object))
    assert str(err.value) == (
        f"absence_days has {shown} in row 2; days of absence must be whole numbers of at least 0"
    )


def test_categorical_columns_give_the_same_results():
    # Loaded tables hold type, route and agency codes as categoricals.
    employees, training = _training_fixture()
    plain = ix.training_hours(training, year=2024, employees=employees).to_frame()
    typed = training.astype({"type": "category", "route": "category"})
    as_category = ix.training_hours(typed, year=2024, employees=employees).to_frame()
    pd.testing.assert_frame_equal(plain, as_category)
    data = WORKED.assign(agency_code=pd.Categorical(["A", "A", "B", "B"], ["A", "B", "C"]))
    frame = ix.ikm(data, group_by="agency_code", n_boot=0).to_frame()
    assert frame["agency_code"].tolist() == ["A", "B"]  # no row for the unused category


# --- the measures the panels and chapters use -------------------------------------------


def test_skp_good_reads_the_predicate_then_the_pp46_band():
    # PP 46/2011: Baik starts at 76 (shared/DOMAIN.md); the predicate wins when present.
    predicate = ["Sangat Baik", "Baik", "Butuh Perbaikan", None, None, None, "Baik"]
    score = [None, None, None, 76.0, 75.99, None, 40.0]
    assert ix.skp_good(predicate, score).tolist()[:5] == [1.0, 1.0, 0.0, 1.0, 0.0]
    good = ix.skp_good(predicate, score)
    assert np.isnan(good.iloc[5]) and good.iloc[6] == 1.0
    with pytest.raises(ValueError, match="skp_predicate has 7 values but score has 2"):
        ix.skp_good(predicate, [80.0, 90.0])


def test_sanctioned_counts_any_level_and_names_an_unknown_one():
    levels = pd.Series(["none", "ringan", "sedang", "berat", None])
    assert ix.sanctioned(levels).tolist() == [False, True, True, True, False]
    with pytest.raises(ValueError) as err:
        ix.sanctioned(pd.Series(["none", "keras"]))
    assert str(err.value) == (
        "sanction_level has 'keras' in row 1; expected one of 'none', 'ringan', 'sedang', 'berat'"
    )


def test_jp_minimum_is_reached_at_exactly_twenty_jp():
    # PP 11/2017 art. 203 as amended by PP 17/2020: at least 20 JP a year.
    assert reg.JP_MINIMUM_PER_YEAR == 20
    assert ix.meets_jp_minimum([19.99, 20.0, 20.01, np.nan]).tolist() == [
        False,
        True,
        True,
        False,
    ]


def test_jp_by_employee_year_sums_courses_by_calendar_year():
    training = pd.DataFrame(
        {
            "employee_id": ["a", "a", "a", "b"],
            "date": pd.to_datetime(["2023-12-31", "2024-01-01", "2024-06-30", "2024-02-02"]),
            "jp": [8.0, 12.0, 9.0, 4.0],
        }
    )
    out = ix.jp_by_employee_year(training)
    assert out.to_dict("list") == {
        "employee_id": ["a", "a", "b"],
        "year": [2023, 2024, 2024],
        "jp": [8.0, 21.0, 4.0],
    }
    assert ix.jp_by_employee_year(None).columns.tolist() == ["employee_id", "year", "jp"]


def test_ip_asn_inputs_count_the_contracts_seminar_workshop_type():
    # The data contract records seminars and workshops as one type, "seminar/workshop".
    employees = pd.DataFrame({"employee_id": ["e1"], "agency_code": ["A"], "education": ["S1"]})
    performance = pd.DataFrame(
        {
            "employee_id": ["e1"],
            "year": [2024],
            "skp_predicate": ["Baik"],
            "sanction_level": ["none"],
        }
    )
    training = pd.DataFrame(
        {
            "employee_id": ["e1"],
            "date": pd.to_datetime(["2024-05-01"]),
            "jp": [4.0],
            "type": ["seminar/workshop"],
            "route": ["klasikal"],
        }
    )
    inputs = ix.ip_asn_inputs(employees, performance, training, year=2024)
    assert inputs["seminar"].tolist() == [True]
    # S1 15 + seminar 10 + Baik 25 + never sanctioned 5
    assert ix.ip_asn(inputs).scores["ip_asn"].tolist() == [55.0]


def test_ip_asn_group_means_add_up_to_the_mean_index():
    rows = [
        _ip_row(),
        _ip_row(education="S3", performance="Sangat Baik"),
        _ip_row(education="SMA", discipline="berat", training_jp=0.0),
        _ip_row(performance=None),  # incomplete: left out
    ]
    data = pd.DataFrame(rows).assign(group=["x", "x", "y", "y"])
    result = ix.ip_asn(data, keep=["group"])
    means = result.means(by="group").set_index("group")
    assert means["employees"].tolist() == [2, 1]
    dims = means[["kualifikasi", "kompetensi", "kinerja", "disiplin"]].sum(axis=1)
    assert np.allclose(dims, means["ip_asn"])
    overall = result.means()
    assert overall["employees"].iloc[0] == 3
    assert overall["ip_asn"].iloc[0] == pytest.approx(result.scores["ip_asn"].mean())
    assert overall["level"].iloc[0] == ix.ip_asn_level(float(overall["ip_asn"].iloc[0]))


def test_the_reports_ikm_weights_are_named_in_regulations():
    # 1/9 is the regulation's definition; 0.11 its printed rounding (shared/DOMAIN.md).
    assert reg.IKM_REPORT_WEIGHTS == "exact"
    perfect = pd.DataFrame({f"u{i}": [4] for i in range(1, 10)})
    assert ix.ikm(perfect, weights=reg.IKM_REPORT_WEIGHTS, n_boot=0).ikm.iloc[0] == 100.0
    assert ix.ikm(perfect, weights="rounded", n_boot=0).ikm.iloc[0] == pytest.approx(99.0)


def test_grouped_ikm_without_bootstrap_equals_the_per_group_computation():
    """The one-pass path (no bootstrap, no population) gives the loop's numbers."""
    from asn_eval.indices import ikm

    rng = np.random.default_rng(3)
    n = 600
    data = pd.DataFrame({f"u{i}": rng.integers(1, 5, n).astype(float) for i in range(1, 10)})
    data.loc[rng.random(n) < 0.05, "u4"] = np.nan  # some unanswered
    data["agency_code"] = rng.choice(["A", "B", "C", "D"], n)
    data["period"] = rng.choice(["2024-S1", "2024-S2"], n)
    fast = ikm(data, group_by=["agency_code", "period"], n_boot=0).table
    slow = ikm(data, group_by=["agency_code", "period"], n_boot=1, seed=1).table
    pd.testing.assert_frame_equal(
        fast.drop(columns=["ci_low", "ci_high"]),
        slow.drop(columns=["ci_low", "ci_high"]),
        check_exact=False,
        rtol=1e-12,
    )
