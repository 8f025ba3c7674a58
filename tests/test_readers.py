"""Readers: encodings, title rows, 合计/blank rows, line numbers, XLSX cells, every date format."""

from __future__ import annotations

import datetime as dt

import pytest
import xlsxwriter
import xlwt

from etl import dates
from etl.profiles import builtin_profiles, known_headers
from etl.readers import read_export
from kpi import store
from kpi.errors import FileRefused

KNOWN = known_headers(builtin_profiles())
HEADER = "办件编号,所属区县,受理时间,事项名称"
ROWS = [
    "BJ001,柯城区,2026-07-01 09:05:00,企业设立登记",
    "BJ002,衢江区,2026/7/2 9:05,不动产转移登记",
]


def read(path, tmp_path):
    con = store.connect_memory()
    raw = read_export(con, path, KNOWN, "raw", tmp_path)
    rows = con.execute("SELECT * FROM raw ORDER BY line_no").fetchall()
    return raw, rows


@pytest.mark.parametrize(
    "encoding, bom",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("gbk", b""),
        ("gb18030", b""),
        ("utf-16", b""),  # Python's utf-16 codec writes its own BOM (Excel "Unicode 文本")
    ],
)
def test_each_encoding_reads_the_same_cells(tmp_path, encoding, bom):
    path = tmp_path / "export.csv"
    path.write_bytes(bom + "\n".join([HEADER, *ROWS, ""]).encode(encoding))
    raw, rows = read(path, tmp_path)
    assert raw.headers == ["办件编号", "所属区县", "受理时间", "事项名称"]
    assert rows == [
        (2, "BJ001", "柯城区", "2026-07-01 09:05:00", "企业设立登记"),
        (3, "BJ002", "衢江区", "2026/7/2 9:05", "不动产转移登记"),
    ]


def test_gb18030_only_characters_survive(tmp_path):
    # 𠀀 (U+20000) is outside GBK: only GB18030's four-byte form can carry it.
    path = tmp_path / "export.csv"
    path.write_bytes(f"{HEADER}\nBJ009,柯城区,2026-07-01,𠀀字号登记\n".encode("gb18030"))
    raw, rows = read(path, tmp_path)
    assert raw.encoding == "gb18030"
    assert rows[0][4] == "𠀀字号登记"


def test_title_rows_blank_lines_and_total_row_keep_physical_line_numbers(tmp_path):
    text = (
        "2026年第三季度12345工单明细\n"  # line 1: title
        "导出时间：2026-10-01\n"  # line 2: second title line
        "工单编号,来电时间,所属区县\n"  # line 3: header
        "GD1,2026-07-01 08:00:00,柯城区\n"  # line 4
        "\n"  # line 5: blank
        "GD2,2026-07-02 08:00:00,江山市\n"  # line 6
        "合计,2,\n"
    )  # line 7
    path = tmp_path / "hotline.csv"
    path.write_bytes(text.encode("gbk"))
    raw, rows = read(path, tmp_path)
    assert raw.header_line == 3
    assert raw.blank_rows == 1
    assert [(r[0], r[1]) for r in rows] == [(4, "GD1"), (6, "GD2"), (7, "合计")]


