"""Assemble executed chapter notebooks into one report document (HTML and PDF).

The document carries the chapters' outputs only, never their code: prose, numbered
figures and tables, in report order, behind a cover page and a table of contents. The
HTML is self-contained (figures embedded as data URIs, styles inline) and deterministic
for the same notebook outputs; the PDF is printed from the same HTML by WeasyPrint,
with page numbers and a running synthetic-data notice when it applies.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import nbformat

from asn_eval import __version__

ASSETS = Path(__file__).resolve().parent / "assets"
# Cells a researcher reads in the notebook but the report leaves out: the parameters, and the
# analysis shown with its calls and result objects ("research"); the report carries the
# chapter's rendered prose, figures and tables only.
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-output", "hide-output", "research"}
# Output types in order of preference: the richest representation wins.
MIME_ORDER = ("text/html", "text/markdown", "image/png", "image/svg+xml", "text/plain")
# Anchors of the lists of figures and of tables, for their entries in the contents.
FIGURES_ANCHOR = "list-of-figures"
TABLES_ANCHOR = "list-of-tables"


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


SHELL_KEYS = (
    "issued_label",
    "figures",
    "tables",
    "title",
    "region_label",
    "year_label",
    "data_date_label",
    "contents",
    "page",
    "of",
    "synthetic_notice",
    "synthetic_short",
    "contact_label",
)


def shell_strings(lang: str, *, year: int, issuer: dict | None = None) -> dict[str, str]:
    """Words of the cover, contents and running header, from the report's templates; with
    metadata.yaml's ``issuer`` block, the cover's "Diterbitkan oleh <office>" line."""
    from asn_eval.report.narrative import text

    strings = {key: text(f"report.{key}", lang) for key in SHELL_KEYS}
    strings["subtitle"] = text("report.subtitle", lang, year=year)
    strings["produced_by"] = text("report.produced_by", lang, version=__version__)
    if issuer and issuer.get("office"):
        strings["issued_by"] = text("report.issued_by", lang, office=issuer["office"])
    return strings


def render_markdown(text: str) -> str:
    import mistune

    return mistune.html(text)


def output_to_html(output: dict) -> str:
    """HTML for one notebook output; empty for what a reader should not see."""
    kind = output.get("output_type")
    if kind == "stream":
        # stderr carries warnings meant for developers, not for the report's readers.
        if output.get("name") == "stdout" and output.get("text", "").strip():
            return f'<pre class="stream">{html.escape(output["text"])}</pre>'
        return ""
    if kind not in ("display_data", "execute_result"):
        return ""
    data = output.get("data", {})
    for mime in MIME_ORDER:
        if mime not in data:
            continue
        value = data[mime]
        value = "".join(value) if isinstance(value, list) else value
        if mime == "text/html":
            return value
        if mime == "text/markdown":
            return render_markdown(value)
        if mime == "image/png":
            return f'<img alt="" src="data:image/png;base64,{value.strip()}">'
        if mime == "image/svg+xml":
            return value
        if mime == "text/plain":
            # A bare matplotlib repr ("<Figure size ...>") says nothing to a reader.
            if value.startswith("<") and value.endswith(">"):
                return ""
            return f"<pre>{html.escape(value)}</pre>"
    return ""


@dataclass(frozen=True)
class Caption:
    kind: str  # "figure" or "table"
    anchor: str
    text: str


@dataclass(frozen=True)
class ChapterPieces:
    """One chapter as the document prints it: its body, and what the cover pages list."""

    body: str
    headings: list[Heading]
    captions: list[Caption]
    summaries: list[str]
    # Entries the contents list before chapter 1 (the executive summary), by their labels.
    front: tuple[Heading, ...] = ()


def printed_figure(label: dict, folder: Path) -> str | None:
    """The figure of a ``figure`` label with its print file (``folder/figures/...``, 300 dpi)
    in place of the screen copy the notebook shows; None when the print file is missing."""
    from asn_eval.report.figures import figure_html

    path = folder / label["print_src"]
    if not path.is_file():
        return None
    return figure_html(
        path.read_bytes(),
        caption=label["caption"],
        width_in=label.get("width_in"),
        anchor=label.get("anchor"),
    )


def chapter_pieces(path: Path) -> ChapterPieces:
    """The visible outputs of one executed notebook, in cell order, each taken by the label
    the chapter gave it (:mod:`asn_eval.report.labels`): headings with their anchors, figures
    printed from their 300 dpi files, tables with an anchor on their caption, and the
    executive summary lifted out (chapter 5 draws it from the findings) so the document can
    print it right after the cover. Outputs without a label are shown as they are."""
    from asn_eval.report.labels import heading_html, label_of
    from asn_eval.report.tables import anchor_caption

    nb = nbformat.read(str(path), as_version=4)
    folder = path.parent.parent
    parts: list[str] = []
    headings: list[Heading] = []
    captions: list[Caption] = []
    summaries: list[str] = []
    front: list[Heading] = []
    for cell in nb.cells:
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            continue
        if cell.cell_type == "markdown":
            parts.append(render_markdown(cell.source))
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            label = label_of(output)
            kind = label.get("kind")
            fragment = output_to_html(output)
            if kind == "summary":
                summaries.append(fragment)
                if label.get("anchor") and label.get("title"):
                    front.append(Heading(level=1, anchor=label["anchor"], text=label["title"]))
                parts.append("")  # its place in the chapter stays an empty line
                continue
            if kind == "heading":
                anchor, text = label["anchor"], label["text"]
                headings.append(Heading(level=label["level"], anchor=anchor, text=text.strip()))
                fragment = heading_html(label["level"], text, anchor)
            elif kind == "figure":
                fragment = printed_figure(label, folder) or fragment
            elif kind == "table":
                fragment = anchor_caption(fragment, label["anchor"])
            if kind in ("figure", "table") and label.get("anchor"):
                text = " ".join(label["caption"].split())
                captions.append(Caption(kind=kind, anchor=label["anchor"], text=text))
            if fragment:
                parts.append(f'<div class="output-block">{fragment}</div>')
    return ChapterPieces(
        body="\n".join(parts),
        headings=headings,
        captions=captions,
        summaries=summaries,
        front=tuple(front),
    )


def build_html(notebooks: list[Path], *, lang: str, year: int, metadata: dict) -> str:
    """One self-contained HTML document of the chapters, with cover and contents."""
    import jinja2

    issuer = metadata.get("issuer") or {}
    strings = shell_strings(lang, year=year, issuer=issuer)
    chapters, toc, summaries, captions, front = [], [], [], [], []
    for path in notebooks:
        pieces = chapter_pieces(path)
        chapters.append(pieces.body)
        toc.extend(h for h in pieces.headings if h.level <= 2)
        captions += pieces.captions
        summaries += pieces.summaries
        front.extend(pieces.front)
    figures = [c for c in captions if c.kind == "figure"]
    tables = [c for c in captions if c.kind == "table"]
    # The unnumbered front sections, in the order they print: the executive summary, then
    # the lists of figures and tables that follow the contents.
    if figures:
        front.append(Heading(level=1, anchor=FIGURES_ANCHOR, text=strings["figures"]))
    if tables:
        front.append(Heading(level=1, anchor=TABLES_ANCHOR, text=strings["tables"]))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ASSETS),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        lang=lang,
        s=strings,
        year=year,
        region=metadata.get("region", ""),
        data_date=_format_data_date(metadata.get("data_date"), lang),
        synthetic=bool(metadata.get("synthetic", False)),
        description=metadata.get("description", ""),
        issuer=issuer,
        css=(ASSETS / "report.css").read_text(encoding="utf-8"),
        chapters=chapters,
        toc=toc,
        front=front,
        figures_anchor=FIGURES_ANCHOR,
        tables_anchor=TABLES_ANCHOR,
        summary="\n".join(summaries),
        figures=figures,
        tables=tables,
        issued=_format_data_date(issue_date(), lang),
    )


def issue_date():
    """The date the report is issued: today, or SOURCE_DATE_EPOCH when set (the
    reproducible-builds convention, for byte-identical rebuilds on another day)."""
    import datetime as dt
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.today()


def _format_data_date(value, lang: str) -> str:
    """The data date in the report's language ("31 Desember 2025"); free text stays as is."""
    from asn_eval.common.formatting import fmt_date

    if value in (None, ""):
        return ""
    try:
        return fmt_date(value, lang)
    except (TypeError, ValueError):
        return str(value)


