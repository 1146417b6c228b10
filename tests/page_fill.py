"""How full each printed page of a report is, measured on WeasyPrint's own layout.

A page is *near empty* when its content reaches less than :data:`NEAR_EMPTY` of the text
area's height, unless it is the last page of a chapter (a chapter starts on a new page, so
its last page may be short) or a front section that fits on its one page (a short
contents). A near-empty page elsewhere is a print fault: a figure or a table too tall for
the space left, a forced page break, or a front section (the executive summary) run over
by a few lines, pushed the rest of the text on.

Importable as ``page_fill`` (pytest puts tests/ on the path); run it on a built report to
see each page's fill::

    .venv/bin/python tests/page_fill.py /tmp/print-id/report.html
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

NEAR_EMPTY = 0.25


@dataclass(frozen=True)
class PageFill:
    number: int  # 1-based, as printed in the footer
    fill: float  # share of the text area's height down to the lowest content
    # the last page of a chapter or of the document, or a front section's only page
    exempt: bool

    @property
    def near_empty(self) -> bool:
        return self.fill < NEAR_EMPTY and not self.exempt


# Sections that end with a forced page break: the chapters, and the front sections.
CHAPTER = "section.chapter"
FRONT = ("section.cover", "section.executive-summary", "nav.toc")


def _section_of(box) -> tuple[str, object] | None:
    """("chapter" or "front", its element) when ``box`` is one of those sections."""
    element = getattr(box, "element", None)
    tag = getattr(box, "element_tag", None)
    if element is None or tag not in ("section", "nav"):
        return None
    for name in (element.get("class") or "").split():
        if f"{tag}.{name}" == CHAPTER:
            return "chapter", element
        if f"{tag}.{name}" in FRONT:
            return "front", element
    return None


def page_fills(html_text: str, *, base_url: str | None = None) -> list[PageFill]:
    """Each page of ``html_text`` as WeasyPrint lays it out for print."""
    import logging

    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=html_text, base_url=base_url).render()
    fills: list[float] = []
    pages_of: dict[object, tuple[str, list[int]]] = {}
    for index, page in enumerate(document.pages):
        page_box = page._page_box
        top, height = page_box.content_box_y(), page_box.height
        lowest = top
        for child in page_box.children:
            if isinstance(child, boxes.MarginBox):
                continue  # the running notice and the page number
            for box in child.descendants():
                section = _section_of(box)
                if section:
                    kind, element = section
                    pages = pages_of.setdefault(element, (kind, []))[1]
                    if index not in pages:
                        pages.append(index)
                if isinstance(box, boxes.LineBox | boxes.ReplacedBox | boxes.TableRowBox):
                    lowest = max(lowest, box.position_y + box.margin_height())
        fills.append((lowest - top) / height)
    exempt = {len(fills) - 1}
    for kind, pages in pages_of.values():
        if kind == "chapter" or len(pages) == 1:
            exempt.add(pages[-1])
    return [
        PageFill(number=i + 1, fill=round(fill, 3), exempt=i in exempt)
        for i, fill in enumerate(fills)
    ]


def near_empty_pages(html_text: str, *, base_url: str | None = None) -> list[int]:
    """Numbers of the near-empty pages that are not a chapter's last."""
    return [p.number for p in page_fills(html_text, base_url=base_url) if p.near_empty]


if __name__ == "__main__":
    path = Path(sys.argv[1])
    fills = page_fills(path.read_text(encoding="utf-8"), base_url=str(path.parent))
    for p in fills:
        flag = " NEAR EMPTY" if p.near_empty else (" (may be short)" if p.exempt else "")
        print(f"page {p.number:3d}  {p.fill:6.1%}{flag}")
    print(f"{len(fills)} pages, {sum(p.near_empty for p in fills)} near empty")
