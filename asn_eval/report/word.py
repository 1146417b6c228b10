"""``report.docx``: the report as a Word document, walked from the HTML the PDF is printed from.

One text source: the document is made from the assembled ``report.html``
(:func:`asn_eval.report.document.build_html`), so it says exactly what the HTML and PDF say.
Everything an office restyles is a named Word style, so the office's own template (Word's
"Organizer", or LibreOffice's "Load Styles") gives it their look:

- the report title "Title", its subtitle "Subtitle", headings "Heading 1" to "Heading 3"
  (the outline the contents field reads), paragraphs "Normal", lists "List Bullet" and
  "List Number", figure and table captions "Caption", table notes "Note", notices "Notice";
- tables are Word tables in "Table Grid", their heading row repeated on every page;
- figures are the report's 300 dpi PNG files, embedded at the width they were drawn;
- the contents is a Word ``TOC`` field (Word and LibreOffice fill in the page numbers when
  its fields are updated; until then it lists the headings without them), the lists of
  figures and tables ``PAGEREF`` fields to a bookmark on each caption;
- every page's header carries the synthetic-data notice when the report has one, the first
  section's header the issuing office's letterhead, and the last page its signature block,
  both from the ``issuer`` block of ``metadata.yaml`` and both left out without it.

The file is reproducible: the same HTML and metadata give the same bytes (the core
properties carry the issue date, the zip entries one fixed time).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx.document import Document
    from docx.text.paragraph import Paragraph

DOCX_FILE = "report.docx"
# The printed contents lists chapters and their sections (document.build_html keeps levels 1-2).
TOC_LEVELS = "1-2"
# The page of report.css: A4, 22 mm above and below, 18 mm either side.
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 22, "bottom": 22, "left": 18, "right": 18}
NOTICE_RGB = "B03A2E"  # report.css .synthetic-notice
LANGUAGE_TAGS = {"id": "id-ID", "en": "en-GB"}  # for the spelling checker
# Zip entries carry a date; one fixed date keeps two builds of the same report byte-identical.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
INLINE_TAGS = {
    "a", "abbr", "b", "br", "cite", "code", "em", "i", "kbd", "mark", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "time", "u", "var",
}  # fmt: skip
SKIPPED_TAGS = {"head", "meta", "link", "script", "style", "template", "title", "svg"}
# Word bookmark names: a letter first, then letters, digits and underscores, 40 at most.
_BOOKMARK_CHARS = re.compile(r"[^A-Za-z0-9_]")
_ALIGN_RULE = re.compile(r"#([\w-]+)\s+\.col(\d+)\s*\{[^}]*?text-align:\s*(left|right|center)")
_NOWRAP_RULE = re.compile(r"#([\w-]+)\s+td\.col(\d+)\s*\{[^}]*?white-space:\s*nowrap")
# A table's text is 7.5 pt, as report.css prints it. Its columns are sized from the width of
# their words in DejaVu (what LibreOffice shows for Word's default fonts on Linux; wider than
# Calibri, so a table sized for it fits in Word too), in ems by kind of character.
TABLE_PT = 7.5
MM_PER_PT = 25.4 / 72
CELL_MARGIN_MM = 1.2  # each side, as report.css's 0.3em padding
MAX_CELL_CHARS = 60  # a longer cell wraps rather than widen its column
# DejaVu Serif's advance widths in ems; any other character counts as a capital (0.72).
_EMS = {
    **dict.fromkeys("0123456789", 0.64),
    **dict(zip("abcdefghijklmnopqrstuvwxyz", (
        0.60, 0.64, 0.56, 0.64, 0.59, 0.37, 0.64, 0.64, 0.32, 0.31, 0.61, 0.32, 0.95,
        0.64, 0.60, 0.64, 0.64, 0.48, 0.51, 0.40, 0.64, 0.57, 0.86, 0.56, 0.57, 0.53,
    ), strict=True)),
    **dict.fromkeys(" .,;:'", 0.32),
    **dict.fromkeys("()[]-/*", 0.39),
    "%": 0.95, "M": 0.95, "W": 1.0, "I": 0.4, "J": 0.4,
}  # fmt: skip
_BREAKS = re.compile(r"[^\s-]+-?|-")  # lines break at spaces and after hyphens
_WIDTH_IN = re.compile(r"width:\s*([\d.]+)in")


@dataclass(frozen=True)
class Issuer:
    """The office that issues the report, from ``metadata.yaml``'s optional ``issuer`` block.

    Every key is optional: the letterhead needs the office or its contact, the signature
    block someone to sign (the head or the head's title).
    """

    office: str = ""
    head: str = ""
    head_title: str = ""
    place: str = ""
    contact: str = ""

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> Issuer:
        block = (metadata or {}).get("issuer") or {}
        if not isinstance(block, dict):
            return cls()
        fields = {}
        for name in ("office", "head", "head_title", "place", "contact"):
            value = block.get(name)
            fields[name] = "" if value is None else " ".join(str(value).split())
        return cls(**fields)

    @property
    def has_letterhead(self) -> bool:
        return bool(self.office or self.contact)

    @property
    def signs(self) -> bool:
        return bool(self.head or self.head_title)


def write_docx(
    html_text: str,
    target: Path,
    *,
    lang: str,
    issued: dt.date,
    metadata: dict | None = None,
) -> Path:
    """Write ``html_text`` (the assembled report) to ``target`` as a Word document.

    ``issued`` is the report's issue date (the cover's,
    :func:`asn_eval.report.document.issue_date`), which the signature block prints and the
    document's properties carry; ``metadata`` is the dataset's (its ``issuer`` block).

    Examples
    --------
    >>> write_docx(
    ...     "<h1>Laporan</h1><p>Isi.</p>", Path("report.docx"), lang="id",
    ...     issued=dt.date(2026, 1, 15),
    ... )  # doctest: +SKIP
    """
    document = html_to_docx(html_text, lang=lang, metadata=metadata, issued=issued)
    buffer = io.BytesIO()
    document.save(buffer)
    target = Path(target)
    target.write_bytes(reproducible_zip(buffer.getvalue()))
    return target


def html_to_docx(
    html_text: str, *, lang: str, issued: dt.date, metadata: dict | None = None
) -> Document:
    """The python-docx document of ``html_text``; see the module's description."""
    import lxml.html

    root = lxml.html.document_fromstring(html_text)
    writer = _Writer(
        lang=lang,
        issuer=Issuer.from_metadata(metadata),
        issued=issued,
        alignments=_column_alignments(root),
        unbroken=_unbroken_columns(root),
    )
    return writer.write(root)


