"""``datapackage.json``: the report's table CSVs described as one Frictionless Data Package.

Every table CSV (``tables/<chapter>-<number>_<slug>.csv``, and the workbook's extra sheets
``tables/sheets/<key>.csv``) is plain CSV: UTF-8, the header on the first line, a decimal
point and no thousands separator, an empty cell where a value is missing or withheld. What
a reader needs to use the numbers is in one file at the top of the report folder,
``datapackage.json``, a Tabular Data Package (https://specs.frictionlessdata.io/data-package/):
one resource per CSV, named by its file stem, with the caption as the report numbers it in
the report's language (``title``), its note (``description``) and a Table Schema. Each field
has its ``type`` (``integer``, ``number``, ``string``, ``boolean``, ``year`` or ``date``,
read from what the column holds), its heading in the report (``title``) and, in English like
the column names, a ``description`` of what neither says: the unit, that a share is a
proportion 0-1, that a ``<column>_suppressed`` flag marks a cell withheld for privacy.

The unit is a custom field property, ``unit`` (the words of :data:`UNIT_WORDS`: "days",
"percentage points", "proportion 0-1", ...), so that a program reads it without parsing
prose; it comes from the table's spec or from the unit suffix of the column name
(``median_months``). Two more custom field properties say how the report shows a value:
``kind`` (text, integer, number, share, pvalue, boolean) and ``decimals``, which the workbook
(:mod:`asn_eval.report.workbook`) reads. A resource's custom ``chapter``, ``number``, ``slug``
and ``caption`` (without its number) place it in the report. ``missingValues`` is the empty
string only, so a text cell "NA" stays text. The package names the dataset it was computed
from under ``sources`` and says whether it is synthetic (``synthetic``, and the report's
synthetic-data notice as ``description``); ``licenses`` comes from a ``license`` in the
dataset's ``metadata.yaml`` (an Open Definition id such as ``CC-BY-4.0``, or a URL) when it
has one.

The chapters run in kernels of their own, so no chapter can write the package: each saved
table leaves its resource in ``<output folder>/.datapackage-resources/<name>.json``
(:func:`stage_resource`), and at the end of the build :func:`write_data_package` folds them
into ``datapackage.json`` and removes that folder. The package is deterministic: resources
sorted by chapter and number (then the extra sheets by name), fields in CSV order, keys in a
fixed order, and one date, ``created``, which is the report's issue date (the date on its
cover: today, or ``SOURCE_DATE_EPOCH``), so two builds of the same data on the same day give
the same bytes. It is only ever created, never replaced: the report build writes it in its
new build folder, and :func:`write_data_package` refuses a folder that already holds one.

Read a table with ``pd.read_csv("tables/3-1_overall_effects.csv")`` (R:
``read.csv("tables/3-1_overall_effects.csv")``); check the whole folder with
``frictionless validate datapackage.json``.

Examples
--------
>>> field_unit({"name": "median_months", "unit": ""})
'months'
>>> field_unit({"name": "female_share", "unit": "share"})
'proportion 0-1'
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import pandas as pd

PACKAGE_FILE = "datapackage.json"
# Resources of the tables saved so far, waiting for the end of the build (hidden, and gone
# from a finished report).
STAGING_DIR = ".datapackage-resources"
# Unit suffixes of CSV column names and the words that name them.
UNIT_WORDS = {
    "share": "proportion 0-1",
    "pp": "percentage points",
    "jp": "JP (training hours)",
    "days": "days",
    "months": "months",
    "minutes": "minutes",
    "points": "index points",
    "rupiah": "rupiah",
    "count": "count",
    "years": "years",
}
SUPPRESSED_SUFFIX = "_suppressed"
MISSING_VALUES = [""]
# How the report shows a column (tidy_frame's kind) -> its Table Schema type.
_TYPES = {
    "text": "string",
    "integer": "integer",
    "number": "number",
    "share": "number",
    "pvalue": "number",
    "boolean": "boolean",
}
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBERED = re.compile(r"^(\d+)-(\d+)_")
_NAME_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def field_unit(column: Mapping) -> str | None:
    """The unit words of a described column: its spec's unit, else its name's unit suffix."""
    unit = column.get("unit") or ""
    if not unit:
        name = str(column["name"])
        suffix = name.rsplit("_", 1)[-1]
        unit = suffix if suffix in UNIT_WORDS and suffix != name else ""
    return UNIT_WORDS.get(unit, unit) or None


def _field_type(kind: str, values: Iterable) -> str:
    """A column's Table Schema type: its kind's, except text that holds only years or dates."""
    if kind != "text":
        return _TYPES[kind]
    written = [str(v) for v in values if not _is_missing(v)]
    if written and all(_YEAR.match(v) for v in written):
        return "year"
    if written and all(_DATE.match(v) for v in written):
        return "date"
    return "string"


def _is_missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _row_units() -> str:
    return "; ".join(k if k == v else f"{k} = {v}" for k, v in UNIT_WORDS.items())


def _description(column: Mapping, unit: str | None, row_unit: str | None) -> str | None:
    """What a field's type and title do not say, in English like the column names."""
    name, kind = str(column["name"]), column["kind"]
    if name.endswith(SUPPRESSED_SUFFIX) and kind == "boolean":
        shown = name.removesuffix(SUPPRESSED_SUFFIX)
        return (
            f"True where the value of {shown} is withheld for privacy (a statistic of too few "
            "employees); that cell is empty."
        )
    if kind == "share":
        return "A proportion from 0 to 1 (the report shows it as a percentage)."
    if kind == "pvalue":
        return "A p-value, from 0 to 1."
    if name == row_unit:
        return f"The unit of this row's estimates: {_row_units()}."
    if unit:
        return f"In {unit}."
    if kind == "number" and row_unit:
        return f"In the unit that column {row_unit} names on the same row."
    return None


