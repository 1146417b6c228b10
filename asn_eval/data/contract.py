"""The data contract: tables, columns, keys and allowed values, in one place.

A real export is mapped to these names (see ``data/README.md`` and the mapping YAML);
the synthetic generator writes them directly. Input files carry ``nip`` and ``name``;
after loading, ``nip`` is replaced by ``employee_id`` and ``name`` is dropped
(:mod:`asn_eval.data.pseudonymise`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asn_eval.regulations import (
    DISCIPLINE_LEVELS,
    IKM_ELEMENTS,
    SKP_PREDICATES,
    TRAINING_ROUTES,
    TRAINING_TYPES,
)

TABLES: tuple[str, ...] = (
    "agencies",
    "employees",
    "performance",
    "training",
    "policies",
    "digital_adoption",
    "services",
    "satisfaction",
    "budget",
)
POLICIES: tuple[str, ...] = (
    "training_programme",
    "performance_appraisal",
    "reward_punishment",
    "digitalisation",
)
AGENCY_TYPES: tuple[str, ...] = (
    "sekretariat",
    "dinas",
    "badan",
    "inspektorat",
    "kecamatan",
    "puskesmas",
    "rumah_sakit",
    "satuan",
)
# Education levels, lowest first (BKN tingkat pendidikan).
EDUCATION_LEVELS: tuple[str, ...] = ("SD", "SMP", "SMA", "D1", "D2", "D3", "D4", "S1", "S2", "S3")
# PNS golongan/ruang (PP 99/2000) and PPPK grades (Perpres 98/2020).
PNS_RANKS: tuple[str, ...] = tuple(
    f"{golongan}/{ruang}"
    for golongan, ruangs in (("I", "abcd"), ("II", "abcd"), ("III", "abcd"), ("IV", "abcde"))
    for ruang in ruangs
)
PPPK_GRADES: tuple[str, ...] = (
    "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII",
)  # fmt: skip
POSITION_TYPES: tuple[str, ...] = ("struktural", "fungsional", "pelaksana")
EMPLOYMENT_TYPES: tuple[str, ...] = ("PNS", "PPPK")
SEXES: tuple[str, ...] = ("L", "P")
SANCTION_LEVELS: tuple[str, ...] = ("none", *DISCIPLINE_LEVELS)
SERVICES: tuple[str, ...] = ("ktp_el", "kk", "akta_kelahiran", "rawat_jalan")
SERVICE_UNITS = {"ktp_el": "days", "kk": "days", "akta_kelahiran": "days", "rawat_jalan": "minutes"}
TIME_UNITS: tuple[str, ...] = ("days", "minutes")
IKM_COLUMNS: tuple[str, ...] = tuple(f"u{k}" for k in range(1, len(IKM_ELEMENTS) + 1))


@dataclass(frozen=True)
class Column:
    """One contract column: its parser ``kind`` and what values it may hold.

    ``kind`` is one of ``str``, ``int``, ``float``, ``money``, ``date``, ``month``,
    ``category``, ``nip``. ``required=False`` columns may be absent from the file;
    ``nullable`` says whether an empty cell is accepted.
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    values: tuple[str, ...] = ()
    ordered: bool = False
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Table:
    """One contract table: columns, key and references to other tables."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # column -> table

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _cat(name: str, values: tuple[str, ...], **kw) -> Column:
    return Column(name, "category", values=values, **kw)


CONTRACT: dict[str, Table] = {
    "agencies": Table(
        "agencies",
        (
            Column("agency_code", "str"),
            Column("agency_name", "str"),
            _cat("agency_type", AGENCY_TYPES),
        ),
        key=("agency_code",),
    ),
    "employees": Table(
        "employees",
        (
            Column("nip", "nip"),
            Column("name", "str", required=False, nullable=True),
            Column("agency_code", "str"),
            Column("birth_date", "date"),
            _cat("sex", SEXES),
            _cat("education", EDUCATION_LEVELS, ordered=True),
            _cat("rank", PNS_RANKS + PPPK_GRADES),
            _cat("position_type", POSITION_TYPES),
            _cat("employment_type", EMPLOYMENT_TYPES),
            Column("service_start", "date"),
            Column("service_end", "date", required=False, nullable=True),
        ),
        key=("nip",),
        references={"agency_code": "agencies"},
    ),
    "performance": Table(
        "performance",
        (
            Column("nip", "nip"),
            Column("year", "int", minimum=1990, maximum=2100),
            Column("agency_code", "str"),
            # worst first, so that "<" and max() follow the predicate order (PermenPANRB 6/2022)
            _cat("skp_predicate", tuple(reversed(SKP_PREDICATES)), ordered=True, nullable=True),
            Column("skp_score", "float", required=False, nullable=True, minimum=0, maximum=100),
            Column("absence_days", "int", minimum=0, maximum=366),
            _cat("sanction_level", SANCTION_LEVELS),
        ),
        key=("nip", "year"),
        references={"nip": "employees", "agency_code": "agencies"},
    ),
    "training": Table(
        "training",
        (
            Column("nip", "nip"),
            Column("date", "date"),
            Column("jp", "float", minimum=0.5, maximum=1000),
            _cat("type", TRAINING_TYPES),
            _cat("route", TRAINING_ROUTES),
        ),
        references={"nip": "employees"},
    ),
    "policies": Table(
        "policies",
        (Column("agency_code", "str"), *(Column(p, "date", nullable=True) for p in POLICIES)),
        key=("agency_code",),
        references={"agency_code": "agencies"},
    ),
    "digital_adoption": Table(
        "digital_adoption",
        (Column("nip", "nip"), Column("first_use", "date", nullable=True)),
        key=("nip",),
        references={"nip": "employees"},
    ),
    "services": Table(
        "services",
        (
            Column("agency_code", "str"),
            Column("month", "month"),
            _cat("service", SERVICES),
            Column("requests", "int", minimum=0),
            Column("completed", "int", minimum=0),
            Column("median_time", "float", minimum=0),
            _cat("time_unit", TIME_UNITS),
            Column("share_within_standard", "float", minimum=0, maximum=1),
            Column("complaints", "int", minimum=0),
        ),
        key=("agency_code", "month", "service"),
        references={"agency_code": "agencies"},
    ),
    "satisfaction": Table(
        "satisfaction",
        (
            Column("respondent_id", "str"),
            Column("agency_code", "str"),
            Column("period", "str"),
            *(Column(u, "int", minimum=1, maximum=4) for u in IKM_COLUMNS),
        ),
        key=("respondent_id",),
        references={"agency_code": "agencies"},
    ),
    "budget": Table(
        "budget",
        (
            Column("agency_code", "str"),
            Column("year", "int", minimum=1990, maximum=2100),
            Column("training_budget", "money", minimum=0),
            Column("training_places", "int", minimum=0),
            Column("headcount", "int", minimum=0),
        ),
        key=("agency_code", "year"),
        references={"agency_code": "agencies"},
    ),
}