def reproducible_zip(data: bytes) -> bytes:
    """The same zip with every entry dated :data:`ZIP_DATE`, in its order, deflated."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def _unbroken_columns(root) -> set[tuple[str, int]]:
    """``(table id, column)`` of the number columns, whose cells the tables never break
    ("< 0,001", "[0,02; 0,10]")."""
    return {
        (table_id, int(column))
        for style in root.iter("style")
        for table_id, column in _NOWRAP_RULE.findall(style.text or "")
    }


def _column_alignments(root) -> dict[tuple[str, int], str]:
    """``(table id, column) -> "left" | "right" | "center"`` from the tables' own style rules
    (asn_eval.report.tables right-aligns number columns there)."""
    rules: dict[tuple[str, int], str] = {}
    for style in root.iter("style"):
        for table_id, column, align in _ALIGN_RULE.findall(style.text or ""):
            rules[(table_id, int(column))] = align
    return rules


def _bookmark_name(anchor: str) -> str:
    name = _BOOKMARK_CHARS.sub("_", anchor)
    if not name[:1].isalpha():
        name = "a" + name
    return name[:40]


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


@dataclass
class _Format:
    bold: bool = False
    italic: bool = False
    small: bool = False
    mono: bool = False
    superscript: bool = False
    subscript: bool = False
    underline: bool = False

    def but(self, tag: str) -> _Format:
        changed = _Format(**vars(self))
        if tag in ("b", "strong"):
            changed.bold = True
        elif tag in ("i", "em", "cite", "var"):
            changed.italic = True
        elif tag == "small":
            changed.small = True
        elif tag in ("code", "kbd", "samp"):
            changed.mono = True
        elif tag == "sup":
            changed.superscript = True
        elif tag == "sub":
            changed.subscript = True
        elif tag == "u":
            changed.underline = True
        return changed


class _Writer:
    """Walks the HTML once, block by block, into one python-docx document."""

    def __init__(
        self, *, lang: str, issuer: Issuer, issued: dt.date, alignments: dict, unbroken: set
    ):
        import docx

        self.lang = lang
        self.issuer = issuer
        self.issued = issued
        self.alignments = alignments
        self.unbroken = unbroken
        self.doc = docx.Document()
        self.pending_break = False
        self.bookmark_id = 0
        self.notice = ""
        self.list_depth = 0
        self.style_ids: dict[str, str] = {}
        self.anchors: set[str] = set()  # ids in the HTML: the bookmarks a link may point to
        self.after_table = False
        self._setup()

    # -- the document's frame: page, styles, properties, headers and footers ---------------

    def _setup(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
        from docx.shared import Mm, Pt, RGBColor

        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        for side, mm in MARGINS_MM.items():
            setattr(section, f"{side}_margin", Mm(mm))
        section.header_distance = section.footer_distance = Mm(10)
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.size = Pt(10.5)
        _set_language(normal, LANGUAGE_TAGS.get(self.lang, self.lang))

        def add(name, base="Normal", *, style_id=None, size=None, bold=None, color=None):
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = styles[base]
            if style_id:
                style.style_id = style_id
            if size:
                style.font.size = Pt(size)
            if bold is not None:
                style.font.bold = bold
            if color:
                style.font.color.rgb = RGBColor.from_string(color)
            style.quick_style = True
            return style

        note = add("Note", size=8)
        note.paragraph_format.space_before = Pt(2)
        notice = add("Notice", bold=True, color=NOTICE_RGB)
        _paragraph_border(notice.element, sides=("top", "left", "bottom", "right"))
        table_text = add("Table Text", size=TABLE_PT)
        table_text.paragraph_format.space_after = Pt(0)
        table_text.paragraph_format.space_before = Pt(0)
        running = add("Running Notice", "Header", size=8, bold=True, color=NOTICE_RGB)
        running.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        letterhead = add("Letterhead", "Header", size=14, bold=True)
        letterhead.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        contact = add("Letterhead Contact", "Header", size=9)
        contact.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _paragraph_border(contact.element, sides=("bottom",))
        signature = add("Signature", style_id="Signature")
        signature.paragraph_format.left_indent = Mm(100)
        signature.paragraph_format.space_after = Pt(0)
        signature.paragraph_format.keep_with_next = True
        # Word's own names, so that its contents and list of figures restyle these entries.
        text_width = Mm(PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"])
        for name, style_id, indent in (
            ("toc 1", "TOC1", 0),
            ("toc 2", "TOC2", 6),
            ("table of figures", "TableofFigures", 0),
        ):
            entry = add(name, style_id=style_id)
            entry.paragraph_format.left_indent = Mm(indent)
            entry.paragraph_format.space_after = Pt(2)
            # the page number at the right edge, after a line of dots
            entry.paragraph_format.tab_stops.add_tab_stop(
                text_width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
            )

    def _finish(self) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        properties = self.doc.core_properties
        stamp = dt.datetime.combine(self.issued, dt.time(), tzinfo=dt.UTC)
        properties.created = properties.modified = stamp
        properties.revision = 1
        properties.author = self.issuer.office or "asn-eval"
        properties.last_modified_by = "asn-eval"
        properties.language = LANGUAGE_TAGS.get(self.lang, self.lang)
        properties.comments = ""
        properties.keywords = ""
        # Word asks to update the fields on opening, which fills in the contents' page numbers.
        settings = self.doc.settings.element
        if settings.find(qn("w:updateFields")) is None:
            update = OxmlElement("w:updateFields")
            update.set(qn("w:val"), "true")
            compat = settings.find(qn("w:compat"))
            if compat is not None:
                compat.addprevious(update)
            else:
                settings.append(update)

    def _headers(self) -> None:
        """The synthetic-data notice on every page; the letterhead above it on the first
        section (the cover); the page number "Halaman 2 dari 40" below every later page."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        from asn_eval.report.narrative import text

        sections = list(self.doc.sections)
        first = sections[0]
        header = first.header
        header.is_linked_to_previous = False
        paragraphs = []
        if self.issuer.has_letterhead:
            if self.issuer.office:
                paragraphs.append((self.issuer.office, "Letterhead"))
            if self.issuer.contact:
                paragraphs.append((self.issuer.contact, "Letterhead Contact"))
        if self.notice:
            paragraphs.append((self.notice, "Running Notice"))
        _fill(header, paragraphs)
        footer_sections = sections[1:] if len(sections) > 1 else sections
        for section in sections[1:]:
            section.header.is_linked_to_previous = False
            _fill(section.header, [(self.notice, "Running Notice")] if self.notice else [])
        for section in footer_sections:
            section.footer.is_linked_to_previous = False
            paragraph = section.footer.paragraphs[0]
            paragraph.style = self.doc.styles["Footer"]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(f"{text('report.page', self.lang)} ")
            _simple_field(paragraph, "PAGE", "1")
            paragraph.add_run(f" {text('report.of', self.lang)} ")
            _simple_field(paragraph, "NUMPAGES", "1")

    def _signature(self) -> None:
        """At the end: "<place>, <issue date>", the head's title, room to sign, the head."""
        from docx.shared import Pt

        from asn_eval.common.formatting import fmt_date
        from asn_eval.report.narrative import text

        if not self.issuer.signs:
            return
        date = fmt_date(self.issued, self.lang)
        place = self.issuer.place
        lines = [text("word.signed_at", self.lang, place=place, date=date) if place else date]
        if self.issuer.head_title:
            lines.append(self.issuer.head_title)
        lines += ["", "", ""]  # room for the signature and the stamp
        lines.append(self.issuer.head)
        first = self.doc.add_paragraph(lines[0], style="Signature")
        first.paragraph_format.space_before = Pt(24)
        for line in lines[1:]:
            paragraph = self.doc.add_paragraph(line, style="Signature")
            if line and line == self.issuer.head:
                for run in paragraph.runs:
                    run.bold = True
        paragraph.paragraph_format.keep_with_next = False

    # -- the walk ---------------------------------------------------------------------------

    def write(self, root) -> Document:
        body = root.find("body")
        body = body if body is not None else root
        for notice in body.iter():
            if "running-notice" in _classes(notice):
                self.notice = " ".join(notice.text_content().split())
                break
        self.anchors = {e.get("id") for e in body.iter() if isinstance(e.tag, str) and e.get("id")}
        title = root.find(".//title")
        if title is not None and title.text:
            self.doc.core_properties.title = " ".join(title.text.split())
        self._blocks(body)
        self._signature()
        self._headers()
        self._finish()
        return self.doc

    def _blocks(self, container) -> None:
        """The children of ``container``: inline content gathered into paragraphs, block
        elements by kind."""
        inline: list = []
        if container.text and container.text.strip():
            inline.append(container.text)
        for child in container:
            if not isinstance(child.tag, str):  # comments and processing instructions
                if child.tail:
                    inline.append(child.tail)
                continue
            if child.tag in INLINE_TAGS:
                inline.append(child)
            else:
                self._inline_paragraph(inline)
                inline = []
                self._block(child)
            if child.tail:
                inline.append(child.tail)
        self._inline_paragraph(inline)

    def _inline_paragraph(self, pieces: list) -> None:
        """Text and inline elements between blocks, as one paragraph; none for white space."""
        if all(isinstance(p, str) and not p.strip() for p in pieces):
            return
        pending = self.pending_break
        paragraph = self._paragraph()
        self._runs(paragraph, pieces)
        if not paragraph.text.strip():
            paragraph._p.getparent().remove(paragraph._p)
            self.pending_break = pending

    def _block(self, element) -> None:
        tag, classes = element.tag, _classes(element)
        if tag in SKIPPED_TAGS or "running-notice" in classes:
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            if "report-title" in classes:
                self._text_block(element, "Title")
            else:
                self._text_block(element, f"Heading {tag[1]}")
        elif tag == "p":
            style = "Normal"
            if "subtitle" in classes:
                style = "Subtitle"
            elif classes & {"table-note", "produced-by", "note"}:
                style = "Note"
            self._text_block(element, style)
        elif tag in ("ul", "ol"):
            self._list(element, numbered=tag == "ol")
        elif tag == "table":
            self._table(element)
        elif tag == "figure":
            self._figure(element)
        elif tag == "img":
            self._picture(element)
        elif tag == "pre":
            self._pre(element)
        elif tag == "dl":
            self._definitions(element)
        elif tag == "nav" and "toc" in classes:
            self.pending_break = True
            self._contents(element)
            self.pending_break = True
        elif tag == "hr":
            return
        elif classes & {"notice", "synthetic-notice"}:
            self._text_block(element, "Notice")
        elif tag == "section" and "cover" in classes:
            self._blocks(element)
            self._new_section()
        elif tag == "section" and "chapter" in classes:
            self.pending_break = True
            self._blocks(element)
        else:  # div, section, blockquote, ...: their content, as it comes
            self._blocks(element)

    def _new_section(self) -> None:
        from docx.enum.section import WD_SECTION

        self.doc.add_section(WD_SECTION.NEW_PAGE)
        self.pending_break = False

    def _paragraph(self, style: str = "Normal", *, anchor: str | None = None) -> Paragraph:
        """A new paragraph at the document's end, carrying a pending page break or the space
        a table leaves below it, and a bookmark for ``anchor``."""
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph()
        self._style(paragraph, style)
        if self.pending_break:
            paragraph.paragraph_format.page_break_before = True
            self.pending_break = False
        if self.after_table:  # Word puts no space below a table
            paragraph.paragraph_format.space_before = Pt(8)
            self.after_table = False
        if anchor:
            self._bookmark(paragraph, anchor)
        return paragraph

    def _style(self, paragraph: Paragraph, name: str) -> None:
        """``paragraph.style = name``, with the style's id looked up once: python-docx looks
        it up among all styles on every assignment, which is most of the time of a report."""
        if name not in self.style_ids:
            self.style_ids[name] = self.doc.styles[name].style_id
        if name != "Normal":
            paragraph._p.get_or_add_pPr().get_or_add_pStyle().val = self.style_ids[name]

    def _bookmark(self, paragraph: Paragraph, anchor: str) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        self.bookmark_id += 1
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.bookmark_id))
        start.set(qn("w:name"), _bookmark_name(anchor))
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.bookmark_id))
        properties = paragraph._p.pPr
        if properties is not None:
            properties.addnext(start)
        else:
            paragraph._p.insert(0, start)
        paragraph._p.append(end)

    def _text_block(self, element, style: str) -> Paragraph:
        paragraph = self._paragraph(style, anchor=element.get("id"))
        self._runs(paragraph, _content(element))
        return paragraph

    def _runs(self, paragraph: Paragraph, pieces: list, fmt: _Format | None = None) -> None:
        """Runs for text and inline elements, with HTML's white space: each run of spaces
        and line ends is one space, none at the paragraph's start or end."""
        segments: list[tuple[str, _Format] | None] = []  # None: a line break
        _segments(pieces, fmt or _Format(), segments)
        text_so_far = ""
        for segment in segments:
            if segment is None:
                paragraph.add_run().add_break()
                text_so_far = ""
                continue
            value, style = segment
            value = re.sub(r"\s+", " ", value)
            if not text_so_far or text_so_far.endswith(" "):
                value = value.lstrip(" ")
            if not value:
                continue
            text_so_far += value
            run = paragraph.add_run(value)
            _apply(run, style)
        # the paragraph's last space: trailing white space in HTML is never shown
        for run in reversed(paragraph.runs):
            if run.text:
                run.text = run.text.rstrip(" ")
                break

    def _list(self, element, *, numbered: bool) -> None:
        self.list_depth += 1
        base = "List Number" if numbered else "List Bullet"
        style = base if self.list_depth == 1 else f"{base} {min(self.list_depth, 3)}"
        number_id = self._restarted_numbering(style) if numbered else None
        for item in element:
            if item.tag != "li":
                continue
            nested = [child for child in item if child.tag in ("ul", "ol")]
            pieces = [p for p in _content(item) if not (hasattr(p, "tag") and p in nested)]
            paragraph = self._paragraph(style, anchor=item.get("id"))
            if number_id is not None:
                _set_numbering(paragraph, number_id, level=0)
            self._runs(paragraph, pieces)
            for child in nested:
                self._list(child, numbered=child.tag == "ol")
        self.list_depth -= 1

    def _restarted_numbering(self, style: str) -> int | None:
        """A new Word list for one ``<ol>`` that starts at 1 (python-docx's "List Number"
        otherwise numbers every list of the document as one)."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        properties = self.doc.styles[style].element.pPr
        num_pr = properties.numPr if properties is not None else None
        if num_pr is None or num_pr.numId is None:
            return None
        numbering = self.doc.part.numbering_part.element
        template = numbering.num_having_numId(num_pr.numId.val)
        abstract = template.abstractNumId.val
        num = numbering.add_num(abstract)
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start = OxmlElement("w:startOverride")
        start.set(qn("w:val"), "1")
        override.append(start)
        num.append(override)
        return num.numId

    def _pre(self, element) -> None:
        paragraph = self._paragraph("Note")
        lines = element.text_content().rstrip("\n").split("\n")
        for i, line in enumerate(lines):
            run = paragraph.add_run(line)
            run.font.name = "Courier New"
            if i < len(lines) - 1:
                run.add_break()

    def _definitions(self, element) -> None:
        """A cover's ``<dl>``: one line per term, "Wilayah: Kota Kupang" with the term bold."""
        from docx.shared import Pt

        paragraph = None
        for child in element:
            if child.tag == "dt":
                paragraph = self._paragraph("Normal")
                paragraph.paragraph_format.space_after = Pt(2)
                run = paragraph.add_run(" ".join(child.text_content().split()) + ": ")
                run.bold = True
            elif child.tag == "dd":
                paragraph = paragraph or self._paragraph("Normal")
                paragraph.add_run(" ".join(child.text_content().split()))
                paragraph = None

    # -- the contents -----------------------------------------------------------------------

    def _contents(self, nav) -> None:
        """The contents as a Word TOC field (its result: the HTML's entries, hyperlinked,
        and a line saying that updating the field adds the page numbers); the lists of
        figures and tables as entries with a PAGEREF field to each caption's bookmark."""
        from asn_eval.report.narrative import text

        for child in nav:
            if child.tag in ("h1", "h2", "h3"):
                self._text_block(child, "TOC Heading")
            elif child.tag in ("ol", "ul") and "captions" in _classes(child):
                for item in child.iter("li"):
                    link = item.find(".//a")
                    paragraph = self._paragraph("table of figures")
                    label = " ".join(item.text_content().split())
                    anchor = (link.get("href") or "").lstrip("#") if link is not None else ""
                    if anchor in self.anchors:
                        _hyperlink(paragraph, label, _bookmark_name(anchor))
                        paragraph.add_run("\t")
                        _simple_field(paragraph, f"PAGEREF {_bookmark_name(anchor)} \\h", "")
                    else:
                        paragraph.add_run(label)
            elif child.tag in ("ol", "ul"):
                entries = []
                for item in child.iter("li"):
                    level = 2 if "level-2" in _classes(item) else 1
                    link = item.find(".//a")
                    anchor = (link.get("href") or "").lstrip("#") if link is not None else ""
                    entries.append((level, " ".join(item.text_content().split()), anchor))
                self._toc_field(entries, text("word.toc_placeholder", self.lang))

    def _toc_field(self, entries: list[tuple[int, str, str]], placeholder: str) -> None:
        paragraphs = []
        for level, label, anchor in entries:
            paragraph = self._paragraph(f"toc {level}")
            paragraphs.append((paragraph, label, anchor))
        hint = self._paragraph("Note")
        _field_char(hint if not paragraphs else paragraphs[0][0], "begin")
        first = hint if not paragraphs else paragraphs[0][0]
        _instruction(first, f'TOC \\o "{TOC_LEVELS}" \\h \\z \\u')
        _field_char(first, "separate")
        for paragraph, label, anchor in paragraphs:
            if anchor in self.anchors:
                _hyperlink(paragraph, label, _bookmark_name(anchor))
            else:
                paragraph.add_run(label)
        hint.add_run(placeholder).italic = True
        _field_char(hint, "end")

    # -- tables and figures -----------------------------------------------------------------

    def _table(self, element) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Mm

        caption = element.find("caption")
        if caption is not None:
            paragraph = self._text_block(caption, "Caption")
            paragraph.paragraph_format.keep_with_next = True
        rows, header_rows = [], 0
        for part in element:
            if part.tag in ("thead", "tbody", "tfoot"):
                part_rows = [r for r in part if r.tag == "tr"]
                if part.tag == "thead":
                    header_rows += len(part_rows)
                rows += part_rows
            elif part.tag == "tr":
                rows.append(part)
        if not header_rows and rows and all(c.tag == "th" for c in rows[0]):
            header_rows = 1
        cells = [[c for c in row if c.tag in ("td", "th")] for row in rows]
        columns = max((len(r) for r in cells), default=0)
        if not columns:
            return
        if self.pending_break:
            self._paragraph("Normal")  # the page break travels on a paragraph
        table = self.doc.add_table(rows=len(cells), cols=columns)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        table_id = element.get("id", "")
        texts = [[" ".join(c.text_content().split()) for c in row] for row in cells]
        text_width = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
        unbroken = {c for c in range(columns) if (table_id, c) in self.unbroken}
        widths = _column_widths(
            texts, columns, text_width, header_rows=header_rows, unbroken=unbroken
        )
        widths = [Mm(w) for w in widths]
        _table_properties(table, caption=caption)
        for i, column in enumerate(table.columns):
            column.width = widths[i]
        for r, (row, html_row) in enumerate(zip(table.rows, cells, strict=True)):
            if r < header_rows:
                _row_property(row, "w:tblHeader")
            _row_property(row, "w:cantSplit")
            for c, cell in enumerate(row.cells):
                cell.width = widths[c]
                paragraph = cell.paragraphs[0]
                self._style(paragraph, "Table Text")
                if c >= len(html_row):
                    continue
                source = html_row[c]
                fmt = _Format(bold=r < header_rows or source.tag == "th")
                self._runs(paragraph, _content(source), fmt)
                align = _cell_alignment(source, c, table_id, self.alignments)
                if align == "right":
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                elif align == "center":
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.after_table = True

    def _figure(self, element) -> None:
        images = list(element.iter("img"))
        for image in images:
            self._picture(image)
        caption = element.find("figcaption")
        if caption is not None:
            self._text_block(caption, "Caption")

    def _picture(self, image) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Inches, Mm

        source = image.get("src") or ""
        if not source.startswith("data:image/png;base64,"):
            return  # a report embeds its figures; anything else is not part of the document
        data = base64.b64decode(source.split(",", 1)[1])
        text_width = Mm(PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"])
        match = _WIDTH_IN.search(image.get("style") or "")
        width = Inches(float(match.group(1))) if match else None
        paragraph = self._paragraph("Normal")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_with_next = True
        run = paragraph.add_run()
        shape = run.add_picture(io.BytesIO(data), width=width)
        if shape.width > text_width:
            shape.height = int(shape.height * text_width / shape.width)
            shape.width = text_width
        alt = " ".join((image.get("alt") or "").split())
        if alt:
            shape._inline.docPr.set("descr", alt)


def _content(element) -> list:
    """An element's text and children, in order, as :func:`_segments` reads them."""
    pieces: list = []
    if element.text:
        pieces.append(element.text)
    for child in element:
        pieces.append(child)
        if child.tail:
            pieces.append(child.tail)
    return pieces


def _segments(pieces: list, fmt: _Format, out: list) -> None:
    for piece in pieces:
        if isinstance(piece, str):
            out.append((piece, fmt))
            continue
        if not isinstance(piece.tag, str) or piece.tag in SKIPPED_TAGS:
            continue
        if piece.tag == "br":
            out.append(None)
            continue
        _segments(_content(piece), fmt.but(piece.tag), out)


def _apply(run, fmt: _Format) -> None:
    from docx.shared import Pt

    if fmt.bold:
        run.bold = True
    if fmt.italic:
        run.italic = True
    if fmt.underline:
        run.underline = True
    if fmt.small:
        run.font.size = Pt(8)
    if fmt.mono:
        run.font.name = "Courier New"
    if fmt.superscript:
        run.font.superscript = True
    if fmt.subscript:
        run.font.subscript = True


def _text_mm(text: str, *, bold: bool = False) -> float:
    """How wide ``text`` prints at :data:`TABLE_PT` (bold about 8% wider)."""
    ems = sum(_EMS.get(char, 0.72) for char in text)
    return ems * TABLE_PT * MM_PER_PT * (1.08 if bold else 1.0)


def _column_widths(
    texts: list[list[str]],
    columns: int,
    total_mm: float,
    *,
    header_rows: int = 1,
    unbroken: set[int] = frozenset(),
) -> list[float]:
    """Widths in mm, at most ``total_mm`` in all, as a browser lays out an auto-width table:
    each column at least as wide as its longest word, and what is left shared by how much
    more its longest text would take (capped, so that one long cell does not starve the
    others); a table that fits is no wider than its text. A cell of an ``unbroken`` column
    (a number, an interval) counts as one word, unless the table is too wide for that."""
    padding = 2 * CELL_MARGIN_MM + 1.0

    def widest(c: int, *, whole: bool) -> float:
        return max(
            (
                _text_mm(w, bold=r < header_rows)
                for r, row in enumerate(texts)
                if c < len(row)
                for w in ([row[c]] if whole else _BREAKS.findall(row[c]))
            ),
            default=0.0,
        )

    words = [widest(c, whole=False) + padding for c in range(columns)]
    least = [
        max(widest(c, whole=True) + padding, w) if c in unbroken else w for c, w in enumerate(words)
    ]
    if sum(least) > total_mm:
        least = words
    cut = [[v[:MAX_CELL_CHARS] for v in row] for row in texts]
    most = [
        max(
            max((_text_mm(row[c], bold=r < header_rows) for r, row in enumerate(cut)
                 if c < len(row)), default=0.0) + padding,
            least[c],
        )
        for c in range(columns)
    ]  # fmt: skip
    if sum(most) <= total_mm:
        return [round(w, 2) for w in most]
    if sum(least) >= total_mm:
        return [round(total_mm * w / sum(least), 2) for w in least]
    room = total_mm - sum(least)
    wants = [m - lo for m, lo in zip(most, least, strict=True)]
    return [round(lo + room * w / sum(wants), 2) for lo, w in zip(least, wants, strict=True)]


def _cell_alignment(cell, column: int, table_id: str, rules: dict) -> str | None:
    style = cell.get("style") or ""
    match = re.search(r"text-align:\s*(left|right|center)", style)
    if match:
        return match.group(1)
    for name in _classes(cell):
        if name.startswith("col") and name[3:].isdigit():
            return rules.get((table_id, int(name[3:])))
    return rules.get((table_id, column))


# What may follow each element python-docx's API does not write, in the schema's order
# (Word refuses a document whose properties come out of order).
_AFTER_CANT_SPLIT = ("w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden")
_AFTER_TBL_HEADER = ("w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")
_AFTER_P_BDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")


def _table_properties(table, *, caption) -> None:
    """Narrow cell margins (report.css's padding) and the caption as the table's title for
    screen readers."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(round(CELL_MARGIN_MM / 25.4 * 1440)))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    properties.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription")
    if caption is not None:
        title = OxmlElement("w:tblCaption")
        title.set(qn("w:val"), " ".join(caption.text_content().split())[:255])
        properties.insert_element_before(title, "w:tblDescription")


def _row_property(row, name: str) -> None:
    from docx.oxml import OxmlElement

    properties = row._tr.get_or_add_trPr()
    after = _AFTER_CANT_SPLIT if name == "w:cantSplit" else _AFTER_TBL_HEADER
    properties.insert_element_before(OxmlElement(name), *after)


def _fill(part, paragraphs: list[tuple[str, str]]) -> None:
    """A header's paragraphs: ``(text, style)`` each, in the header's first paragraph on."""
    first = part.paragraphs[0]
    for i, (value, style) in enumerate(paragraphs):
        paragraph = first if i == 0 else part.add_paragraph()
        paragraph.style = style
        paragraph.add_run(value)


def _field_char(paragraph: Paragraph, kind: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


def _instruction(paragraph: Paragraph, code: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = f" {code} "
    paragraph.add_run()._r.append(instruction)


def _simple_field(paragraph: Paragraph, code: str, result: str) -> None:
    """A complex field (begin, instruction, separate, result, end) in one paragraph."""
    _field_char(paragraph, "begin")
    _instruction(paragraph, code)
    _field_char(paragraph, "separate")
    paragraph.add_run(result)
    _field_char(paragraph, "end")


def _hyperlink(paragraph: Paragraph, label: str, bookmark: str) -> None:
    """A link to a bookmark in the document: text that jumps to its heading or caption."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), bookmark)
    link.set(qn("w:history"), "1")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.set(qn("xml:space"), "preserve")
    text.text = label
    run.append(text)
    link.append(run)
    paragraph._p.append(link)


def _set_numbering(paragraph: Paragraph, number_id: int, *, level: int) -> None:
    properties = paragraph._p.get_or_add_pPr()
    num_pr = properties.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = number_id


def _set_language(style, language: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = style.element.get_or_add_rPr()
    lang = properties.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        properties.insert_element_before(lang, *_AFTER_LANG)
    lang.set(qn("w:val"), language)


def _paragraph_border(style_element, *, sides: tuple[str, ...]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = style_element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in sides:
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "12")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), NOTICE_RGB if len(sides) > 1 else "333333")
        borders.append(edge)
    properties.insert_element_before(borders, *_AFTER_P_BDR)