def table_fields(columns: list[dict], data: pd.DataFrame) -> list[dict]:
    """The Table Schema fields of a table: its described columns (:func:`tidy_frame`) and the
    frame written to its CSV."""
    units = [c["name"] for c in columns if c["kind"] == "text" and c["name"].endswith("_unit")]
    row_unit = units[0] if len(units) == 1 else None
    fields = []
    for column in columns:
        unit = field_unit(column)
        field = {
            "name": column["name"],
            "type": _field_type(column["kind"], data[column["name"]].tolist()),
            "title": column["label"],
        }
        description = _description(column, unit, row_unit)
        if description:
            field["description"] = description
        if unit:
            field["unit"] = unit
        field["kind"] = column["kind"]
        if column.get("digits") is not None:
            field["decimals"] = int(column["digits"])
        fields.append(field)
    return fields


def table_resource(
    *,
    name: str,
    path: str,
    title: str,
    caption: str,
    note: str | None,
    columns: list[dict],
    data: pd.DataFrame,
    chapter: str | None = None,
    number: int | None = None,
    slug: str | None = None,
) -> dict:
    """The Data Package resource of one table CSV.

    ``name`` is the file stem; ``path`` is relative to the report folder
    (``tables/3-1_overall_effects.csv``); ``title`` the caption as the report prints it
    (numbered), ``caption`` the same without its number; ``columns`` the described columns
    and ``data`` the frame written to the CSV. ``chapter``, ``number`` and ``slug`` place a
    numbered table in the report (the extra sheets of the workbook have none of them).
    """
    resource: dict = {
        "name": name,
        "path": path,
        "profile": "tabular-data-resource",
        "title": title,
    }
    if note:
        resource["description"] = note
    resource |= {"format": "csv", "encoding": "utf-8", "mediatype": "text/csv"}
    if chapter is not None:
        resource |= {"chapter": str(chapter), "number": int(number), "slug": slug}
    resource["caption"] = caption
    resource["schema"] = {"fields": table_fields(columns, data), "missingValues": MISSING_VALUES}
    return resource


