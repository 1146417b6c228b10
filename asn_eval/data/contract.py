"""The data contract: tables, columns, keys and allowed values, in one place.

A real export is mapped to these names (see ``data/README.md`` and the mapping YAML);
the synthetic generator writes them directly. Input files carry ``nip`` and ``name``;
after loading, ``nip`` is replaced by ``employee_id`` and ``name`` is dropped
(:mod:`asn_eval.data.pseudonymise`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asn_eval.domain.regulations import (
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
# Optional tables: read when their file is in the folder, their absence changes nothing.
# comparison_services: the monthly services of the other Dukcapil offices of the province,
# the comparison group of the city's own office (chapter 3's synthetic DiD).
COMPARISON_TABLE = "comparison_services"
OPTIONAL_TABLES: tuple[str, ...] = (COMPARISON_TABLE,)
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
# IKM surveys are reported per semester (PermenPANRB 14/2017): "2024-S1", "2024-S2".
IKM_PERIOD_PATTERN = r"\d{4}-S[12]"

# How SQL and spreadsheet exports write an empty cell. In a column that may be empty these
# read as empty (compared trimmed and ignoring case); in any other column they are rejected
# like any other value that is not of the column's type.
NULL_SPELLINGS: tuple[str, ...] = ("null", "-", "n/a", "na", "#n/a")

# Every rule a rejected row can carry in rejects.csv, with what it means (data/README.md
# shows the same list).
RULES: dict[str, str] = {
    "wrong_cell_count": "the line has more or fewer cells than the header (a stray separator)",
    "duplicate_row": "the line repeats an earlier line exactly; the first is kept",
    "duplicate_key_flawed": "another line has the same key and no value set aside; it is kept",
    "missing_value": "a required cell is empty",
    "invalid_number": "the cell is not a number",
    "invalid_date": "the cell is not a date, or a date that does not exist",
    "invalid_category": "the cell is not one of the column's labels",
    "invalid_period": "an IKM period that is not YYYY-S1 or YYYY-S2",
    "out_of_range": "below the column's minimum or above its maximum",
    "outside_years": "a year (or month, or period) outside the years in metadata.yaml",
    "after_data_date": "a date after the data date in metadata.yaml",
    "service_end_before_start": "the end of service lies before its start",
    "wrong_time_unit": "a service time measured in a unit the contract does not allow for it",
    "completed_exceeds_requests": "more requests completed than received",
    "nip_format": "the NIP is not 18 digits",
    "nip_as_number": "the NIP was stored as a number (e.g. 1.97610E+17): its digits are lost",
    "nip_birth_date": "the NIP's first eight digits are not a date",
    "nip_appointment": "the NIP's appointment month is not a month, or is before age 18",
    "nip_sex_digit": "the NIP's 15th digit is neither 1 (male) nor 2 (female)",
    "unknown_employee": "the NIP is not in the employees table",
    "unknown_agency": "the agency code is not in the agencies table",
    "rejected_employee": "the NIP's own row in the employees table was rejected ('cause' names it)",
    "rejected_agency": "the agency's own row in the agencies table was rejected ('cause' names it)",
    "no_row_for_year": "a line of a file the mapping adds to a table (a discipline history, an "
    "attendance recap) whose employee and year have no row in that table",
}


@dataclass(frozen=True)
class Column:
    """One contract column: its parser ``kind`` and what values it may hold.

    ``kind`` is one of ``str``, ``int``, ``float``, ``money``, ``date``, ``month``,
    ``category``, ``nip``, ``period`` (``YYYY-S1``/``YYYY-S2``). ``required=False`` columns
    may be absent from the file; ``nullable`` says whether an empty cell is accepted (the
    :data:`NULL_SPELLINGS` then count as empty). ``in_years`` values must fall in the
    dataset's years; ``until_data_date`` dates must not lie after its data date.

    ``field_reject`` says what a bad or empty cell sets aside: with ``True`` only the value
    (the cell becomes missing, the row stays, rejects.csv lists the cell), so that a typo in
    an employee's education does not remove the employee, and with them every row that
    refers to them in other tables. The rule for choosing it: only a descriptive column
    whose missing value every analysis reads as "unknown". A key or reference column, a
    column that places a row (in time or among the agencies), a measure an analysis
    sums or estimates on, and a column whose empty cell means something (no sanction, a
    policy never adopted) keep ``False``: their bad value sets the whole row aside.
    :class:`Table` refuses ``field_reject`` on its key and reference columns.
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    values: tuple[str, ...] = ()
    ordered: bool = False
    minimum: float | None = None
    maximum: float | None = None
    in_years: bool = False
    until_data_date: bool = False
    field_reject: bool = False


