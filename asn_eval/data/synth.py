"""A synthetic Kupang-like city with known true effects, exported the way offices export.

Why one module of ~900 lines: the generating process is one causal story (employees,
adoption, effects, services, surveys) whose parts share the same draws and the recorded
truth; split, the truth would be written far from the code that makes it.

The data-generating process (all parameters in :data:`DEFAULT_EFFECTS`; every one can be
set, including to zero, from the command line or a YAML file):

* 43 perangkat daerah of Kota Kupang; each adopts each of the four policies in a year
  between the second and the second-to-last year of the window, or never (staggered).
* Employees: a stock at the start plus hires (PNS, and PPPK from 2021), retirements at
  the BUP (58, or 60 for fungsional; UU 5/2014 art. 90), other exits and transfers between
  agencies: an unbalanced employee-year panel.
* Latent SKP score (0-100 scale) = 72 + employee + agency + trend + education
  + policy effects + training dose-response + N(0, 4) noise. Before 2022 it is exported as
  a PP 46/2011 score, from 2022 as a PermenPANRB 6/2022 predicate cut at the PP 46/2011
  band edges, so "Baik or better" means latent >= 76 in every year.
* Policy effects on the latent score are ``(level + growth * exposure) * (1 + spread *
  (last cohort - cohort) / (last - first))``: they grow with exposure and are larger for
  early cohorts, so naive two-way fixed effects is biased.
* Training programme: more courses (log rate ratio), and each employee's JP has a
  diminishing return ``return * log2(1 + JP / 20)`` (the 20 JP minimum gives ``return``).
* Budget: the course rate scales with (budget per head / median) ** elasticity, so
  low-budget agencies miss the 20 JP minimum more often.
* Digitalisation (resistance to change): an employee starts using the system after a
  delay that grows with age; its effect starts at personal first use and shrinks with age.
* Reward and punishment: fewer unexcused absence days (log rate ratio).
* Services: Dukcapil median processing days fall after its training programme and
  digitalisation; puskesmas outpatient minutes fall after periodic appraisal (each from the
  month the policy starts; the effect grows each calendar year of exposure).
* IKM: respondents' element scores rise with the agency's on-time share of services.

``truth.json`` records, for every policy and outcome, the average true effect by cohort
and exposure, computed from potential outcomes of the noise-free components; and, for the
estimand of chapter 4's subgroup estimates (the agency's adoption of digitalisation, by age
band at the start of the window, education group and position type), the same by subgroup
(``att_by_subgroup``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from asn_eval.config import DEFAULT_SEED
from asn_eval.domain.regions import NTT_REGIONS
from asn_eval.domain.regulations import (
    DISCIPLINE_LADDER,
    JP_MINIMUM_PER_YEAR,
    NIP_SEX_DIGITS,
    PP46_BANDS,
    SKP_PREDICATES,
    TRAINING_ROUTES,
    TRAINING_TYPES,
)
from asn_eval.domain.subgroups import (
    EDUCATION_GROUPS,
    HETEROGENEITY_OUTCOME,
    RESISTANCE_POLICY,
    age_band_at,
)

from .contract import (
    COMPARISON_TABLE,
    EDUCATION_LEVELS,
    IKM_COLUMNS,
    PNS_RANKS,
    POLICIES,
    PPPK_GRADES,
    TABLES,
)
from .simulate import PANEL_EFFECTS, simulate_panel, true_att

__all__ = [
    "DEFAULT_EFFECTS",
    "PANEL_EFFECTS",
    "SyntheticCity",
    "generate_city",
    "iter_city",
    "resolve_effects",
    "simulate_panel",
    "true_att",
]

DEFAULT_EMPLOYEES = 3000
DEFAULT_YEARS = (2019, 2025)
DATASET_NAME = "kupang-synthetic"
PREDICATE_FROM_YEAR = 2022  # PermenPANRB 6/2022 replaced PP 46/2011 scores
GOOD_SCORE = 76.0  # PP 46/2011 lower edge of "Baik" (regulations.PP46_BANDS)
SCORE_NOISE_SD = 4.0
BASE_SCORE = 72.0
CSV_MAX_EMPLOYEES = 20_000  # above this, write Parquet in chunks
CHUNK_EMPLOYEES = 100_000
AGE_BANDS = (0, 35, 45, 55, 120)
AGE_LABELS = ("<35", "35-44", "45-54", "55+")
SUBGROUP_KEYS = [
    "policy",
    "outcome",
    "subgroup_variable",
    "subgroup_value",
    "cohort",
    "exposure",
]

DEFAULT_EFFECTS: dict[str, float] = {
    # latent SKP points in the adoption year and added per year of exposure
    "training_programme.level": 1.0,
    "training_programme.growth": 0.5,
    "training_programme.courses": 0.6,  # log rate ratio of courses attended
    "performance_appraisal.level": 1.5,
    "performance_appraisal.growth": 0.75,
    "reward_punishment.level": 1.0,
    "reward_punishment.growth": 0.25,
    "reward_punishment.absence": -0.3,  # log rate ratio of unexcused absence days
    "digitalisation.level": 2.0,  # at personal first use, for an employee aged 30
    "digitalisation.growth": 0.5,  # per year since personal first use
    "digitalisation.resistance": 0.6,  # share of the effect lost per 30 years above 30
    "digitalisation.delay": 0.4,  # extra years before first use per 10 years above 25
    "cohort_spread": 0.5,  # earliest cohort's policy effect is (1 + spread) x the latest's
    "training.return": 1.5,  # latent points at 20 JP; return * log2(1 + JP / 20)
    "budget.elasticity": 1.0,  # course rate ~ (budget per head / median) ** elasticity
    "dukcapil.training": -0.15,  # log ratio of median processing days
    "dukcapil.digitalisation": -0.25,
    "dukcapil.growth": -0.05,  # per year of exposure, each policy
    "health.appraisal": -0.15,  # log ratio of outpatient median minutes at puskesmas
    "health.growth": -0.03,
    "ikm.service_quality": 1.0,  # IKM element points per unit of service quality
}

# Kota Kupang perangkat daerah (names follow the city's OPD structure; sizes are relative
# weights, invented). Codes are synthetic.
AGENCIES: tuple[tuple[str, str, float], ...] = (
    ("Sekretariat Daerah", "sekretariat", 3.0),
    ("Sekretariat DPRD", "sekretariat", 1.2),
    ("Inspektorat Daerah", "inspektorat", 1.0),
    ("Dinas Pendidikan dan Kebudayaan", "dinas", 6.0),
    ("Dinas Kesehatan", "dinas", 2.0),
    ("Dinas Pekerjaan Umum dan Penataan Ruang", "dinas", 1.5),
    ("Dinas Perumahan Rakyat dan Kawasan Permukiman", "dinas", 1.0),
    ("Dinas Sosial", "dinas", 1.0),
    ("Dinas Tenaga Kerja", "dinas", 0.8),
    ("Dinas Pemberdayaan Perempuan dan Perlindungan Anak", "dinas", 0.8),
    ("Dinas Ketahanan Pangan", "dinas", 0.8),
    ("Dinas Lingkungan Hidup dan Kebersihan", "dinas", 1.5),
    ("Dinas Kependudukan dan Pencatatan Sipil", "dinas", 1.5),
    ("Dinas Pengendalian Penduduk dan Keluarga Berencana", "dinas", 1.0),
    ("Dinas Perhubungan", "dinas", 1.2),
    ("Dinas Komunikasi dan Informatika", "dinas", 0.8),
    ("Dinas Koperasi, Usaha Kecil dan Menengah", "dinas", 0.8),
    ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "dinas", 0.8),
    ("Dinas Pemuda dan Olahraga", "dinas", 0.7),
    ("Dinas Pariwisata", "dinas", 0.7),
    ("Dinas Perpustakaan dan Kearsipan", "dinas", 0.7),
    ("Dinas Perindustrian dan Perdagangan", "dinas", 0.8),
    ("Dinas Kelautan dan Perikanan", "dinas", 0.8),
    ("Dinas Pertanian", "dinas", 0.8),
    ("Badan Perencanaan Pembangunan Daerah", "badan", 1.0),
    ("Badan Pendapatan Daerah", "badan", 1.2),
    ("Badan Keuangan dan Aset Daerah", "badan", 1.2),
    ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "badan", 0.9),
    ("Badan Penanggulangan Bencana Daerah", "badan", 0.7),
    ("Badan Kesatuan Bangsa dan Politik", "badan", 0.6),
    ("Satuan Polisi Pamong Praja", "satuan", 1.5),
    ("Kecamatan Alak", "kecamatan", 0.8),
    ("Kecamatan Maulafa", "kecamatan", 0.8),
    ("Kecamatan Oebobo", "kecamatan", 0.8),
    ("Kecamatan Kelapa Lima", "kecamatan", 0.8),
    ("Kecamatan Kota Raja", "kecamatan", 0.7),
    ("Kecamatan Kota Lama", "kecamatan", 0.7),
    ("Puskesmas Oesapa", "puskesmas", 1.0),
    ("Puskesmas Oebobo", "puskesmas", 1.0),
    ("Puskesmas Sikumana", "puskesmas", 1.0),
    ("Puskesmas Bakunase", "puskesmas", 0.9),
    ("Puskesmas Alak", "puskesmas", 0.9),
    ("RSUD S.K. Lerik", "rumah_sakit", 3.0),
)
DUKCAPIL = "Dinas Kependudukan dan Pencatatan Sipil"
IKM_AGENCY_TYPES = ("puskesmas", "kecamatan", "rumah_sakit")
IKM_AGENCIES = (DUKCAPIL, "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu")
# service -> (requests per month, median processing time in its unit)
DUKCAPIL_SERVICES = {"ktp_el": (1400.0, 5.0), "kk": (1100.0, 3.0), "akta_kelahiran": (600.0, 4.0)}
OUTPATIENT = ("rawat_jalan", 2500.0, 45.0)

FIRST_NAMES_L = (
    "Yohanes", "Yosef", "Fransiskus", "Dominggus", "Marthen", "Ferdinand", "Ignasius",
    "Agustinus", "Petrus", "Daniel", "Yakobus", "Stefanus", "Paulus", "Herman", "Alfons",
    "Benyamin", "Kornelis", "Simon", "Melkianus", "Ahmad", "Muhammad", "Andreas", "Wilhelmus",
)  # fmt: skip
FIRST_NAMES_P = (
    "Maria", "Agustina", "Yuliana", "Elisabeth", "Fransiska", "Theresia", "Margaretha",
    "Yosefina", "Regina", "Ester", "Debora", "Naomi", "Siti", "Novita", "Lidia", "Anastasia",
    "Veronika", "Magdalena", "Kristina", "Sofia", "Imelda", "Adriana", "Bernadeta",
)  # fmt: skip
FAMILY_NAMES = (
    "Ndun", "Lay", "Manafe", "Messakh", "Tefa", "Nalle", "Bessie", "Fanggidae", "Pah",
    "Sinlae", "Tallo", "Foenay", "Nenabu", "Toelle", "Riwu Kaho", "Nope", "Benu", "Liu",
    "Adoe", "Kana", "Lado", "Bara", "Ratu", "Dethan", "Leo", "Hale", "Amalo", "Mooy",
    "Haning", "Radja", "Kapitan", "Tanesib", "Ataupah", "Sabu", "Dami", "Bire",
)  # fmt: skip
DEGREES = {"S1": (", S.E.", ", S.Pd.", ", S.Sos.", ", S.Kep.", ", S.H."), "S2": (", M.Si.",)}


# --- effects --------------------------------------------------------------------------
def resolve_effects(
    effects: Mapping[str, float] | float | str | Path | None = None,
) -> dict[str, float]:
    """Full effect parameters from defaults, ``0`` (all off), a mapping or a YAML file.

    A YAML file holds a flat mapping of some keys of :data:`DEFAULT_EFFECTS`; keys not
    given keep their defaults (write ``zero: true`` at the top to start from all zero).
    """
    if effects is None:
        return dict(DEFAULT_EFFECTS)
    if isinstance(effects, int | float) and not isinstance(effects, bool):
        if effects != 0:
            raise ValueError("effects as a number must be 0 (no effect anywhere).")
        return {key: 0.0 for key in DEFAULT_EFFECTS}
    if isinstance(effects, str | Path):
        loaded = yaml.safe_load(Path(effects).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{effects}: expected a mapping of effect names to numbers.")
        effects = loaded
    effects = dict(effects)
    base = {key: 0.0 for key in DEFAULT_EFFECTS} if effects.pop("zero", False) else None
    unknown = set(effects) - set(DEFAULT_EFFECTS)
    if unknown:
        raise ValueError(
            f"unknown effect names {sorted(unknown)}; known names: {sorted(DEFAULT_EFFECTS)}."
        )
    return {**(base or DEFAULT_EFFECTS), **{k: float(v) for k, v in effects.items()}}


def _policy_multiplier(cohort: np.ndarray, cohorts: list[int], spread: float) -> np.ndarray:
    first, last = min(cohorts), max(cohorts)
    return 1.0 + spread * (last - cohort) / max(last - first, 1)


def training_return(jp: np.ndarray, effects: Mapping[str, float]) -> np.ndarray:
    """Latent SKP points from ``jp`` hours of training in a year (diminishing returns)."""
    return effects["training.return"] * np.log2(1.0 + np.asarray(jp, float) / JP_MINIMUM_PER_YEAR)


def digital_age_factor(age: np.ndarray, effects: Mapping[str, float]) -> np.ndarray:
    """Share of the digitalisation effect an employee of ``age`` gets (1 at 30 or below)."""
    loss = effects["digitalisation.resistance"] * np.clip(np.asarray(age, float) - 30, 0, None)
    return np.clip(1.0 - loss / 30.0, 0.0, 1.0)


# --- the city -------------------------------------------------------------------------
@dataclass
class World:
    """Agency-level facts shared by every chunk of employees."""

    years: np.ndarray
    cohorts: list[int]
    agencies: pd.DataFrame  # agency_code, agency_name, agency_type, weight, fe, budget_per_head
    policy_start: pd.DataFrame  # agency_code x POLICIES, datetime (NaT = never)
    effects: dict[str, float]
    seed: int

    @property
    def start_year(self) -> dict[str, np.ndarray]:
        return {p: self.policy_start[p].dt.year.fillna(0).astype(int).to_numpy() for p in POLICIES}


def _make_world(n_employees: int, years: np.ndarray, effects: dict, seed: int) -> World:
    rng = np.random.default_rng([seed, 0])
    regions = max(1, math.ceil(n_employees / 5000)) if n_employees > 20_000 else 1
    rows = []
    for r in range(regions):
        for i, (name, kind, weight) in enumerate(AGENCIES):
            suffix = f" (Wilayah {r + 1})" if regions > 1 else ""
            code = f"5371{r:04d}{i + 1:02d}" if regions > 1 else f"5371{i + 1:03d}"
            rows.append((code, name + suffix, kind, weight, name))
    agencies = pd.DataFrame(
        rows, columns=["agency_code", "agency_name", "agency_type", "weight", "template"]
    )
    n = len(agencies)
    agencies["fe"] = rng.normal(0.0, 2.0, n)
    agencies["budget_per_head"] = np.round(1_500_000 * np.exp(rng.normal(0.0, 0.5, n)), -3)
    cohorts = list(range(int(years[1]), int(years[-1])))  # second to second-to-last year
    starts = {}
    for p in POLICIES:
        never = 0.2
        choice = rng.choice(
            np.array([0, *cohorts]), size=n, p=[never] + [(1 - never) / len(cohorts)] * len(cohorts)
        )
        month = rng.integers(1, 4, n)  # policies start in the first quarter of their year
        day = rng.integers(1, 29, n)
        start = pd.to_datetime(
            pd.DataFrame({"year": np.where(choice > 0, choice, 2000), "month": month, "day": day})
        )
        starts[p] = start.where(choice > 0)
    policy_start = pd.DataFrame({"agency_code": agencies["agency_code"], **starts})
    # Dukcapil must adopt training and digitalisation inside the window so that its
    # processing times carry the documented effects (the article's example).
    duk = agencies["template"] == DUKCAPIL
    for p, year in (("training_programme", cohorts[0] + 1), ("digitalisation", cohorts[-1] - 1)):
        policy_start.loc[duk, p] = pd.Timestamp(year=year, month=2, day=1)
    return World(years, cohorts, agencies, policy_start, effects, seed)


def _names(rng: np.random.Generator, sex: np.ndarray, education: np.ndarray) -> np.ndarray:
    first = np.where(
        sex == "L",
        np.array(FIRST_NAMES_L)[rng.integers(0, len(FIRST_NAMES_L), sex.size)],
        np.array(FIRST_NAMES_P)[rng.integers(0, len(FIRST_NAMES_P), sex.size)],
    )
    family = np.array(FAMILY_NAMES)[rng.integers(0, len(FAMILY_NAMES), sex.size)]
    degree = np.full(sex.size, "", dtype=object)
    for level, options in DEGREES.items():
        hit = education == level
        degree[hit] = np.array(options)[rng.integers(0, len(options), hit.sum())]
    return (pd.Series(first) + " " + pd.Series(family) + pd.Series(degree)).to_numpy()


def _rank(education_idx: np.ndarray, service_years: np.ndarray, pppk: np.ndarray) -> np.ndarray:
    # Entry golongan by education (PP 99/2000 practice): SD I/a, SMP I/c, SMA-D2 II/a,
    # D3 II/c, D4/S1 III/a, S2 III/b, S3 III/c; one step every four years; caps by education.
    entry = np.array([0, 2, 4, 4, 4, 6, 8, 8, 9, 10])[education_idx]
    cap = np.array([3, 5, 9, 9, 9, 10, 13, 15, 16, 16])[education_idx]
    step = np.minimum(entry + service_years // 4, cap)
    pns = np.array(PNS_RANKS)[step]
    grade = np.array(PPPK_GRADES)[np.array([0, 0, 0, 1, 1, 2, 4, 4, 5, 6])[education_idx]]
    return np.where(pppk, grade, pns)


def _employees_chunk(world: World, chunk: int, n: int, rng: np.random.Generator) -> dict:
    """Employees, their yearly panel rows and training courses of chunk number ``chunk``."""
    years, eff = world.years, world.effects
    y0, y1 = int(years[0]), int(years[-1])
    window_start = np.datetime64(f"{y0}-01-01")
    window_end = np.datetime64(f"{y1}-12-31")
    ag = world.agencies
    n_ag = len(ag)
    weights = ag["weight"].to_numpy() / ag["weight"].sum()

    hire = rng.random(n) < 0.15
    hire_year = rng.integers(y0 + 1, y1 + 1, n)
    hire_date = (hire_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(
        0, 365, n
    ).astype("timedelta64[D]")
    age_start = np.where(hire, rng.uniform(22, 35, n), 22 + rng.beta(1.6, 1.4, n) * 35.5)
    reference = np.where(hire, hire_date, window_start)
    birth = reference - (age_start * 365.25).astype("timedelta64[D]")
    entry_age = np.minimum(rng.uniform(21, 32, n), age_start - 0.2)
    service_start = np.where(
        hire, hire_date, birth + (entry_age * 365.25).astype("timedelta64[D]")
    ).astype("datetime64[D]")
    # CPNS appointments (TMT) start on the first of a month.
    service_start = service_start.astype("datetime64[M]").astype("datetime64[D]")
    sex = np.where(rng.random(n) < 0.56, "P", "L")
    edu_p = np.array([0.01, 0.02, 0.16, 0.02, 0.03, 0.12, 0.03, 0.49, 0.11, 0.01])
    education_idx = rng.choice(len(EDUCATION_LEVELS), size=n, p=edu_p)
    education = np.array(EDUCATION_LEVELS)[education_idx]
    pppk = hire & (hire_year >= 2021) & (rng.random(n) < 0.6)
    home = rng.choice(n_ag, size=n, p=weights)
    kind = ag["agency_type"].to_numpy()[home]
    health = np.isin(kind, ["puskesmas", "rumah_sakit"])
    p_fun = np.where(
        health,
        0.85,
        np.where(ag["template"].to_numpy()[home] == "Dinas Pendidikan dan Kebudayaan", 0.8, 0.35),
    )
    u = rng.random(n)
    position = np.where(
        u < p_fun, "fungsional", np.where(u < p_fun + 0.1, "struktural", "pelaksana")
    )
    bup = np.where(position == "fungsional", 60, 58)  # UU 5/2014 art. 90 (simplified)
    retire = (birth.astype("datetime64[M]") + (bup * 12 + 1).astype("timedelta64[M]")).astype(
        "datetime64[D]"
    )
    exit_other = window_start + (rng.exponential(1 / 0.008, n) * 365.25).astype("timedelta64[D]")
    service_end = np.minimum(retire, exit_other)
    service_end = np.maximum(service_end, service_start + np.timedelta64(200, "D"))
    end_known = service_end <= window_end
    service_years_end = (
        (np.minimum(service_end, window_end) - service_start).astype(int) / 365.25
    ).astype(int)
    rank = _rank(education_idx, np.maximum(service_years_end, 0), pppk)

    # NIP: birth YYYYMMDD + TMT YYYYMM + sex digit + serial (BKN format).
    digit_of = {s: d for d, s in NIP_SEX_DIGITS.items()}
    sex_digit = np.where(sex == "L", digit_of["L"], digit_of["P"])
    birth_s = pd.Series(birth).dt.strftime("%Y%m%d").to_numpy()
    tmt_s = pd.Series(service_start).dt.strftime("%Y%m").to_numpy()
    prefix = pd.Series(birth_s + tmt_s + sex_digit)
    # Serials count up within a (birth, TMT, sex) prefix; chunks start 20 apart so that NIPs
    # stay unique across chunks (a prefix rarely has more than a few members per chunk).
    serial = prefix.groupby(prefix).cumcount().to_numpy() + 1 + (chunk * 20) % 980
    nip = (prefix + pd.Series(serial % 1000).astype(str).str.zfill(3)).to_numpy()

    # Yearly presence and agency (transfers ~3% a year).
    T = len(years)
    jan1 = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    dec31 = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]") - np.timedelta64(1, "D")
    present = (service_start[:, None] <= dec31[None, :]) & (service_end[:, None] >= jan1[None, :])
    agency = np.empty((n, T), dtype=np.int64)
    agency[:, 0] = home
    for t in range(1, T):
        move = rng.random(n) < 0.03
        agency[:, t] = np.where(move, rng.integers(0, n_ag, n), agency[:, t - 1])
    emp_idx, t_idx = np.nonzero(present)
    row_year = years[t_idx]
    row_agency = agency[emp_idx, t_idx]
    last_t = T - 1 - np.argmax(present[:, ::-1], axis=1)
    current_agency = agency[np.arange(n), last_t]

    # Policy exposure of each row (by the agency of that year).
    start_year = world.start_year
    cohort = {p: start_year[p][row_agency] for p in POLICIES}
    exposure = {p: row_year - cohort[p] for p in POLICIES}
    treated = {p: (cohort[p] > 0) & (exposure[p] >= 0) for p in POLICIES}

    # Digital adoption: first year the employee's agency has started, plus an age delay.
    dig_year_of_agency = start_year["digitalisation"][agency]  # n x T
    dig_on = present & (dig_year_of_agency > 0) & (dig_year_of_agency <= years[None, :])
    has_dig = dig_on.any(axis=1)
    first_t = np.argmax(dig_on, axis=1)
    dig_agency = agency[np.arange(n), first_t]
    agency_start = world.policy_start["digitalisation"].to_numpy().astype("datetime64[D]")
    base = np.maximum(agency_start[dig_agency], jan1[first_t])
    base = np.maximum(base, service_start)
    age_at_base = (base - birth).astype(int) / 365.25
    delay_mean = 0.3 + eff["digitalisation.delay"] * np.clip(age_at_base - 25, 0, None) / 10
    delay = rng.exponential(1.0, n) * delay_mean
    first_use = base + (delay * 365.25).astype("timedelta64[D]")
    first_use_ok = has_dig & (first_use <= np.minimum(service_end, window_end))
    first_use = np.where(first_use_ok, first_use, np.datetime64("NaT"))
    fu_year = np.where(first_use_ok, first_use.astype("datetime64[Y]").astype(int) + 1970, 0)

    # Training courses, with potential outcomes under and without the programme.
    bph = ag["budget_per_head"].to_numpy()
    budget_factor = (bph / np.median(bph)) ** eff["budget.elasticity"]
    lam0 = 1.1 * budget_factor[row_agency]
    lam1 = lam0 * np.exp(eff["training_programme.courses"])
    u_courses = rng.random(row_year.size)
    n0 = stats.poisson.ppf(u_courses, lam0).astype(np.int64)
    n1 = stats.poisson.ppf(u_courses, lam1).astype(np.int64)
    n_actual = np.where(treated["training_programme"], n1, n0)
    n_max = np.maximum(n0, n1)
    course_row = np.repeat(np.arange(row_year.size), n_max)
    course_k = np.arange(course_row.size) - np.repeat(np.cumsum(n_max) - n_max, n_max)
    c_type = rng.choice(len(TRAINING_TYPES), size=course_row.size, p=[0.05, 0.2, 0.45, 0.3])
    jp_menu = (
        np.array([40.0, 80.0, 120.0]),  # kepemimpinan
        np.array([20.0, 30.0, 40.0, 60.0]),  # fungsional
        np.array([8.0, 16.0, 24.0, 32.0, 40.0]),  # teknis
        np.array([2.0, 2.5, 4.0, 6.0, 8.0]),  # seminar/workshop
    )
    pick = rng.random(course_row.size)
    c_jp = np.zeros(course_row.size)
    for k, menu in enumerate(jp_menu):
        hit = c_type == k
        c_jp[hit] = menu[(pick[hit] * len(menu)).astype(int)]
    in_actual = course_k < n_actual[course_row]
    in_cf0 = course_k < n0[course_row]
    in_cf1 = course_k < n1[course_row]
    jp_actual = np.bincount(course_row, weights=c_jp * in_actual, minlength=row_year.size)
    jp0 = np.bincount(course_row, weights=c_jp * in_cf0, minlength=row_year.size)
    jp1 = np.bincount(course_row, weights=c_jp * in_cf1, minlength=row_year.size)
    keep = in_actual
    c_row = course_row[keep]
    c_year = row_year[c_row]
    c_start = np.maximum(jan1[t_idx[c_row]], service_start[emp_idx[c_row]])
    c_end = np.minimum(dec31[t_idx[c_row]], service_end[emp_idx[c_row]])
    span = np.maximum((c_end - c_start).astype(int), 0)
    c_date = c_start + (rng.random(c_row.size) * (span + 1)).astype("timedelta64[D]")
    route_p = np.array([0.55, 0.3, 0.15])
    c_route = np.where(
        c_type[keep] == 0, 0, rng.choice(len(TRAINING_ROUTES), size=c_row.size, p=route_p)
    )
    training = pd.DataFrame(
        {
            "nip": nip[emp_idx[c_row]],
            "date": c_date.astype("datetime64[ns]"),
            "jp": c_jp[keep],
            "type": np.array(TRAINING_TYPES)[c_type[keep]],
            "route": np.array(TRAINING_ROUTES)[c_route],
        }
    )
    training = training.iloc[np.lexsort((training["date"], c_year, emp_idx[c_row]))]
    # Two identical courses on one day would read as an export duplicate: move one a day.
    while (twin := training.duplicated()).any():
        training.loc[twin, "date"] += pd.Timedelta(days=1)

    # Latent SKP score: noise-free mean and each policy's contribution.
    age = row_year - (birth.astype("datetime64[Y]").astype(int) + 1970)[emp_idx]
    emp_fe = rng.normal(0.0, 5.0, n)
    spread = eff["cohort_spread"]
    contrib = {}
    for p in ("training_programme", "performance_appraisal", "reward_punishment"):
        tau = (eff[f"{p}.level"] + eff[f"{p}.growth"] * exposure[p]) * _policy_multiplier(
            cohort[p], world.cohorts, spread
        )
        contrib[p] = np.where(treated[p], tau, 0.0)
    adopted = treated["digitalisation"] & (fu_year[emp_idx] > 0) & (fu_year[emp_idx] <= row_year)
    dig = eff["digitalisation.level"] * digital_age_factor(age, eff) + eff[
        "digitalisation.growth"
    ] * (row_year - fu_year[emp_idx])
    contrib["digitalisation"] = np.where(adopted, dig, 0.0)
    g_actual = training_return(jp_actual, eff)
    # The programme's effect also runs through more JP: its potential-outcome difference.
    tp_total = contrib["training_programme"] + np.where(
        treated["training_programme"], training_return(jp1, eff) - training_return(jp0, eff), 0.0
    )
    mu = (
        BASE_SCORE
        + emp_fe[emp_idx]
        + ag["fe"].to_numpy()[row_agency]
        + 0.2 * (row_year - y0)
        + 0.4 * (education_idx[emp_idx] - EDUCATION_LEVELS.index("S1"))
        + sum(contrib.values())
        + g_actual
    )
    latent = mu + rng.normal(0.0, SCORE_NOISE_SD, mu.size)
    score = np.clip(latent, 0, 100)
    edges = [edge for edge, _ in PP46_BANDS]  # 91, 76, 61, 51, 0
    band = np.select([score >= e for e in edges[:-1]], range(4), default=4)
    predicate = np.array(SKP_PREDICATES)[band]
    late = row_year >= PREDICATE_FROM_YEAR
    # Absence days: Poisson with employee heterogeneity; reward and punishment lowers it.
    abs_fe = rng.normal(0.0, 0.8, n)
    log_lam = np.log(1.2) + abs_fe[emp_idx]
    abs_eff = np.where(treated["reward_punishment"], eff["reward_punishment.absence"], 0.0)
    lam_abs0 = np.exp(log_lam)
    lam_abs = np.exp(log_lam + abs_eff)
    absence = rng.poisson(lam_abs)
    sanction = np.full(absence.size, "none", dtype=object)
    for days, _, level in sorted(DISCIPLINE_LADDER):  # ascending: higher ladders overwrite
        sanction[absence >= days] = level
    performance = pd.DataFrame(
        {
            "nip": nip[emp_idx],
            "year": row_year,
            "agency_code": ag["agency_code"].to_numpy()[row_agency],
            "skp_predicate": np.where(late, predicate, None),
            "skp_score": np.where(late, np.nan, np.round(score, 2)),
            "absence_days": absence,
            "sanction_level": sanction,
        }
    )
    employees = pd.DataFrame(
        {
            "nip": nip,
            "name": _names(rng, sex, education),
            "agency_code": ag["agency_code"].to_numpy()[current_agency],
            "birth_date": birth.astype("datetime64[ns]"),
            "sex": sex,
            "education": education,
            "rank": rank,
            "position_type": position,
            "employment_type": np.where(pppk, "PPPK", "PNS"),
            "service_start": service_start.astype("datetime64[ns]"),
            "service_end": np.where(end_known, service_end, np.datetime64("NaT")).astype(
                "datetime64[ns]"
            ),
        }
    )
    digital = pd.DataFrame({"nip": nip, "first_use": first_use.astype("datetime64[ns]")})

    # Truth: effect of each policy on each outcome, per treated row.
    def delta_good(delta):
        return stats.norm.cdf((mu - GOOD_SCORE) / SCORE_NOISE_SD) - stats.norm.cdf(
            (mu - delta - GOOD_SCORE) / SCORE_NOISE_SD
        )

    parts = []
    for p in POLICIES:
        delta = tp_total if p == "training_programme" else contrib[p]
        rows = treated[p]
        outcomes = {"skp_latent": delta, "skp_good": delta_good(delta)}
        if p == "reward_punishment":
            outcomes["absence_days"] = lam_abs - lam_abs0
            # Any sanction: the PP 94/2021 ladder starts at its lowest number of days.
            least = min(days for days, _, _ in DISCIPLINE_LADDER)
            outcomes["sanctioned"] = stats.poisson.sf(least - 1, lam_abs) - stats.poisson.sf(
                least - 1, lam_abs0
            )
        if p == "training_programme":
            outcomes["jp"] = jp1 - jp0
        for outcome, values in outcomes.items():
            parts.append(
                pd.DataFrame(
                    {
                        "policy": p,
                        "outcome": outcome,
                        "cohort": cohort[p][rows],
                        "exposure": exposure[p][rows],
                        "effect": values[rows],
                    }
                )
            )
    truth_rows = pd.concat(parts, ignore_index=True)
    keys = ["policy", "outcome", "cohort", "exposure"]
    subgroup_rows = _subgroup_truth_rows(
        world,
        present=present,
        agency=agency,
        birth=birth,
        education=education,
        position=position,
        emp_idx=emp_idx,
        row_year=row_year,
        latent=contrib["digitalisation"],
        good=delta_good(contrib["digitalisation"]),
    )
    first_year = adopted & (row_year == fu_year[emp_idx])
    age_band = pd.cut(age[first_year], AGE_BANDS, labels=AGE_LABELS, right=False)
    return {
        "employees": employees,
        "performance": performance,
        "training": training,
        "digital_adoption": digital,
        # additive summaries, so that chunks can be combined by summing
        "truth_sum": truth_rows.groupby(keys)["effect"].agg(["sum", "count"]),
        "subgroup_sum": subgroup_rows.groupby(SUBGROUP_KEYS)["effect"].agg(["sum", "count"]),
        "headcount": pd.DataFrame({"agency": row_agency, "year": row_year})
        .groupby(["agency", "year"])
        .size()
        .to_frame("count"),
        "meets_sum": pd.DataFrame({"agency": row_agency, "meets": jp_actual >= JP_MINIMUM_PER_YEAR})
        .groupby("agency")["meets"]
        .agg(["sum", "count"]),
        "age_sum": pd.Series(contrib["digitalisation"][first_year])
        .groupby(age_band, observed=True)
        .agg(["sum", "count"]),
    }


def _subgroup_truth_rows(
    world: World,
    *,
    present: np.ndarray,
    agency: np.ndarray,
    birth: np.ndarray,
    education: np.ndarray,
    position: np.ndarray,
    emp_idx: np.ndarray,
    row_year: np.ndarray,
    latent: np.ndarray,
    good: np.ndarray,
) -> pd.DataFrame:
    """Per treated employee-year, the true effect that chapter 4's subgroup estimates target.

    The chapter (:mod:`asn_eval.analysis.challenges`) estimates, per subgroup, the
    Callaway-Sant'Anna simple ATT of the AGENCY adopting digitalisation on ``skp_good``: each
    employee keeps the cohort of the agency of his or her first year in the window (an
    intention-to-treat effect: uptake is personal and delayed), subgroups are fixed at the
    start of the window, and, as R's ``did`` does with an unbalanced panel, only employees
    present in every year are kept. The rows here are that population's post-adoption years;
    the effect is the potential-outcome difference with minus without digitalisation (in any
    agency), on the latent score and on the chance of "Baik or better".
    """
    n = present.shape[0]
    balanced = present.all(axis=1)
    first_agency = agency[np.arange(n), np.argmax(present, axis=1)]
    cohort = world.start_year[RESISTANCE_POLICY][first_agency][emp_idx]
    rows = balanced[emp_idx] & (cohort > 0) & (row_year >= cohort)
    start = pd.Timestamp(year=int(world.years[0]), month=1, day=1)
    groups = {
        "age_band_start": age_band_at(pd.Series(birth), at=start).astype(str).to_numpy(),
        "education_group": pd.Series(education).map(EDUCATION_GROUPS).to_numpy(),
        "position_type": np.asarray(position, dtype=object),
    }
    parts = []
    for variable, value in groups.items():
        for outcome, effect in (("skp_latent", latent), (HETEROGENEITY_OUTCOME, good)):
            parts.append(
                pd.DataFrame(
                    {
                        "policy": RESISTANCE_POLICY,
                        "outcome": outcome,
                        "subgroup_variable": variable,
                        "subgroup_value": value[emp_idx[rows]],
                        "cohort": cohort[rows],
                        "exposure": row_year[rows] - cohort[rows],
                        "effect": effect[rows],
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _services(
    world: World, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[dict], dict[str, dict]]:
    """The services table, its truth rows and, per document of the first Dukcapil office,
    what its comparison offices share and its pooled truth reads (:func:`_comparison`)."""
    eff, ag = world.effects, world.agencies
    y0, y1 = int(world.years[0]), int(world.years[-1])
    months = pd.date_range(f"{y0}-01-01", f"{y1}-12-01", freq="MS")
    year = months.year.to_numpy()
    frames, truth = [], []
    dukcapil: dict[str, dict] = {}
    start = world.start_year
    for i, row in ag.iterrows():
        if row["template"] == DUKCAPIL:
            specs = [(s, req, med, "days") for s, (req, med) in DUKCAPIL_SERVICES.items()]
            terms = [
                ("training_programme", eff["dukcapil.training"], eff["dukcapil.growth"]),
                ("digitalisation", eff["dukcapil.digitalisation"], eff["dukcapil.growth"]),
            ]
        elif row["agency_type"] == "puskesmas":
            specs = [(OUTPATIENT[0], OUTPATIENT[1] * row["weight"], OUTPATIENT[2], "minutes")]
            terms = [("performance_appraisal", eff["health.appraisal"], eff["health.growth"])]
        else:
            continue
        for service, req, med, unit in specs:
            n = len(months)
            log_effect = {}
            for p, level, growth in terms:
                g = start[p][i]
                # From the month the policy starts (the month an interrupted time series
                # takes as the intervention), not from January of its year.
                begun = world.policy_start[p].iloc[i]
                on = np.zeros(n, bool) if g <= 0 else months >= begun.to_period("M").to_timestamp()
                log_effect[p] = np.where(on, level + growth * (year - g), 0.0)
            total = sum(log_effect.values())
            season = 0.08 * np.cos(2 * np.pi * (months.month.to_numpy() - 2) / 12)
            shock = rng.normal(0, 0.04, n)  # the month's shock, shared by the province
            base = np.log(med) + season + 0.01 * (year - y0) + shock
            median = np.exp(base + total)
            for p, values in log_effect.items():
                on = values != 0
                for e in np.unique(year[on] - start[p][i]):
                    sel = on & (year - start[p][i] == e)
                    truth.append(
                        {
                            "agency_code": row["agency_code"],
                            "service": service,
                            "policy": p,
                            "cohort": int(start[p][i]),
                            "exposure": int(e),
                            "months_on": int(sel.sum()),
                            "log_ratio": float(values[sel].mean()),
                            "effect": float(
                                (median[sel] - median[sel] / np.exp(values[sel])).mean()
                            ),
                            "unit": unit,
                        }
                    )
            share = 1 / (1 + np.exp(-(2.5 - 4.0 * (np.log(median) - np.log(med)))))
            share = np.clip(share + rng.normal(0, 0.01, n), 0, 1)
            requests = rng.poisson(req * (1 + 0.02 * (year - y0)))
            completed = rng.binomial(requests, 0.96)
            complaints = rng.poisson(requests * 0.002 * median / med)
            if row["template"] == DUKCAPIL and len(dukcapil) < len(specs):
                dukcapil[service] = {
                    "months": months,
                    "shock": shock,
                    "median": median,
                    "standard": med,
                    "requests": requests,
                    "log_effect": log_effect,
                    "starts": {p: world.policy_start[p].iloc[i] for p, _, _ in terms},
                }
            frames.append(
                pd.DataFrame(
                    {
                        "agency_code": row["agency_code"],
                        "month": months,
                        "service": service,
                        "requests": requests,
                        "completed": completed,
                        "median_time": np.round(median, 1 if unit == "days" else 0),
                        "time_unit": unit,
                        "share_within_standard": np.round(share, 3),
                        "complaints": complaints,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True), truth, dukcapil


def _on_time_share(log_median: np.ndarray, standard: float) -> np.ndarray:
    """Share of documents completed within the standard, noise-free, at a log median."""
    return 1 / (1 + np.exp(-(2.5 - 4.0 * (log_median - np.log(standard)))))


def _comparison(world: World, dukcapil: dict[str, dict], rng: np.random.Generator) -> pd.DataFrame:
    """The monthly services of the other Dukcapil offices of the province.

    Each office (:data:`~asn_eval.domain.regions.NTT_REGIONS`) has its own level of
    processing days and its own volume of requests, shares Kota Kupang's season, trend and
    monthly shocks (common time effects) plus a small noise of its own, and never adopts
    either policy: the donor pool of a synthetic difference-in-differences.
    """
    frames = []
    for code, name in NTT_REGIONS.items():
        level = rng.normal(0.0, 0.15)
        volume = np.exp(rng.normal(-0.6, 0.4))
        for service, d in dukcapil.items():
            months, n = d["months"], len(d["months"])
            year = months.year.to_numpy()
            season = 0.08 * np.cos(2 * np.pi * (months.month.to_numpy() - 2) / 12)
            trend = 0.01 * (year - int(world.years[0]))
            log_median = np.log(d["standard"]) + level + season + trend + d["shock"]
            log_median = log_median + rng.normal(0, 0.02, n)
            median = np.exp(log_median)
            share = _on_time_share(log_median, d["standard"]) + rng.normal(0, 0.01, n)
            share = np.clip(share, 0, 1)
            growth = 1 + 0.02 * (year - int(world.years[0]))
            requests = rng.poisson(volume * DUKCAPIL_SERVICES[service][0] * growth)
            completed = rng.binomial(requests, 0.96)
            complaints = rng.poisson(requests * 0.002 * median / d["standard"])
            frames.append(
                pd.DataFrame(
                    {
                        "office_code": code,
                        "office_name": f"Dinas Kependudukan dan Pencatatan Sipil {name}",
                        "month": months,
                        "service": service,
                        "requests": requests,
                        "completed": completed,
                        "median_time": np.round(median, 1),
                        "time_unit": "days",
                        "share_within_standard": np.round(share, 3),
                        "complaints": complaints,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _pooled_truth(dukcapil: dict[str, dict]) -> list[dict]:
    """The effects a comparison design on Dukcapil's pooled monthly series targets.

    Per policy, the months from its start until the other Dukcapil policy starts (or the end
    of the window), the same months the interrupted time series of that policy sees after its
    start; per month, the request-weighted mean over the documents (as
    ``dukcapil_series`` pools them) of the potential-outcome difference, with minus without
    that policy, averaged over those months.
    """
    first = next(iter(dukcapil.values()))
    months, starts = first["months"], first["starts"]
    rows = []
    for policy, begun in starts.items():
        if pd.isna(begun):
            continue
        start = begun.to_period("M").to_timestamp()
        window = months >= start
        for other, other_begun in starts.items():
            if other == policy or pd.isna(other_begun):
                continue
            other_start = other_begun.to_period("M").to_timestamp()
            if other_start > start:
                window &= months < other_start
        weights = np.array([d["requests"] for d in dukcapil.values()], dtype=float)
        days, share = [], []
        for d in dukcapil.values():
            effect = d["log_effect"][policy]
            days.append(d["median"] - d["median"] / np.exp(effect))
            log_median = np.log(d["median"])
            share.append(
                _on_time_share(log_median, d["standard"])
                - _on_time_share(log_median - effect, d["standard"])
            )
        for outcome, values, unit in (
            ("dukcapil_days", np.array(days), "days"),
            ("share_within_standard", np.array(share), "share"),
        ):
            monthly = (weights * values).sum(axis=0) / weights.sum(axis=0)
            rows.append(
                {
                    "policy": policy,
                    "outcome": outcome,
                    "first_month": str(months[window][0].date()),
                    "last_month": str(months[window][-1].date()),
                    "months": int(window.sum()),
                    "effect": round(float(monthly[window].mean()), 6),
                    "unit": unit,
                }
            )
    return rows


def _satisfaction(world: World, services: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    eff, ag = world.effects, world.agencies
    target = ag["agency_type"].isin(IKM_AGENCY_TYPES) | ag["template"].isin(IKM_AGENCIES)
    quality = (
        services.assign(
            period=services["month"].dt.year.astype(str)
            + np.where(services["month"].dt.month <= 6, "-S1", "-S2")
        )
        .groupby(["agency_code", "period"])["share_within_standard"]
        .mean()
    )
    # Element loadings on service quality and offsets (waktu and sarana weakest, as in
    # Dukcapil Kota Kupang's published IKM; pengaduan strongest).
    loading = np.array([0.5, 1.0, 1.5, 0.3, 0.5, 0.8, 0.8, 0.5, 0.5])
    offset = np.array([0.1, 0.0, -0.1, 0.3, 0.1, 0.1, 0.2, -0.3, 0.4])
    # All agency-periods at once: one row per respondent, one column per element.
    periods = [f"{y}-{half}" for y in world.years for half in ("S1", "S2")]
    cells = ag[target].merge(pd.DataFrame({"period": periods}), how="cross")
    share = quality.reindex(pd.MultiIndex.from_frame(cells[["agency_code", "period"]]))
    share = share.to_numpy()
    q = np.where(np.isfinite(share), (share - 0.9) * 10, cells["fe"].to_numpy() / 4)
    size = np.where(cells["template"].to_numpy() == DUKCAPIL, 120, 30)
    cell = np.repeat(np.arange(len(cells)), size)
    resp = rng.normal(0, 0.35, (cell.size, 1))
    latent = 3.0 + offset + eff["ikm.service_quality"] * loading * q[cell, None] * 0.3 + resp
    latent = latent + rng.normal(0, 0.45, (cell.size, len(loading)))
    scores = np.clip(np.rint(latent), 1, 4).astype(np.int64)
    out = pd.DataFrame(scores, columns=list(IKM_COLUMNS))
    out.insert(0, "period", cells["period"].to_numpy()[cell])
    out.insert(0, "agency_code", cells["agency_code"].to_numpy()[cell])
    out.insert(0, "respondent_id", [f"R{i + 1:06d}" for i in range(len(out))])
    return out


@dataclass
class SyntheticCity:
    """The generated tables (with NIPs and names, before export) and the truth."""

    tables: dict[str, pd.DataFrame]
    truth: dict
    world: World
    # The province's other Dukcapil offices (the optional comparison_services table), or None.
    comparison: pd.DataFrame | None = None


def _add(total: dict, part: dict) -> None:
    """Accumulate the additive summaries of one chunk into ``total``."""
    for key in ("truth_sum", "subgroup_sum", "headcount", "meets_sum", "age_sum"):
        total[key] = part[key] if key not in total else total[key].add(part[key], fill_value=0)


def _truth(world: World, sums: dict, service_truth: list[dict], n_employees: int) -> dict:
    eff = world.effects
    ag = world.agencies
    att = sums["truth_sum"].reset_index()
    meets = sums["meets_sum"]
    bph = ag["budget_per_head"].to_numpy()[meets.index.to_numpy()]
    tercile = pd.qcut(pd.Series(bph).rank(method="first"), 3, labels=["low", "mid", "high"])
    by_tercile = meets.groupby(tercile.to_numpy(), observed=True).sum()
    age = sums["age_sum"]
    jp_grid = [0, 10, 20, 40, 60, 100]
    return {
        "synthetic": True,
        "seed": world.seed,
        "employees": n_employees,
        "years": [int(world.years[0]), int(world.years[-1])],
        "effects": eff,
        "definitions": {
            "skp_latent": "latent SKP score points (0-100 scale); skp_score before "
            f"{PREDICATE_FROM_YEAR} is latent + N(0, {SCORE_NOISE_SD:g}) noise",
            "skp_good": "probability of 'Baik' or better (skp_predicate in {Sangat Baik, Baik} "
            f"from {PREDICATE_FROM_YEAR}; skp_score >= {GOOD_SCORE:g} before)",
            "absence_days": "expected unexcused absence days per year",
            "sanctioned": "probability of any discipline sanction in the year (absence days at "
            "or above the lowest step of the PP 94/2021 ladder)",
            "services": "effect and log_ratio: means over the months_on months of that "
            "exposure year in which the policy was in force (it starts in its start month)",
            "jp": "expected training hours (JP) per year",
            "cohort": "calendar year in which the employee's agency (that year) started the policy",
            "exposure": "year minus cohort",
            "effect": "average over treated employee-years (rows) of the potential-outcome "
            "difference, with minus without that policy, from the noise-free components",
            "att_by_subgroup": "chapter 4's estimand: the effect of the agency adopting the "
            "policy (intention to treat), per subgroup fixed at the start of the window "
            "(age band on 1 January of the first year, education group, position type); "
            "cohort is the start year of the agency of the employee's first year in the "
            "window (kept after transfers); rows are post-adoption years of employees present "
            "in every year of the window (the balanced panel the estimator keeps), so within "
            "a subgroup rows are proportional to cohort sizes",
        },
        "att": [
            {
                "policy": r.policy,
                "outcome": r.outcome,
                "cohort": int(r.cohort),
                "exposure": int(r.exposure),
                "rows": int(r.count),
                "effect": round(float(r.sum / r.count), 6),
            }
            for r in att.itertuples()
        ],
        "att_by_subgroup": [
            {
                "policy": r.policy,
                "outcome": r.outcome,
                "subgroup_variable": r.subgroup_variable,
                "subgroup_value": r.subgroup_value,
                "cohort": int(r.cohort),
                "exposure": int(r.exposure),
                "rows": int(r.count),
                "effect": round(float(r.sum / r.count), 6),
            }
            for r in sums["subgroup_sum"].reset_index().itertuples()
        ],
        "training_dose_response": {
            "formula": "training.return * log2(1 + JP / 20), latent SKP points",
            "points": {str(j): round(float(training_return(j, eff)), 6) for j in jp_grid},
        },
        "budget": {
            "formula": "courses per year ~ Poisson(1.1 * (budget_per_head / median) ** "
            "budget.elasticity), times exp(training_programme.courses) after adoption",
            "share_meeting_20_jp_by_budget_tercile": {
                str(k): round(float(v["sum"] / v["count"]), 6) for k, v in by_tercile.iterrows()
            },
        },
        "digitalisation_by_age": {
            "formula": "after personal first use: level * max(0, 1 - resistance * (age - 30) "
            "/ 30) + growth * years since first use; first use is delayed by "
            "Exponential(0.3 + delay * (age - 25) / 10) years after the agency starts",
            "effect_in_first_year_of_use_by_age": {
                str(k): round(float(v["sum"] / v["count"]), 6) for k, v in age.iterrows()
            },
        },
        "services": service_truth,
        "ikm": {
            "formula": "element score = round(3.0 + offset_k + ikm.service_quality * 0.3 * "
            "loading_k * 10 * (share_within_standard - 0.9) + noise), clipped to 1-4",
        },
    }


def iter_city(
    *,
    n_employees: int = DEFAULT_EMPLOYEES,
    years: Iterable[int] = range(DEFAULT_YEARS[0], DEFAULT_YEARS[1] + 1),
    effects: Mapping[str, float] | float | str | Path | None = None,
    seed: int = DEFAULT_SEED,
    chunk_employees: int = CHUNK_EMPLOYEES,
):
    """Generate the city chunk by chunk, with bounded memory.

    Yields ``("agency", tables)`` once (agencies, policies, services, satisfaction), then
    ``("chunk", tables)`` per block of employees (employees, performance, training,
    digital_adoption), and finally ``("end", {"budget": frame, "truth": dict})``.
    Chunks use their own random streams, so the result does not depend on memory.
    """
    years = np.array(sorted(years), dtype=np.int64)
    if len(years) < 4:
        raise ValueError("the synthetic city needs at least four years.")
    world = _make_world(n_employees, years, resolve_effects(effects), seed)
    rng = np.random.default_rng([seed, 2])
    services, service_truth, dukcapil = _services(world, rng)
    yield (
        "agency",
        {
            "agencies": world.agencies[["agency_code", "agency_name", "agency_type"]].copy(),
            "policies": world.policy_start.copy(),
            "services": services,
            "satisfaction": _satisfaction(world, services, rng),
        },
    )
    del services  # at national scale the agency tables are large: free them before chunks
    sums: dict = {}
    # The stream of a chunk depends on its position in blocks of CHUNK_EMPLOYEES only.
    for c, first in enumerate(range(0, n_employees, chunk_employees)):
        size = min(chunk_employees, n_employees - first)
        part = _employees_chunk(world, c, size, np.random.default_rng([seed, 1, c]))
        _add(sums, part)
        yield (
            "chunk",
            {k: part[k] for k in ("employees", "performance", "training", "digital_adoption")},
        )
    truth = _truth(world, sums, service_truth, n_employees)
    end = {"budget": _budget(world, sums["headcount"]), "truth": truth, "world": world}
    # Only a city (one Dukcapil office) has the province's other offices to compare with.
    # Their own stream, drawn after everything else: the other tables do not change.
    if dukcapil and (world.agencies["template"] == DUKCAPIL).sum() == 1:
        end[COMPARISON_TABLE] = _comparison(world, dukcapil, np.random.default_rng([seed, 5]))
        truth["definitions"]["dukcapil_pooled"] = (
            "the effect a comparison design (synthetic difference-in-differences, Kota Kupang "
            "against the other Dukcapil offices of the province in comparison_services) "
            "targets on Dukcapil's request-weighted monthly series: per policy, the mean over "
            "the months from its start until the other Dukcapil policy starts (or the end) "
            "of the potential-outcome difference, with minus without that policy; "
            "share_within_standard as a share (0-1)"
        )
        truth["dukcapil_pooled"] = _pooled_truth(dukcapil)
    yield ("end", end)


def generate_city(
    *,
    n_employees: int = DEFAULT_EMPLOYEES,
    years: Iterable[int] = range(DEFAULT_YEARS[0], DEFAULT_YEARS[1] + 1),
    effects: Mapping[str, float] | float | str | Path | None = None,
    seed: int = DEFAULT_SEED,
) -> SyntheticCity:
    """Generate the synthetic city in memory (clean tables, NIPs and names included).

    Parameters
    ----------
    n_employees
        Employees ever in service during the window (stock plus hires).
    years
        Calendar years of the window (at least four).
    effects
        See :func:`resolve_effects`.
    seed
        Same seed, same city.

    Returns
    -------
    SyntheticCity
        ``tables`` keyed by contract table name (``nip``/``name`` not yet pseudonymised)
        and ``truth`` (the content of ``truth.json`` without the dirty-row manifest).

    Examples
    --------
    >>> city = generate_city(n_employees=300, seed=1)
    >>> sorted(city.tables) == sorted(TABLES)
    True
    """
    tables: dict[str, list[pd.DataFrame]] = {}
    for kind, part in iter_city(n_employees=n_employees, years=years, effects=effects, seed=seed):
        if kind == "end":
            tables["budget"] = [part["budget"]]
            if COMPARISON_TABLE in part:
                tables[COMPARISON_TABLE] = [part[COMPARISON_TABLE]]
            truth, world = part["truth"], part["world"]
        else:
            for name, frame in part.items():
                tables.setdefault(name, []).append(frame)
    merged = {name: pd.concat(tables[name], ignore_index=True) for name in TABLES}
    comparison = tables.get(COMPARISON_TABLE, [None])[0]
    return SyntheticCity(merged, truth, world, comparison)


def _budget(world: World, headcount: pd.DataFrame) -> pd.DataFrame:
    ag = world.agencies
    counts = headcount["count"]
    full = pd.MultiIndex.from_product([range(len(ag)), world.years], names=["agency", "year"])
    counts = counts.reindex(full, fill_value=0).astype(np.int64).reset_index(name="headcount")
    a = counts["agency"].to_numpy()
    tp = world.start_year["training_programme"][a]
    boost = np.where((tp > 0) & (counts["year"] >= tp), 1.5, 1.0)
    budget = np.round(counts["headcount"] * ag["budget_per_head"].to_numpy()[a] * boost, -4)
    return pd.DataFrame(
        {
            "agency_code": ag["agency_code"].to_numpy()[a],
            "year": counts["year"].to_numpy(),
            "training_budget": budget.astype(np.int64),
            "training_places": (budget // 2_500_000).astype(np.int64),
            "headcount": counts["headcount"].to_numpy(),
        }
    )
