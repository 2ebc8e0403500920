#!/usr/bin/env python3
"""Writes the XLSX report sheets the repository ships, from the figures of seed report 000
(Lâm Đồng Social Insurance, conference of May 2025, baolamdong.vn):

  examples/xlsx/lam-dong-2025-05.xlsx             regions as rows, one indicator per column
  examples/xlsx/lam-dong-2025-05-transposed.xlsx  the transpose: one indicator per row, as text
                                                  in the vi number locale and as percentage cells
  tests/fixtures/xlsx/lam-dong-2025-05-mistakes.xlsx
                                                  the first sheet with mistakes, for the tests

Each has a hand-written mapping next to it (*.mapping.json). Python's standard library only
(zipfile and hand-written XML), and the output is byte-for-byte the same on every run (fixed
timestamps, stored entries), so the committed files can be checked against this script:

  python3 examples/xlsx/make.py          # rewrite the files
  python3 examples/xlsx/make.py --check  # exit 1 if a committed file differs

Numbers are written the way Excel 2007-2013 wrote them, with 17 significant digits
(94.56 is <v>94.560000000000002</v>): the importer must read back the figure a person typed.
"""

import io
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "baolamdong.vn 2025-05"
SHEET = "Báo cáo 5-2025"

# (header, indicator, period, unit, qualifier, figure for 68, figure for VN)
SERIES = [
    ("Tỷ lệ bao phủ BHYT 2024 (%)", "hi_coverage_rate", "2024", "percent", None, 94.56, None),
    ("Tỷ lệ bao phủ BHXH 2024 (%)", "si_coverage_rate", "2024", "percent", None, 17.1, 42.71),
    ("Thu BHXH, BHYT, BHTN 2024 (tỷ đồng)", "contributions_collected", "2024", "billion_vnd", "more_than", 3818, None),
    ("Chi BHXH từ NSNN 2024 (tỷ đồng)", "benefits_paid_state_budget", "2024", "billion_vnd", "more_than", 333, None),
    ("Chi từ quỹ BHXH 2024 (tỷ đồng)", "benefits_paid_si_fund", "2024", "billion_vnd", "more_than", 2461, None),
    ("Chi trợ cấp BHTN 2024 (tỷ đồng)", "ui_benefits_paid", "2024", "billion_vnd", "more_than", 148, None),
    ("Chi KCB BHYT 2024 (tỷ đồng)", "hi_treatment_cost", "2024", "billion_vnd", "more_than", 875, None),
    ("Số người tham gia BHYT 5 tháng 2025", "hi_participants", "2025-01/2025-05", "persons", None, 1229935, None),
    ("Tỷ lệ bao phủ BHYT 5 tháng 2025 (%)", "hi_coverage_rate", "2025-01/2025-05", "percent", None, 90.44, None),
    ("Số người tham gia BHXH 5 tháng 2025", "si_participants", "2025-01/2025-05", "persons", None, 116249, None),
    ("Tỷ lệ bao phủ BHXH 5 tháng 2025 (%)", "si_coverage_rate", "2025-01/2025-05", "percent", None, 18.43, None),
    ("Chi BHXH, BHTN 5 tháng 2025 (tỷ đồng)", "benefits_paid", "2025-01/2025-05", "billion_vnd", "more_than", 1424, None),
    ("Chi từ NSNN 5 tháng 2025 (tỷ đồng)", "benefits_paid_state_budget", "2025-01/2025-05", "billion_vnd", "more_than", 148, None),
    ("Chi từ quỹ BHXH 5 tháng 2025 (tỷ đồng)", "benefits_paid_si_fund", "2025-01/2025-05", "billion_vnd", "more_than", 1222, None),
    ("Chi trợ cấp BHTN 5 tháng 2025 (tỷ đồng)", "ui_benefits_paid", "2025-01/2025-05", "billion_vnd", "more_than", 53, None),
    ("Lượt KCB BHYT 5 tháng 2025", "hi_treatment_visits", "2025-01/2025-05", "count", None, 843168, None),
    ("Chi KCB BHYT 5 tháng 2025 (tỷ đồng)", "hi_treatment_cost", "2025-01/2025-05", "billion_vnd", "more_than", 365, None),
    ("Số điểm thu", "collection_points", "2025-01/2025-05", "count", None, 276, None),
    ("Số nhân viên thu", "collectors", "2025-01/2025-05", "persons", None, 592, None),
    ("Số cộng tác viên", "collaborators", "2025-01/2025-05", "persons", None, 1486, None),
    ("Số người tham gia đã xác thực CCCD", "id_authenticated_participants", "2025-01/2025-05", "persons", None, 1207211, None),
]

