"""Helpers shared by test modules (importable as ``support``: pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
from nbformat.v4 import new_code_cell, new_notebook

from asn_eval.config import CHAPTERS
from asn_eval.data.contract import POLICIES
from asn_eval.domain.regulations import SKP_PREDICATES

YEARS = [2019, 2020, 2021, 2022, 2023, 2024]


def make_dataset(
    *,
    n_agencies: int = 12,
    per_agency: int = 20,
    years: list[int] = YEARS,
    effect: float = 0.0,
    seed: int = 1,
) -> SimpleNamespace:
    """A small dataset that follows the data contract of ``asn_eval.data``.

    Agencies adopt the four policies in staggered years (a third never). The share of SKP
    "Baik or better" rises by ``effect`` (a probability) once performance appraisal is in force.
    """
    rng = np.random.default_rng(seed)
    types = ["dinas", "badan", "kecamatan", "puskesmas"]
    codes = [f"A{i:02d}" for i in range(n_agencies)]
    agencies = pd.DataFrame(
        {
            "agency_code": codes,
            "agency_name": [f"Agency {i}" for i in range(n_agencies)],
            "agency_type": pd.Categorical([types[i % 4] for i in range(n_agencies)]),
        }
    )
    adoption_years = [2021, 2022, 2023, 0]
    policies = {"agency_code": codes}
    for k, policy in enumerate(POLICIES):
        starts = []
        for i in range(n_agencies):
            y = adoption_years[(i + k) % 4]
            starts.append(pd.Timestamp(year=y, month=3 + k, day=1) if y else pd.NaT)
        policies[policy] = pd.to_datetime(pd.Series(starts))
    policies = pd.DataFrame(policies)

    n = n_agencies * per_agency
    employee_id = [f"{i:016x}" for i in range(n)]
    agency_of = np.repeat(codes, per_agency)
    birth_year = rng.integers(1965, 2000, n)
    employees = pd.DataFrame(
        {
            "employee_id": employee_id,
            "agency_code": agency_of,
            "birth_date": pd.to_datetime([f"{y}-06-15" for y in birth_year]),
            "sex": rng.choice(["L", "P"], n),
            "education": pd.Categorical(
                rng.choice(["SMA", "D3", "S1", "S2"], n),
                categories=["SD", "SMP", "SMA", "D1", "D2", "D3", "D4", "S1", "S2", "S3"],
                ordered=True,
            ),
            "rank": rng.choice(["II/a", "III/a", "III/b", "IV/a"], n),
            "position_type": rng.choice(["struktural", "fungsional", "pelaksana"], n),
            "employment_type": rng.choice(["PNS", "PPPK"], n, p=[0.8, 0.2]),
            "service_start": pd.to_datetime([f"{y + 22}-01-01" for y in birth_year]),
            "service_end": pd.NaT,
            "nip_flag": "",
        }
    )
    pa_year = policies.set_index("agency_code")["performance_appraisal"].dt.year
    rows = []
    for year in years:
        for i in range(n):
            code = agency_of[i]
            treated = pa_year[code] <= year if not np.isnan(pa_year[code]) else False
            p_good = 0.5 + (effect if treated else 0.0)
            good = rng.random() < p_good
            predicate = SKP_PREDICATES[int(rng.integers(0, 2))] if good else SKP_PREDICATES[2]
            absence = int(rng.poisson(2))
            rows.append(
                (
                    employee_id[i],
                    year,
                    code,
                    predicate,
                    absence,
                    "ringan" if absence >= 3 else "none",
                )
            )
    performance = pd.DataFrame(
        rows,
        columns=[
            "employee_id",
            "year",
            "agency_code",
            "skp_predicate",
            "absence_days",
            "sanction_level",
        ],
    )
    performance["skp_predicate"] = pd.Categorical(
        performance["skp_predicate"], categories=list(SKP_PREDICATES)[::-1], ordered=True
    )
    m = 3 * n * len(years)
    training = pd.DataFrame(
        {
            "employee_id": rng.choice(employee_id, m),
            "date": pd.to_datetime(
                [
                    f"{y}-{mo:02d}-10"
                    for y, mo in zip(rng.choice(years, m), rng.integers(1, 13, m), strict=True)
                ]
            ),
            "jp": rng.choice([2.0, 4.0, 8.0, 16.0], m),
            "type": rng.choice(["teknis", "fungsional", "seminar", "workshop"], m),
            "route": rng.choice(["klasikal", "e-learning", "nonklasikal lain"], m),
        }
    )
    budget = pd.DataFrame(
        [
            (c, y, 1e6 * (10 + i), 5 * (i + 1), per_agency)
            for i, c in enumerate(codes)
            for y in years
        ],
        columns=["agency_code", "year", "training_budget", "training_places", "headcount"],
    )
    months = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-01", freq="MS")
    services = pd.DataFrame(
        [(codes[0], mth, "ktp_el", 100, 95, 5.0, "days", 0.8, 2) for mth in months],
        columns=[
            "agency_code",
            "month",
            "service",
            "requests",
            "completed",
            "median_time",
            "time_unit",
            "share_within_standard",
            "complaints",
        ],
    )
    sat = pd.DataFrame(
        {
            "respondent_id": range(8),
            "agency_code": [codes[0]] * 4 + [codes[1]] * 4,
            "period": ["2024-S1", "2024-S1", "2024-S2", "2024-S2"] * 2,
            **{f"u{i}": [3, 3, 3, 3, 4, 4, 4, 4] for i in range(1, 10)},
        }
    )
    digital = pd.DataFrame(
        {
            "employee_id": employee_id,
            "first_use": pd.to_datetime(
                [
                    pd.Timestamp(f"{years[-2]}-{1 + i % 12:02d}-01") if i % 5 else pd.NaT
                    for i in range(n)
                ]
            ),
        }
    )
    return SimpleNamespace(
        tables={
            "agencies": agencies,
            "employees": employees,
            "performance": performance,
            "training": training,
            "policies": policies,
            "budget": budget,
            "services": services,
            "satisfaction": sat,
            "digital_adoption": digital,
        },
        years=list(years),
        synthetic=True,
        metadata={
            "synthetic": True,
            "region": "Kota Kupang",
            "years": [years[0], years[-1]],
            "data_date": "2025-01-31",
            "description": "test data",
        },
        quality=pd.DataFrame(
            {"table": ["employees"], "read": [n + 2], "accepted": [n], "rejected": [2]}
        ),
        rejects=pd.DataFrame(columns=["file", "line", "column", "value", "rule"]),
    )


PARAMETERS_SOURCE = 'data_dir = "."\nyear = 2000\nlang = "id"\nseed = 0\noutput_dir = "."'


def write_chapters(folder: Path, *, broken: int | None = None) -> Path:
    """Five tiny stand-in chapter notebooks (two labelled headings and a one-row table each),
    so that a report build can be tested in seconds; chapter ``broken`` raises
    ZeroDivisionError. The headings carry labels as a chapter's do
    (asn_eval.report.labels), so the report's contents link to them."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, (stem, key) in enumerate(CHAPTERS, start=1):
        nb = new_notebook()
        params = new_code_cell(PARAMETERS_SOURCE)
        params.metadata["tags"] = ["parameters"]
        body = new_code_cell(
            "import pandas as pd\n"
            "from asn_eval.report.labels import heading_html, show\n"
            f'for n, (level, title) in enumerate([(1, "Chapter {number}: {key}"), '
            f'(2, "Part {number}.1")], start=1):\n'
            "    show(heading_html(level, title), 'heading', level=level, text=title, "
            f"anchor=f'ch{number}-h{{n}}')\n"
            'pd.DataFrame({"year": [year], "lang": [lang], "seed": [seed]})'
        )
        cells = [params, body]
        if number == broken:
            cells.append(new_code_cell("ratio = 1 / 0"))
        nb.cells = cells
        nbformat.write(nb, str(folder / f"{stem}.ipynb"))
    return folder