def write_pdf(html_text: str, target: Path, *, base_url: Path) -> Path:
    import logging

    from weasyprint import HTML

    # WeasyPrint reports every CSS property it ignores; those are layout notes, not errors.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=html_text, base_url=str(base_url)).write_pdf(str(target))
    return target


def write_documents(build_dir: Path, *, params, metadata: dict) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.pdf`` and ``report.docx`` (:mod:`asn_eval.report.word`)
    from the executed notebooks in build_dir, and the tables' ``datapackage.json`` and
    workbook from what the chapters saved."""
    from asn_eval.config import CHAPTERS
    from asn_eval.report.datapackage import write_data_package
    from asn_eval.report.workbook import write_workbook

    notebooks = [build_dir / "notebooks" / f"{stem}.ipynb" for stem, _ in CHAPTERS]
    html_text = build_html(notebooks, lang=params.lang, year=params.year, metadata=metadata)
    html_path = build_dir / "report.html"
    html_path.write_text(html_text, encoding="utf-8")
    pdf_path = write_pdf(html_text, build_dir / "report.pdf", base_url=build_dir)
    from asn_eval.report.word import DOCX_FILE, write_docx

    write_docx(
        html_text, build_dir / DOCX_FILE, lang=params.lang, issued=issue_date(), metadata=metadata
    )
    write_data_package(
        build_dir, lang=params.lang, year=params.year, metadata=metadata, created=issue_date()
    )
    write_workbook(build_dir, lang=params.lang)  # every table of datapackage.json, one sheet each
    return html_path, pdf_path