def stage_resource(output_dir: str | Path, resource: Mapping) -> Path:
    """Keep ``resource`` in the output folder until :func:`write_data_package` folds it in."""
    folder = Path(output_dir) / STAGING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{resource['name']}.json"
    path.write_text(json.dumps(resource, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def resource_order(resource: Mapping) -> tuple:
    """Numbered tables by chapter and number, then the other sheets by name."""
    match = _NUMBERED.match(resource["name"])
    if match:
        return (0, int(match.group(1)), int(match.group(2)), resource["name"])
    return (1, 0, 0, resource["name"])


def package_name(metadata: Mapping, *, year: int, lang: str) -> str:
    """``asn-eval-<dataset>-<year>-<lang>``, lower case as Frictionless names are."""
    dataset = _NAME_UNSAFE.sub("-", str(metadata.get("name") or "").lower()).strip("-.")
    return "-".join(part for part in ("asn-eval", dataset, str(year), lang) if part)


def _licenses(metadata: Mapping) -> list[dict]:
    licence = str(metadata.get("license") or "").strip()
    if not licence:
        return []
    return [{"path": licence} if "://" in licence else {"name": licence}]


def data_package(
    resources: list[dict], *, lang: str, year: int, metadata: Mapping, created: date
) -> dict:
    """The package of ``resources`` for the report of ``year`` in ``lang`` on the dataset
    described by ``metadata`` (its ``metadata.yaml``)."""
    from asn_eval.report.narrative import text

    synthetic = bool(metadata.get("synthetic", False))
    title = f"{text('report.title', lang)}: {text('report.subtitle', lang, year=year)}"
    region = metadata.get("region")
    package: dict = {
        "profile": "tabular-data-package",
        "name": package_name(metadata, year=year, lang=lang),
        "title": f"{title}, {region}" if region else title,
    }
    if synthetic:
        package["description"] = text("report.synthetic_notice", lang)
    package["created"] = f"{created.isoformat()}T00:00:00Z"
    package["language"] = lang
    package["synthetic"] = synthetic
    source = {"title": str(metadata.get("name") or region or "asn-eval dataset")}
    if synthetic and metadata.get("notice"):
        source["title"] += f" ({metadata['notice']})"
    if metadata.get("description"):
        source["description"] = " ".join(str(metadata["description"]).split())
    package["sources"] = [source]
    licenses = _licenses(metadata)
    if licenses:
        package["licenses"] = licenses
    package["resources"] = sorted(resources, key=resource_order)
    return package


def _staged(folder: Path) -> list[dict]:
    staged = sorted((folder / STAGING_DIR).glob("*.json"))
    return [json.loads(path.read_text(encoding="utf-8")) for path in staged]


def write_data_package(
    output_dir: str | Path, *, lang: str, year: int, metadata: Mapping, created: date
) -> Path | None:
    """Fold the staged resources of ``output_dir`` into its ``datapackage.json``.

    Returns the path, or None when no table was saved. The staging folder is removed.

    Raises
    ------
    FileExistsError
        When ``output_dir`` already holds a ``datapackage.json``: it is never replaced.
    ValueError
        When the described CSVs are not exactly the CSVs under ``tables/``.
    """
    folder = Path(output_dir)
    resources = _staged(folder)
    described = sorted(r["path"] for r in resources)
    written = sorted(p.relative_to(folder).as_posix() for p in (folder / "tables").rglob("*.csv"))
    if described != written:
        undescribed = sorted(set(written) - set(described))
        missing = sorted(set(described) - set(written))
        raise ValueError(
            f"datapackage.json would not describe the tables of {folder}: CSVs without a "
            f"description {undescribed}, descriptions without a CSV {missing}. Table CSVs "
            "are written by asn_eval.report.tables.save_table (or workbook.add_sheet), which "
            "also describes them."
        )
    path = folder / PACKAGE_FILE
    if path.exists() or path.is_symlink():
        raise FileExistsError(f"{path} exists already; asn-eval does not replace it.")
    if resources:
        package = data_package(resources, lang=lang, year=year, metadata=metadata, created=created)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(json.dumps(package, ensure_ascii=False, indent=2) + "\n")
    shutil.rmtree(folder / STAGING_DIR, ignore_errors=True)
    return path if resources else None


def read_data_package(output_dir: str | Path) -> dict | None:
    """The content of ``output_dir/datapackage.json``, or None when there is none."""
    path = Path(output_dir) / PACKAGE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