def stand_in_dataset(years: list[int] | None = None) -> SimpleNamespace:
    """What ``check_inputs`` returns, for build tests that replace the data check: the
    account of a clean dataset (no rejects) without any tables."""
    return SimpleNamespace(
        years=years or [2024, 2025],
        metadata={},
        rejects=pd.DataFrame(columns=["table", "file", "line", "column", "rule"]),
        set_aside_counts=lambda: (0, 0),
    )


def soffice() -> str | None:
    """LibreOffice's command line program, or None when it is not installed."""
    import shutil

    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(path: Path, out_dir: Path, *, timeout: int = 300) -> Path:
    """``path`` printed to PDF by LibreOffice headless, in a profile of its own (parallel
    runs would otherwise share one and fail)."""
    import subprocess

    profile = out_dir / "lo-profile"
    result = subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    pdf = out_dir / (Path(path).stem + ".pdf")
    assert result.returncode == 0 and pdf.is_file(), result.stdout + result.stderr
    return pdf


def docx_paragraphs(path: Path) -> list[str]:
    """The text of every paragraph of a Word document, its tables' cells and its headers
    and footers included, as a reader sees it (field instructions left out)."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document(str(path))
    parts = [document.element.body]
    for section in document.sections:
        parts += [section.header._element, section.footer._element]
    return [
        "".join(t.text or "" for t in paragraph.iter(qn("w:t")))
        for part in parts
        for paragraph in part.iter(qn("w:p"))
    ]
