"""Assemble executed chapter notebooks into one report document (HTML and PDF).

The document carries the chapters' outputs only, never their code: prose, numbered
figures and tables, in report order, behind a cover page and a table of contents. The
HTML is self-contained (figures embedded as data URIs, styles inline) and deterministic
for the same notebook outputs; the PDF is printed from the same HTML by WeasyPrint,
with page numbers and a running synthetic-data notice when it applies.
"""

from __future__ import annotations

import html
import re
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
_HEADING = re.compile(r"<h([1-3])(\s[^>]*)?>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
_ID_ATTR = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


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
)


def shell_strings(lang: str, *, year: int) -> dict[str, str]:
    """Words of the cover, contents and running header, from the report's templates."""
    from asn_eval.report.narrative import text

    strings = {key: text(f"report.{key}", lang) for key in SHELL_KEYS}
    strings["subtitle"] = text("report.subtitle", lang, year=year)
    strings["produced_by"] = text("report.produced_by", lang, version=__version__)
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


_PRINT_IMG = re.compile(
    r'src="data:image/png;base64,[^"]*"(\s+alt="[^"]*")?\s+data-print-src="([^"]+)"'
)


def print_images(body: str, folder: Path) -> str:
    """Put each figure's print file (``folder/figures/...``, 300 dpi) in place of the screen
    copy the notebook shows."""
    import base64

    def replace(match: re.Match) -> str:
        path = folder / html.unescape(match.group(2))
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"{match.group(1) or ""}'

    return _PRINT_IMG.sub(replace, body)


def notebook_body(path: Path) -> str:
    """The visible outputs of one executed notebook, in cell order."""
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            continue
        if cell.cell_type == "markdown":
            parts.append(render_markdown(cell.source))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                fragment = output_to_html(output)
                if fragment:
                    parts.append(f'<div class="output-block">{fragment}</div>')
    return "\n".join(parts)


_SUMMARY = re.compile(
    r'<div class="output-block">\s*(<section class="executive-summary">.*?</section>)\s*</div>',
    re.DOTALL,
)


def take_summary(body: str) -> tuple[str, list[str]]:
    """Lift the executive summary (chapter 5 draws it from the findings) out of the chapter
    body, so the document can print it right after the cover."""
    found = _SUMMARY.findall(body)
    return _SUMMARY.sub("", body), found


_CAPTION = re.compile(
    r"<(figcaption|caption)([^>]*)>\s*((?:Gambar|Figure|Tabel|Table) (\d+)\.(\d+)\.)(.*?)</\1>",
    re.DOTALL,
)


@dataclass(frozen=True)
class Caption:
    kind: str  # "figure" or "table"
    anchor: str
    text: str


def anchor_captions(body: str) -> tuple[str, list[Caption]]:
    """Give every numbered figure and table caption an anchor, for the lists of figures and
    tables after the contents (page numbers come from the anchors in print)."""
    found: list[Caption] = []

    def replace(match: re.Match) -> str:
        tag, attrs, number, chapter, index, rest = match.groups()
        kind = "figure" if tag == "figcaption" else "table"
        anchor = f"{kind[:3]}-{chapter}-{index}"
        text = html.unescape(_TAGS.sub("", number + rest)).strip()
        found.append(Caption(kind=kind, anchor=anchor, text=" ".join(text.split())))
        return f'<{tag}{attrs} id="{anchor}">{number}{rest}</{tag}>'

    return _CAPTION.sub(replace, body), found


def number_headings(body: str, prefix: str) -> tuple[str, list[Heading]]:
    """Give every h1-h3 a stable anchor and collect them for the table of contents."""
    headings: list[Heading] = []
    counter = 0

    def replace(match: re.Match) -> str:
        nonlocal counter
        level, attrs, inner = int(match.group(1)), match.group(2) or "", match.group(3)
        found = _ID_ATTR.search(attrs)
        if found:
            anchor = f"{prefix}-{found.group(1)}"
            attrs = _ID_ATTR.sub("", attrs)
        else:
            counter += 1
            anchor = f"{prefix}-h{counter}"
        text = html.unescape(_TAGS.sub("", inner)).strip()
        headings.append(Heading(level=level, anchor=anchor, text=text))
        return f'<h{level} id="{anchor}"{attrs}>{inner}</h{level}>'

    return _HEADING.sub(replace, body), headings


def build_html(notebooks: list[Path], *, lang: str, year: int, metadata: dict) -> str:
    """One self-contained HTML document of the chapters, with cover and contents."""
    import jinja2

    strings = shell_strings(lang, year=year)
    chapters, toc, summaries, captions = [], [], [], []
    for number, path in enumerate(notebooks, start=1):
        body, found = take_summary(print_images(notebook_body(path), path.parent.parent))
        summaries += found
        body, headings = number_headings(body, prefix=f"ch{number}")
        body, found = anchor_captions(body)
        captions += found
        chapters.append(body)
        toc.extend(h for h in headings if h.level <= 2)
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
        css=(ASSETS / "report.css").read_text(encoding="utf-8"),
        chapters=chapters,
        toc=toc,
        summary="\n".join(summaries),
        figures=[c for c in captions if c.kind == "figure"],
        tables=[c for c in captions if c.kind == "table"],
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
    """Write ``report.html`` and ``report.pdf`` from the executed notebooks in build_dir."""
    from asn_eval.config import CHAPTERS

    notebooks = [build_dir / "notebooks" / f"{stem}.ipynb" for stem, _ in CHAPTERS]
    html_text = build_html(notebooks, lang=params.lang, year=params.year, metadata=metadata)
    html_path = build_dir / "report.html"
    html_path.write_text(html_text, encoding="utf-8")
    pdf_path = write_pdf(html_text, build_dir / "report.pdf", base_url=build_dir)
    from asn_eval.report.workbook import write_workbook

    write_workbook(build_dir, lang=params.lang)  # every saved table, one sheet each
    return html_path, pdf_path