def test_windows_line_endings_with_a_blank_line(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes("\r\n".join([HEADER, ROWS[0], "", ROWS[1], ""]).encode("gbk"))
    raw, rows = read(path, tmp_path)
    assert raw.blank_rows == 1
    assert [(r[0], r[1], r[4]) for r in rows] == [
        (2, "BJ001", "企业设立登记"),
        (4, "BJ002", "不动产转移登记"),
    ]


def test_quoted_newlines_shift_the_following_line_numbers(tmp_path):
    text = (
        "工单编号,诉求内容,所属区县\n"
        'GD1,"第一行\n第二行\n第三行",柯城区\n'  # lines 2–4
        "GD2,普通,江山市\n"  # line 5
        "\n"  # line 6: blank
        'GD3,"a\nb",柯城区\n'  # lines 7–8
        "GD4,c,柯城区\n"
    )  # line 9
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    _, rows = read(path, tmp_path)
    assert [(r[0], r[1]) for r in rows] == [(2, "GD1"), (5, "GD2"), (7, "GD3"), (9, "GD4")]
    assert rows[0][2] == "第一行\n第二行\n第三行"


def test_short_rows_are_padded_and_tab_delimited_files_work(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "办件编号\t所属区县\t受理时间\nBJ1\t柯城区\t2026-07-01\n合计\t1\n", encoding="utf-8"
    )
    _, rows = read(path, tmp_path)
    assert rows == [(2, "BJ1", "柯城区", "2026-07-01"), (3, "合计", "1", None)]


def test_xlsx_title_row_real_dates_numbers_and_blank_rows(tmp_path):
    path = tmp_path / "ratings.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("明细")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write(0, 0, "2026年第三季度好差评明细")
    for c, h in enumerate(["评价编号", "评价时间", "所属区县", "评价等级"]):
        sheet.write(1, c, h)
    sheet.write_number(2, 0, 2549)
    sheet.write_datetime(2, 1, dt.datetime(2026, 7, 1, 9, 5), stamp)
    sheet.write(2, 2, "柯城区")
    sheet.write(2, 3, "满意")
    sheet.write(3, 0, "PJ2")  # row 4: text date, not padded
    sheet.write(3, 1, "2026/7/2 9:05:00")
    sheet.write_number(3, 2, 330803)
    sheet.write(3, 3, "非常满意")
    sheet.write(5, 0, "PJ3")  # row 5 left blank; row 6 has a serial number date
    sheet.write_number(5, 1, 46204.5)
    sheet.write(5, 2, "江山")
    sheet.write(5, 3, "不满意")
    book.close()
    raw, rows = read(path, tmp_path)
    assert raw.kind == "xlsx" and raw.header_line == 2
    assert rows == [
        (3, "2549", "2026-07-01 09:05:00", "柯城区", "满意"),
        (4, "PJ2", "2026/7/2 9:05:00", "330803", "非常满意"),
        (5, None, None, None, None),
        (6, "PJ3", "46204.5", "江山", "不满意"),
    ]


@pytest.mark.parametrize("content", [b"\x00\x01\x02\x03binary", b"%PDF-1.7\x00\x00"])
def test_binary_files_are_refused(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match="不是 CSV 或 Excel"):
        read(path, tmp_path)


def test_broken_xlsx_is_refused_with_the_file_name(tmp_path):
    path = tmp_path / "坏文件.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(FileRefused, match="坏文件.xlsx：无法按 Excel 读取"):
        read(path, tmp_path)


# Expected values written by hand from the text.
DATE_CASES = [
    ("2026-07-01 09:05:00", dt.datetime(2026, 7, 1, 9, 5, 0)),
    ("2026-07-01 09:05", dt.datetime(2026, 7, 1, 9, 5)),
    ("2026/7/1 9:05", dt.datetime(2026, 7, 1, 9, 5)),
    ("2026/7/1 9:05:00", dt.datetime(2026, 7, 1, 9, 5)),
    ("2026/07/01", dt.datetime(2026, 7, 1)),
    ("2026年7月1日", dt.datetime(2026, 7, 1)),
    ("2026年7月1日 9时5分", dt.datetime(2026, 7, 1, 9, 5)),
    ("20260701090500", dt.datetime(2026, 7, 1, 9, 5)),
    ("20260701", dt.datetime(2026, 7, 1)),
    ("2026-07-01T09:05:00", dt.datetime(2026, 7, 1, 9, 5)),
    ("2012-11-20T07:50:59.000", dt.datetime(2012, 11, 20, 7, 50, 59)),
    ("2024/10/03 00:00:00+00", dt.datetime(2024, 10, 3, 8, 0)),  # UTC midnight is 08:00 in Beijing
    ("2026-07-01 09:05:00+08:00", dt.datetime(2026, 7, 1, 9, 5)),
    ("2026-07-10T01:30:58Z", dt.datetime(2026, 7, 10, 9, 30, 58)),
    ("2026-07-10T01:30:58-05:00", dt.datetime(2026, 7, 10, 14, 30, 58)),  # 06:30 UTC
    ("2026-07-10T01:30:58+0530", dt.datetime(2026, 7, 10, 4, 0, 58)),  # 20:00 UTC the day before
    ("46204", dt.datetime(2026, 7, 1)),  # Excel serial: 1899-12-30 + 46204 days
    ("46204.378", dt.datetime(2026, 7, 1, 9, 4, 19)),  # .378 day = 32,659.2 s = 09:04:19
    ("2026-02-30 10:00:00", None),
    ("2026-13-45 25:61:00", None),
    ("未知", None),
    ("06/26/2018 10:58:54 AM", None),  # US format only when a profile says so
]


@pytest.mark.parametrize("text, expected", DATE_CASES)
def test_builtin_date_formats(text, expected):
    con = store.connect_memory()
    got = con.execute(
        f"SELECT {dates.timestamp_sql('$t', '$f')}", {"t": text, "f": dates.formats()}
    ).fetchone()[0]
    assert got == expected


def test_a_zone_can_be_ignored_for_plain_local_dates():
    con = store.connect_memory()
    sql = dates.timestamp_sql("$t", "$f", convert_zone=False)
    got = con.execute(f"SELECT {sql}", {"t": "2024/10/03 00:00:00+00", "f": dates.formats()})
    assert got.fetchone()[0] == dt.datetime(2024, 10, 3)


def test_profile_date_formats_enable_us_times():
    con = store.connect_memory()
    fmts = dates.formats(("%m/%d/%Y %I:%M:%S %p",))
    got = con.execute(
        f"SELECT {dates.timestamp_sql('$t', '$f')}", {"t": "06/26/2018 12:50:01 PM", "f": fmts}
    ).fetchone()[0]
    assert got == dt.datetime(2018, 6, 26, 12, 50, 1)


RATINGS_HEADER = ["评价编号", "评价时间", "所属区县", "评价等级"]


def _write_xls(path, rows: list[tuple]) -> None:
    """An Excel 97–2003 (.xls, BIFF) 好差评 export as older 政务 systems write it: a title row,
    the header, `rows` (datetimes as real date cells) and a 合计 row counting them."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("明细")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    sheet.write(0, 0, "2026年第三季度好差评明细")
    for c, h in enumerate(RATINGS_HEADER):
        sheet.write(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write(r, c, value, stamp)
            else:
                sheet.write(r, c, value)
    sheet.write(len(rows) + 2, 0, "合计")
    sheet.write(len(rows) + 2, 3, len(rows))
    book.save(str(path))


def test_xls_from_an_older_system_reads_like_xlsx(tmp_path):
    """The first two rows of the xlsx test above, as .xls."""
    path = tmp_path / "ratings.xls"
    _write_xls(
        path,
        [
            (2549, dt.datetime(2026, 7, 1, 9, 5), "柯城区", "满意"),
            ("PJ2", "2026/7/2 9:05:00", 330803, "非常满意"),
        ],
    )
    raw, rows = read(path, tmp_path)
    assert raw.kind == "xls" and raw.header_line == 2
    assert rows == [
        (3, "2549", "2026-07-01 09:05:00", "柯城区", "满意"),
        (4, "PJ2", "2026/7/2 9:05:00", "330803", "非常满意"),
        (5, "合计", None, None, "2"),
    ]


def test_xls_export_loads_end_to_end(tmp_path, isolated_data_dir):
    """A .xls 好差评 export with a title row and a 合计 row: two ratings loaded, the total row
    skipped as a total, nothing quarantined."""
    from etl.load import load_files

    path = tmp_path / "好差评.xls"
    _write_xls(
        path,
        [
            ("PJ1", dt.datetime(2026, 7, 1, 9, 5), "柯城区", "满意"),
            ("PJ2", dt.datetime(2026, 7, 2, 10, 0), "江山市", "不满意"),
        ],
    )
    [report] = load_files([path], build=False)
    assert (report.rows_loaded, report.rows_quarantined) == (2, 0)
    con = store.connect_warehouse()
    rows = con.execute(
        "SELECT rating_id, rated_at, district_code, level FROM ratings ORDER BY 1"
    ).fetchall()
    con.close()
    # 柯城区 330802, 江山市 330881 (catalogue); levels 非常满意 1 … 非常不满意 5: 满意 2, 不满意 4
    assert rows == [
        ("PJ1", dt.datetime(2026, 7, 1, 9, 5), "330802", 2),
        ("PJ2", dt.datetime(2026, 7, 2, 10, 0), "330881", 4),
    ]