# Cell styles (indexes into cellXfs below).
GENERAL, BOLD, TWO_DECIMALS, THOUSANDS, PERCENT = 0, 1, 2, 3, 4

STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="5">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""


def column_name(index):
    """0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(ord("A") + rem) + name
    return name


class Sheet:
    """Cells by (row, column), 1-based rows and 0-based columns, with their XML."""

    def __init__(self, name):
        self.name = name
        self.cells = {}

    def text(self, row, col, text, style=GENERAL):
        self.cells[(row, col)] = ("s", text, style)

    def number(self, row, col, value, style=GENERAL):
        self.cells[(row, col)] = ("n", "%.17g" % value, style)

    def raw(self, row, col, xml):
        """A cell given as its inner XML and attributes, e.g. a formula or an error."""
        self.cells[(row, col)] = ("raw", xml, GENERAL)


def sheet_xml(sheet, strings):
    rows = {}
    for (row, col), cell in sorted(sheet.cells.items()):
        rows.setdefault(row, []).append((col, cell))
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ]
    for row in sorted(rows):
        out.append('<row r="%d">' % row)
        for col, (kind, value, style) in rows[row]:
            ref = "%s%d" % (column_name(col), row)
            s = ' s="%d"' % style if style else ""
            if kind == "s":
                if value not in strings:
                    strings[value] = len(strings)
                out.append('<c r="%s" t="s"%s><v>%d</v></c>' % (ref, s, strings[value]))
            elif kind == "n":
                out.append('<c r="%s"%s><v>%s</v></c>' % (ref, s, value))
            else:
                attributes, inner = value
                out.append('<c r="%s"%s>%s</c>' % (ref, attributes, inner))
        out.append("</row>")
    out.append("</sheetData></worksheet>\n")
    return "".join(out)


def workbook_bytes(sheets):
    strings = {}
    worksheets = [sheet_xml(sheet, strings) for sheet in sheets]
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
        % (len(strings), len(strings))
        + "".join("<si><t>%s</t></si>" % escape(s) for s in strings)
        + "</sst>\n"
    )
    files = [
        (
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                '<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                % (i + 1)
                for i in range(len(sheets))
            )
            + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>\n",
        ),
        (
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>\n",
        ),
        (
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(
                '<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (escape(s.name, {'"': "&quot;"}), i + 1, i + 1)
                for i, s in enumerate(sheets)
            )
            + "</sheets></workbook>\n",
        ),
        (
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                '<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>'
                % (i + 1, i + 1)
                for i in range(len(sheets))
            )
            + '<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            % (len(sheets) + 1)
            + '<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            % (len(sheets) + 2)
            + "</Relationships>\n",
        ),
        ("xl/styles.xml", STYLES),
        ("xl/sharedStrings.xml", shared),
    ] + [("xl/worksheets/sheet%d.xml" % (i + 1), xml) for i, xml in enumerate(worksheets)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def title(sheet):
    sheet.text(1, 0, "BÁO CÁO TÌNH HÌNH THỰC HIỆN CHÍNH SÁCH BHXH, BHYT, BHTN", BOLD)
    sheet.text(2, 0, "Hội nghị triển khai nhiệm vụ năm 2025, tháng 5/2025 — nguồn: " + SOURCE)


def regions_as_rows():
    """Header on row 4; 68 Lâm Đồng on row 5, the national average (VN) on row 6, a footnote."""
    sheet = Sheet(SHEET)
    title(sheet)
    sheet.text(4, 0, "Mã", BOLD)
    sheet.text(4, 1, "Đơn vị", BOLD)
    sheet.text(5, 0, "68")
    sheet.text(5, 1, "Lâm Đồng")
    sheet.text(6, 0, "VN")
    sheet.text(6, 1, "Toàn quốc (bình quân)")
    for i, (header, _, _, unit, _, lam_dong, nation) in enumerate(SERIES):
        col = 2 + i
        sheet.text(4, col, header, BOLD)
        style = TWO_DECIMALS if unit == "percent" else THOUSANDS
        sheet.number(5, col, lam_dong, style)
        if nation is not None:
            sheet.number(6, col, nation, style)
    sheet.text(8, 0, "Ghi chú: các khoản thu, chi là số \"trên\" (more than) theo báo cáo.")
    return sheet


def vi_text(value):
    """1229935 -> 1.229.935, 94.56 -> 94,56: how a figure is typed as text in Vietnamese."""
    integer, _, fraction = ("%s" % value).partition(".")
    groups = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    return ".".join(groups) + ("," + fraction if fraction else "")


def regions_as_columns():
    """The transpose: labels in B, units in C, region codes on row 4 from column D on.

    Percentages are percentage cells (94.56% is stored as 0.9456), counts and money are text in
    the vi number locale ("1.229.935"), as sheets typed by hand often have them.
    """
    sheet = Sheet(SHEET)
    title(sheet)
    sheet.text(4, 0, "STT", BOLD)
    sheet.text(4, 1, "Chỉ tiêu", BOLD)
    sheet.text(4, 2, "ĐVT", BOLD)
    sheet.text(4, 3, "68", BOLD)
    sheet.text(4, 4, "VN", BOLD)
    for i, (header, _, _, unit, _, lam_dong, nation) in enumerate(SERIES):
        row = 5 + i
        sheet.number(row, 0, i + 1)
        sheet.text(row, 1, header)
        sheet.text(row, 2, {"percent": "%", "billion_vnd": "tỷ đồng", "persons": "người", "count": ""}[unit])
        for col, figure in ((3, lam_dong), (4, nation)):
            if figure is None:
                continue
            if unit == "percent":
                sheet.number(row, col, figure / 100, PERCENT)
            else:
                sheet.text(row, col, vi_text(figure))
    return sheet


def mistakes():
    """The first sheet with the mistakes a report may have, each in a cell of its own."""
    sheet = regions_as_rows()
    sheet.number(5, 2, 104.5, TWO_DECIMALS)  # C5: a coverage rate above 100%
    sheet.text(5, 9, "1,229,935")  # J5: en grouping in a sheet declared vi
    sheet.raw(5, 4, (' t="e"', "<f>E4/0</f><v>#DIV/0!</v>"))  # E5: an error
    sheet.raw(5, 5, ("", "<f>333*1</f>"))  # F5: a formula with no stored result
    sheet.text(6, 0, "99")  # A6: no such region
    return sheet


def outputs():
    return {
        ROOT / "examples/xlsx/lam-dong-2025-05.xlsx": workbook_bytes([regions_as_rows()]),
        ROOT / "examples/xlsx/lam-dong-2025-05-transposed.xlsx": workbook_bytes([regions_as_columns()]),
        ROOT / "tests/fixtures/xlsx/lam-dong-2025-05-mistakes.xlsx": workbook_bytes([mistakes()]),
    }


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for path, data in outputs().items():
        if check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print("wrote %s (%d bytes)" % (path.relative_to(ROOT), len(data)))
    if stale:
        for path in stale:
            print("%s differs from what make.py writes; run python3 examples/xlsx/make.py" % path.relative_to(ROOT))
        sys.exit(1)


if __name__ == "__main__":
    main()
