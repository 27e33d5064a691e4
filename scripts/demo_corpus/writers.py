"""One writer per format: a document in, a file out, with fixed dates so that re-runs are byte-identical."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

from .content import Doc, eur

FIXED_DATE = dt.datetime(2026, 1, 15, 9, 0, 0)
FIXED_ZIP_TIME = (2026, 1, 15, 9, 0, 0)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
ZIPPED = frozenset({"docx", "xlsx", "pptx", "odt"})

QUOTE_HEADER = ["Prestation", "Description", "Quantité", "Unité", "Prix unitaire HT (EUR)", "Total HT (EUR)"]


def _quote_rows(doc: Doc) -> list[list[str]]:
    rows = [[ln.service, ln.detail, str(ln.quantity), ln.unit, eur(ln.unit_price), eur(ln.total)]
            for ln in doc.lines]
    total = sum(ln.total for ln in doc.lines)
    rows.append(["Total HT", "", "", "", "", eur(total)])
    return rows


def write_docx(doc: Doc, path: Path) -> None:
    from docx import Document

    d = Document()
    props = d.core_properties
    props.title, props.author, props.language = doc.title, doc.author, "fr-FR"
    props.subject, props.keywords = doc.doc_type, ", ".join(doc.sectors + doc.countries)
    props.created = props.modified = FIXED_DATE
    props.last_modified_by = doc.author
    props.revision = 1
    d.add_heading(doc.title, level=0)
    d.add_paragraph(f"Auteur : {doc.author}")
    for i, s in enumerate(doc.sections):
        d.add_heading(s.heading, level=1)
        for p in s.paragraphs:
            d.add_paragraph(p)
        for b in s.bullets:
            d.add_paragraph(b, style="List Bullet")
        if doc.lines and i == 0:
            table = d.add_table(rows=1, cols=len(QUOTE_HEADER))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, QUOTE_HEADER, strict=True):
                cell.text = text
            for row in _quote_rows(doc):
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
    d.save(str(path))


_LATIN1_FALLBACK = {"œ": "oe", "Œ": "OE", "’": "'", "…": "...", "—": "-", "–": "-", "«": '"', "»": '"',
                    "€": "EUR", "\u202f": " ", "\u00a0": " "}


def _latin1(text: str) -> str:
    for k, v in _LATIN1_FALLBACK.items():
        text = text.replace(k, v)
    return text.encode("latin-1", "replace").decode("latin-1")


def _find_ttf() -> tuple[Path, Path] | None:
    if DEJAVU.exists():
        return DEJAVU, DEJAVU_BOLD if DEJAVU_BOLD.exists() else DEJAVU
    try:
        cmd = ["fc-list", ":lang=fr", "file"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    fonts = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip().endswith(":"))
    fonts = [f for f in fonts if f.lower().endswith(".ttf")]
    return (Path(fonts[0]), Path(fonts[0])) if fonts else None


def write_pdf(doc: Doc, path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE.replace(tzinfo=dt.UTC))
    pdf.set_title(doc.title)
    pdf.set_author(doc.author)
    pdf.set_subject(doc.doc_type)
    pdf.set_lang("fr")
    ttf = _find_ttf()
    if ttf:
        pdf.add_font("Body", "", str(ttf[0]))
        pdf.add_font("Body", "B", str(ttf[1]))
        family, clean = "Body", (lambda s: s)
    else:
        family, clean = "Helvetica", _latin1
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    w = pdf.epw
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(w, 8, clean(doc.title), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    pdf.multi_cell(w, 6, clean(f"Auteur : {doc.author}"), align="L", new_x="LMARGIN", new_y="NEXT")
    for s in doc.sections:
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.multi_cell(w, 7, clean(s.heading), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        for p in s.paragraphs:
            pdf.multi_cell(w, 5.5, clean(p), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        for b in s.bullets:
            pdf.multi_cell(w, 5.5, clean(f"- {b}"), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_xlsx(doc: Doc, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.properties.title, wb.properties.creator = doc.title, doc.author
    wb.properties.subject, wb.properties.language = doc.doc_type, "fr-FR"
    wb.properties.created = wb.properties.modified = FIXED_DATE
    ws = wb.active
    assert ws is not None
    ws.title = "Présentation"
    ws.column_dimensions["A"].width = 110
    ws.append([doc.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"Auteur : {doc.author}"])
    for s in doc.sections:
        ws.append([])
        ws.append([s.heading])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        for p in s.paragraphs + [f"• {b}" for b in s.bullets]:
            ws.append([p])
            ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    if doc.lines:
        q = wb.create_sheet("Devis")
        q.append(QUOTE_HEADER)
        for cell in q[1]:
            cell.font = Font(bold=True)
        for ln in doc.lines:
            q.append([ln.service, ln.detail, ln.quantity, ln.unit, ln.unit_price, ln.total])
        q.append(["Total HT", "", "", "", "", round(sum(ln.total for ln in doc.lines), 2)])
        for col, width in zip("ABCDEF", (34, 70, 10, 12, 22, 18), strict=True):
            q.column_dimensions[col].width = width
        for row in q.iter_rows(min_row=2, min_col=5, max_col=6):
            for cell in row:
                cell.number_format = '#,##0.00 "€"'
    wb.save(str(path))


def write_pptx(doc: Doc, path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Pt

    prs = Presentation()
    cp = prs.core_properties
    cp.title, cp.author, cp.subject, cp.language = doc.title, doc.author, doc.doc_type, "fr-FR"
    cp.created = cp.modified = FIXED_DATE
    cp.last_modified_by, cp.revision = doc.author, 1
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    slide.shapes.title.text = doc.title
    slide.placeholders[1].text = doc.author
    for s in doc.sections:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = s.heading
        body = slide.placeholders[1].text_frame
        items = s.paragraphs + s.bullets
        body.text = items[0] if items else ""
        for item in items[1:]:
            body.add_paragraph().text = item
        size = Pt(14) if sum(len(i) for i in items) < 500 else Pt(11)
        for para in body.paragraphs:
            for run in para.runs:
                run.font.size = size
    prs.save(str(path))


def write_html(doc: Doc, path: Path) -> None:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="fr">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(doc.title)}</title>", f'<meta name="author" content="{e(doc.author)}">',
           f'<meta name="description" content="{e(doc.title)}">', "</head>", "<body>",
           f"<h1>{e(doc.title)}</h1>", f'<p class="author">Auteur : {e(doc.author)}</p>']
    for i, s in enumerate(doc.sections):
        out.append(f"<h2>{e(s.heading)}</h2>")
        out.extend(f"<p>{e(p)}</p>" for p in s.paragraphs)
        if s.bullets:
            out.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in s.bullets) + "</ul>")
        if doc.lines and i == 0:
            out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in QUOTE_HEADER)
                       + "</tr></thead><tbody>")
            for row in _quote_rows(doc):
                out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
    out += ["</body>", "</html>", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_odt(doc: Doc, path: Path) -> None:
    from odf import meta, text
    from odf.dc import Creator, Language, Subject, Title
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties

    od = OpenDocumentText()
    od.meta.addElement(Title(text=doc.title))
    od.meta.addElement(Creator(text=doc.author))
    od.meta.addElement(meta.InitialCreator(text=doc.author))
    od.meta.addElement(Subject(text=doc.doc_type))
    od.meta.addElement(Language(text="fr-FR"))
    od.meta.addElement(meta.CreationDate(text=FIXED_DATE.isoformat()))
    h1 = Style(name="Heading 1", family="paragraph")
    h1.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    h2 = Style(name="Heading 2", family="paragraph")
    h2.addElement(TextProperties(fontsize="13pt", fontweight="bold"))
    od.styles.addElement(h1)
    od.styles.addElement(h2)
    od.text.addElement(text.H(outlinelevel=1, stylename=h1, text=doc.title))
    od.text.addElement(text.P(text=f"Auteur : {doc.author}"))
    for i, s in enumerate(doc.sections):
        od.text.addElement(text.H(outlinelevel=2, stylename=h2, text=s.heading))
        for p in s.paragraphs:
            od.text.addElement(text.P(text=p))
        if s.bullets:
            lst = text.List()
            for b in s.bullets:
                item = text.ListItem()
                item.addElement(text.P(text=b))
                lst.addElement(item)
            od.text.addElement(lst)
        if doc.lines and i == 0:
            for row in _quote_rows(doc):
                od.text.addElement(text.P(text=" | ".join(c for c in row if c)))
    buf = io.BytesIO()
    od.write(buf)
    path.write_bytes(buf.getvalue())


WRITERS: dict[str, Callable[[Doc, Path], None]] = {
    "docx": write_docx, "pdf": write_pdf, "xlsx": write_xlsx, "pptx": write_pptx, "html": write_html,
    "odt": write_odt,
}

_CORE_DATE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def normalize_zip(path: Path) -> None:
    """Rewrite an OOXML/ODF zip with fixed timestamps so re-runs are byte-identical."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _CORE_DATE.sub(rb"\g<1>2026-01-15T09:00:00Z\g<2>", data)
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            new.compress_type = info.compress_type
            new.external_attr = 0o644 << 16
            dst.writestr(new, data)
    path.write_bytes(buf.getvalue())


def write(doc: Doc, path: Path) -> None:
    """Write doc to path in its format."""
    WRITERS[doc.fmt](doc, path)
    if doc.fmt in ZIPPED:
        normalize_zip(path)