@dataclass(frozen=True)
class Table:
    """One contract table: columns, key and references to other tables."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # column -> table

    def __post_init__(self) -> None:
        structural = set(self.key) | set(self.references)
        wrong = [c.name for c in self.columns if c.field_reject and c.name in structural]
        if wrong:
            raise ValueError(f"{self.name}: key or reference columns {wrong} must reject rows")

    @property
    def field_rejects(self) -> frozenset[str]:
        """Columns whose bad value sets aside only the value (see :class:`Column`)."""
        return frozenset(c.name for c in self.columns if c.field_reject)

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
            # Age and age band are missing for a missing birth date (panels, adoption).
            Column("birth_date", "date", until_data_date=True, field_reject=True),
            # Descriptive columns, read as "unknown" when missing: chapter 1's shares (female,
            # PPPK, degree) are over the employees whose value is known, its bars skip the
            # unknown, the golongan is taken from the rank itself, and chapter 4's subgroup
            # estimates leave out (and count) employees without a group. A typo in one of
            # them sets aside only that value, not the employee and their other rows.
            _cat("sex", SEXES, field_reject=True),
            _cat("education", EDUCATION_LEVELS, ordered=True, field_reject=True),
            _cat("rank", PNS_RANKS + PPPK_GRADES, field_reject=True),
            _cat("position_type", POSITION_TYPES, field_reject=True),
            _cat("employment_type", EMPLOYMENT_TYPES, field_reject=True),
            Column("service_start", "date", until_data_date=True),
            Column("service_end", "date", required=False, nullable=True),
        ),
        key=("nip",),
        references={"agency_code": "agencies"},
    ),
    "performance": Table(
        "performance",
        (
            Column("nip", "nip"),
            Column("year", "int", minimum=1990, maximum=2100, in_years=True),
            Column("agency_code", "str"),
            # worst first, so that "<" and max() follow the predicate order (PermenPANRB 6/2022)
            _cat("skp_predicate", tuple(reversed(SKP_PREDICATES)), ordered=True, nullable=True),
            # The predicate decides "SKP Baik or better" when present, the score otherwise.
            Column(
                "skp_score",
                "float",
                required=False,
                nullable=True,
                minimum=0,
                maximum=100,
                field_reject=True,
            ),
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
            Column("date", "date", until_data_date=True),
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
        (Column("nip", "nip"), Column("first_use", "date", nullable=True, until_data_date=True)),
        key=("nip",),
        references={"nip": "employees"},
    ),
    "services": Table(
        "services",
        (
            Column("agency_code", "str"),
            Column("month", "month", in_years=True),
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
    COMPARISON_TABLE: Table(
        COMPARISON_TABLE,
        (
            Column("office_code", "str"),
            Column("office_name", "str"),
            Column("month", "month", in_years=True),
            _cat("service", SERVICES[:3]),
            Column("requests", "int", minimum=0),
            Column("completed", "int", minimum=0),
            Column("median_time", "float", minimum=0),
            _cat("time_unit", TIME_UNITS[:1]),
            Column("share_within_standard", "float", minimum=0, maximum=1),
            Column("complaints", "int", minimum=0),
        ),
        key=("office_code", "month", "service"),
    ),
    "satisfaction": Table(
        "satisfaction",
        (
            Column("respondent_id", "str"),
            Column("agency_code", "str"),
            Column("period", "period", in_years=True),
            *(Column(u, "int", minimum=1, maximum=4) for u in IKM_COLUMNS),
        ),
        key=("respondent_id",),
        references={"agency_code": "agencies"},
    ),
    "budget": Table(
        "budget",
        (
            Column("agency_code", "str"),
            Column("year", "int", minimum=1990, maximum=2100, in_years=True),
            Column("training_budget", "money", minimum=0),
            Column("training_places", "int", minimum=0),
            Column("headcount", "int", minimum=0),
        ),
        key=("agency_code", "year"),
        references={"agency_code": "agencies"},
    ),
}
