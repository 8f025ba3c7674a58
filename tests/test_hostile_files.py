"""Files that used to hang, crash or get a wrong refusal (issue 12, points 6–8): each is read, or
refused with a Chinese message naming the line or the limit and how to change it."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from etl import readers
from etl.load import load_files
from kpi import store
from kpi.errors import FileRefused
from tests.benchmarks.hostile import HEADER, ROW, rows, xlsx_bomb


def write(path: Path, lines: list[str], newline: str = "\n", encoding: str = "utf-8") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def refusal(path: Path) -> str:
    with pytest.raises(FileRefused) as err:
        load_files([path], build=False)
    return str(err.value)


def loaded_names(limit: int = 100) -> list[tuple[str, str]]:
    con = store.connect_warehouse()
    try:
        return con.execute(
            "SELECT case_id, item_name FROM approvals ORDER BY case_id LIMIT ?", [limit]
        ).fetchall()
    finally:
        con.close()


def test_a_few_nul_bytes_are_removed_and_the_file_is_read(tmp_path):
    nul_row = ROW.format(n=999).replace("劳动用工备案", "劳动\x00\x00用工备案")
    path = write(tmp_path / "nul.csv", [HEADER, *rows(2), nul_row])
    con = store.connect_memory()
    raw = readers.read_export(con, path, {"办件编号", "事项名称"}, "r", tmp_path)
    assert con.execute("SELECT line_no, c2 FROM r WHERE c0 = 'BJ000000000999'").fetchall() == [
        (4, "劳动用工备案")
    ]
    assert raw.notes == ["文件中有 2 个空字符（NUL，首次出现在第 4 行），已删除后读取"]
    [report] = load_files([path], build=False)
    assert report.rows_loaded == 3


def test_a_binary_file_is_still_not_a_csv(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 40)
    assert "二进制" in refusal(path)


def test_cr_only_line_endings_are_read_with_their_line_numbers(tmp_path):
    path = write(tmp_path / "mac.csv", [HEADER, *rows(10045)], newline="\r")
    [report] = load_files([path], build=False)
    assert (report.rows_read, report.rows_loaded) == (10045, 10045)
    con = store.connect_memory()
    readers.read_export(con, path, {"办件编号", "事项名称"}, "r", tmp_path)
    # row i (0-based) sits on physical line i + 2: the header is line 1
    assert con.execute("SELECT min(line_no), max(line_no), count(*) FROM r").fetchone() == (
        2,
        10046,
        10045,
    )


def test_mixed_utf8_and_gbk_names_the_first_line_that_is_not_utf8(tmp_path):
    gbk = ROW.format(n=999_999).replace("劳动用工备案", "混用编码").encode("gbk")
    for n_before in (5, 20000):  # inside the first MiB, and after it
        path = tmp_path / f"mixed{n_before}.csv"
        body = "\n".join([HEADER, *rows(n_before)]).encode() + b"\n" + gbk + b"\n"
        path.write_bytes(body + "\n".join(rows(3, 50_000)).encode() + b"\n")
        message = refusal(path)
        assert f"第 {n_before + 2} 行不是" in message and "混用了两种编码" in message, message


def test_a_gbk_file_is_still_read(tmp_path):
    path = write(tmp_path / "gbk.csv", [HEADER, *rows(3)], encoding="gbk")
    [report] = load_files([path], build=False)
    assert report.rows_loaded == 3 and ("BJ000000000001", "劳动用工备案") in loaded_names()


def test_a_2_mb_field_is_read_whole(tmp_path):
    long_name = "长" * 700_000  # 2.1 MB in UTF-8
    path = write(
        tmp_path / "long.csv", [HEADER, ROW.format(n=1).replace("劳动用工备案", long_name)]
    )
    [report] = load_files([path], build=False)
    assert report.rows_loaded == 1
    con = store.connect_warehouse()
    assert con.execute("SELECT length(item_name) FROM approvals").fetchone() == (700_000,)
    con.close()


def test_a_record_over_the_line_limit_is_refused_with_line_and_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_MAX_LINE_MB", "1")
    path = write(
        tmp_path / "long.csv",
        [HEADER, *rows(2), ROW.format(n=9).replace("劳动用工备案", "长" * 700_000)],
    )
    message = refusal(path)
    assert "第 4 行" in message and "1 MB" in message and "BIZENV_MAX_LINE_MB" in message, message


def test_an_unterminated_quote_is_explained_in_chinese(tmp_path):
    bad = ROW.format(n=3).replace("劳动用工备案", '"劳动用工备案')
    message = refusal(write(tmp_path / "quote.csv", [HEADER, *rows(2), bad, *rows(2, 5)]))
    # header on line 1, two good rows, the bad one on line 4: the rows after it are not lost silently
    assert "第 4 行的引号没有闭合" in message and "CSV Error" not in message, message


def test_too_many_columns_is_refused_early_naming_the_setting(tmp_path, monkeypatch):
    one_line = tmp_path / "one_line.csv"
    one_line.write_text("甲," * 60_000, encoding="utf-8")  # 100 KB+ on one line, no newline
    message = refusal(one_line)
    # 60,000 cells and an empty one after the last comma, which (like any trailing empty header) is dropped
    assert "60,000 列" in message and "5,000 列的上限" in message, message
    monkeypatch.setenv("BIZENV_MAX_COLUMNS", "10")
    message = refusal(write(tmp_path / "normal.csv", [HEADER, *rows(2)]))
    assert "13 列" in message and "BIZENV_MAX_COLUMNS" in message


def test_an_xlsx_bomb_is_refused_before_it_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_MAX_XLSX_MB", "2")
    bomb = xlsx_bomb(tmp_path / "bomb.xlsx", target_bytes=6 * 2**20)
    assert bomb.stat().st_size < 2**20  # small on disk, 6 MB expanded
    message = refusal(bomb)
    assert "解压后约 6 MB" in message and "BIZENV_MAX_XLSX_MB" in message, message


def test_an_xlsx_whose_used_range_is_huge_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_MAX_XLSX_CELLS", "1000000")
    path = tmp_path / "range.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER.split(","))
    sheet.write(199_999, 25, "x")  # used range A1:Z200000 = 5,200,000 cells
    book.close()
    with zipfile.ZipFile(path) as z:
        assert b'<dimension ref="A1:Z200000"/>' in z.read("xl/worksheets/sheet1.xml")
    message = refusal(path)
    assert "5,200,000 个单元格" in message and "BIZENV_MAX_XLSX_CELLS" in message, message


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_MAX_FILE_MB", "0.001")
    message = refusal(write(tmp_path / "big.csv", [HEADER, *rows(50)]))
    assert "BIZENV_MAX_FILE_MB" in message and "按季度或按区县分开导出" in message


def test_a_web_page_saved_as_xls_without_a_table_is_named_as_such(tmp_path):
    """A page with a table is read as that table (tests/test_real_exports.py); one without any
    (a login or error page saved as .xls) is refused as a web page, never quoting its markup."""
    path = tmp_path / "办件.xls"
    path.write_text(
        "<html><head><meta charset='gbk'></head><body><p>会话已过期，请重新登录</p></body></html>",
        encoding="utf-8",
    )
    message = refusal(path)
    assert "这是网页文件" in message and "另存为" in message and "<head>" not in message


def test_implausible_dates_are_quarantined_and_zones_converted(tmp_path, monkeypatch):
    """1900-01-01 and 0001-01-01 ("no date" placeholders) would create 1900Q1 / 0001Q1 in every
    picker; a time with Z or +08:00 is read as Beijing time (issue 12, 9)."""
    path = write(
        tmp_path / "dates.csv",
        [
            HEADER,
            ROW.format(n=1).replace("2026-07-01 09:40:25", "1900-01-01 00:00:00"),
            ROW.format(n=2).replace("2026-07-01 09:40:25", "0001-01-01 00:00:00"),
            ROW.format(n=3).replace("2026-07-10 09:30:58", "2026-07-10T01:30:58Z"),
            ROW.format(n=4).replace("2026-07-10 09:30:58", "2026-07-10T09:30:58+08:00"),
        ],
    )
    [report] = load_files([path], build=False)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 2, 2)
    con = store.connect_warehouse()
    try:
        assert con.execute(
            "SELECT line_no, reason FROM quarantine ORDER BY line_no"
        ).fetchall() == [
            (2, "时间早于合理范围：“1900-01-01 00:00:00”"),
            (3, "时间早于合理范围：“0001-01-01 00:00:00”"),
        ]
        # 01:30:58 UTC is 09:30:58 in Beijing; +08:00 is already Beijing time
        assert con.execute(
            "SELECT case_id, completed_at, period FROM approvals ORDER BY case_id"
        ).fetchall() == [
            ("BJ000000000003", dt.datetime(2026, 7, 10, 9, 30, 58), "2026Q3"),
            ("BJ000000000004", dt.datetime(2026, 7, 10, 9, 30, 58), "2026Q3"),
        ]
    finally:
        con.close()
    monkeypatch.setenv("BIZENV_EARLIEST_YEAR", "1800")  # the start of the range is a setting
    [again] = load_files(
        [
            write(
                tmp_path / "d2.csv",
                [HEADER, ROW.format(n=9).replace("2026-07-01 09:40:25", "1900-01-01 00:00:00")],
            )
        ],
        build=False,
    )
    assert again.rows_loaded == 1


def test_a_wide_export_reads_its_fields_and_still_skips_blank_and_total_rows(tmp_path):
    """Past etl.validate.WIDE_EXPORT_COLUMNS the blank/合计 test runs on the raw cells (one
    expression instead of one per column): same rows skipped, same values loaded."""
    from etl.validate import WIDE_EXPORT_COLUMNS

    n_extra = WIDE_EXPORT_COLUMNS + 20
    pad = "," * n_extra
    lines = [
        HEADER + "," + ",".join(f"附加{i}" for i in range(n_extra)),
        ROW.format(n=1) + pad,
        "," * (13 + n_extra - 1),  # a blank row
        ROW.format(n=2) + pad,
        "　合计,,,,,,,,,,,,3" + pad,  # a total row, behind a full-width space
        ",,,,,,,,,,,,," + ",x" * (n_extra - 1),  # only unmapped cells filled: not blank, no key
    ]
    [report] = load_files([write(tmp_path / "wide.csv", lines)], build=False)
    assert (report.rows_read, report.rows_loaded, report.rows_skipped) == (5, 2, 2)
    assert report.rows_quarantined == 1  # the row with unmapped cells only: 缺少编号
    assert [r[0] for r in loaded_names()] == ["BJ000000000001", "BJ000000000002"]


def test_a_file_that_is_mostly_bad_past_the_quarantine_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_MAX_QUARANTINE_ROWS", "5")
    bad = [ROW.format(n=i).replace("开化县", "火星区") for i in range(8)]
    message = refusal(write(tmp_path / "mostly_bad.csv", [HEADER, *rows(2, 100), *bad]))
    assert "10 行数据中有 8 行有问题" in message and "BIZENV_MAX_QUARANTINE_ROWS" in message
    # the same number of bad rows in a file that is mostly good still loads, every row kept
    [report] = load_files(
        [write(tmp_path / "mostly_good.csv", [HEADER, *rows(12, 200), *bad])], build=False
    )
    assert (report.rows_loaded, report.rows_quarantined) == (12, 8)
