"""Read an export (CSV in UTF-8/BOM/GBK/GB18030/UTF-16, XLSX, XLS) into a DuckDB table of text.

Everything is read as VARCHAR: typing and validation happen afterwards in one SQL pass, so a
bad cell becomes a quarantined row with its reason instead of a failed import.

The result is a view `<name>` with `line_no` (the row number a user sees: the physical line in a
text editor for CSV, the Excel row for XLSX) and columns c0, c1, … in header order. Title rows
above the header are found by looking for the row that carries known header names.

Why transcoding in Python: DuckDB 2.0 reads only UTF-8 (and UTF-16/Latin-1) and its `encodings`
extension cannot be installed offline on these machines, so GBK/GB18030 files are converted to a
temporary UTF-8 file in 1 MiB chunks (streaming, constant memory) before `read_csv` sees them.
"""

from __future__ import annotations

import codecs
import concurrent.futures
import csv
import datetime as dt
import io
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from etl.profiles import normalize_header
from kpi.errors import FileRefused

CHUNK = 1 << 20
BLANK_LINE = re.compile(rb"\n\r?\n")
HEAD_ROWS = 30  # title rows + header must sit within the first 30 rows
DELIMITERS = (",", "\t", ";", "|")


@dataclass
class RawExport:
    path: Path
    kind: str  # csv | xlsx | xls
    encoding: str
    headers: list[str]  # the export's own header texts, one per column c0, c1, …
    header_line: int  # 1-based line/row of the header
    view: str  # DuckDB view: line_no, c0 … c{n-1}
    blank_rows: int = 0  # blank lines the CSV parser dropped (counted as skipped rows)
    temp_files: list[Path] = field(default_factory=list)

    def release(self, con) -> None:
        """Drop the view, its tables and transcoded copies (a run may load dozens of files)."""
        con.execute(f"DROP VIEW IF EXISTS {self.view}")
        for suffix in ("_csv", "_blank", "_xl"):
            con.execute(f"DROP TABLE IF EXISTS {self.view}{suffix}")
        for f in self.temp_files:
            f.unlink(missing_ok=True)


def file_kind(path: Path) -> str:
    """csv | xlsx | xls, by content first (a renamed file is still recognised), then by suffix."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4096)
    except OSError as err:
        raise FileRefused(
            f"{path.name}：无法读取文件（{err.strerror}）。请检查路径和访问权限。"
        ) from None
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if magic.startswith(b"%PDF") or (
        b"\x00" in magic and not magic.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        raise FileRefused(
            f"{path.name}：不是 CSV 或 Excel（xlsx/xls）文件。请从业务系统导出 CSV 或 Excel 后再导入。"
        )
    return "csv"


def detect_encoding(path: Path) -> str:
    """utf-8-sig | utf-8 | utf-16 | gb18030 (GB18030 is a superset of GBK and GB2312)."""
    with path.open("rb") as fh:
        head = fh.read(CHUNK)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileRefused(
            f"{path.name}：无法识别文件编码（不是 UTF-8、GBK 或 GB18030）。请在 Excel/WPS 中“另存为” CSV UTF-8 后再导入。"
        ) from None


def transcode_to_utf8(path: Path, encoding: str, out: Path) -> None:
    """Stream `path` from `encoding` into a UTF-8 file, 1 MiB at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        line = 1
        while chunk := src.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                raise FileRefused(
                    f"{path.name}：第 {line} 行附近有无法按 {encoding.upper()} 解码的字节，文件可能已损坏或混用了编码。"
                    "请重新导出，或在 Excel/WPS 中“另存为” CSV UTF-8 后再导入。"
                ) from None
            line += text.count("\n")
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))


def _cell_text(value: object) -> str | None:
    """An XLSX cell as the text a user would see; real date cells become ISO timestamps."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


def find_header_row(rows: list[list[str | None]], known: set[str]) -> int:
    """Index of the header row: the one naming the most known headers; else the first full-width row."""
    best, best_hits = None, 0
    for i, row in enumerate(rows[:HEAD_ROWS]):
        hits = sum(1 for c in row if c and normalize_header(c) in known)
        if hits > best_hits:
            best, best_hits = i, hits
    if best is not None and best_hits >= 2:
        return best
    widths = [sum(1 for c in row if c not in (None, "")) for row in rows[:HEAD_ROWS]]
    if not widths or max(widths) == 0:
        return 0
    # No known names: the first row about as wide as the widest (title rows have one cell).
    return next(
        i for i, w in enumerate(widths) if w >= max(2, max(widths) // 2) or w == max(widths)
    )


def read_export(
    con, path: Path, known: set[str], view: str, tmp_dir: Path, encoding: str | None = None
) -> RawExport:
    """Read `path` into DuckDB view `view` (see module docstring); `encoding` overrides detection."""
    path = Path(path)
    if not path.is_file():
        raise FileRefused(f"{path}：文件不存在。请检查文件名和路径。")
    kind = file_kind(path)
    if kind == "csv":
        return _read_csv(con, path, known, view, tmp_dir, encoding)
    return _read_workbook(con, path, kind, known, view)


# ── CSV ───────────────────────────────────────────────────────────────────────────────────────


def _head_rows(text_path: Path, encoding: str) -> tuple[str, list[list[str]], list[int]]:
    """Delimiter, the first rows parsed, and the physical line each of those rows ends on."""
    with text_path.open("r", encoding=encoding, newline="") as fh:
        head = fh.read(256 * 1024)
    lines = head.splitlines()[: HEAD_ROWS * 3]
    counts = {d: max((ln.count(d) for ln in lines), default=0) for d in DELIMITERS}
    delim = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    reader = csv.reader(io.StringIO(head), delimiter=delim)
    rows, ends = [], []
    try:
        for row in reader:
            rows.append(row)
            ends.append(reader.line_num)
            if len(rows) >= HEAD_ROWS:
                break
    except csv.Error:
        pass
    return delim, rows, ends


def _blank_lines(text_path: Path, after_line: int) -> list[int]:
    """Physical numbers of empty lines after the header; DuckDB's reader drops those silently."""
    found = []
    with text_path.open("rb") as fh:
        if fh.seek(0, 2) == 0:
            return found
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            # one pass over the file; re's literal scan is ~2× faster here than mmap.find
            if BLANK_LINE.search(mm) is None:
                return found
            has_quotes = mm.find(b'"') >= 0
            data = mm[:]
    if (
        has_quotes
    ):  # a blank line inside a quoted cell is not a blank row: let the csv module decide
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        for row in reader:
            if not row and reader.line_num > after_line:
                found.append(reader.line_num)
        return found
    for m in re.finditer(rb"\n(?=\r?\n)", data):
        line = data.count(b"\n", 0, m.start()) + 2
        if line > after_line:
            found.append(line)
    return found


def _read_csv(
    con, path: Path, known: set[str], view: str, tmp_dir: Path, encoding: str | None = None
) -> RawExport:
    encoding = encoding or detect_encoding(path)
    text_path, temp = path, []
    if encoding in ("gb18030", "utf-16"):
        text_path = tmp_dir / (path.stem + ".utf8.csv")
        transcode_to_utf8(path, encoding, text_path)
        temp.append(text_path)
    delim, rows, ends = _head_rows(text_path, "utf-8-sig")
    if not rows:
        raise FileRefused(f"{path.name}：文件是空的，没有表头也没有数据行。请确认导出是否成功。")
    h = find_header_row(rows, known)
    headers = [c.strip() for c in rows[h]]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise FileRefused(f"{path.name}：找不到表头行。请确认文件前 {HEAD_ROWS} 行内有列名。")
    header_line = ends[h]
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    table = f"{view}_csv"
    base = (
        f"read_csv($path, auto_detect=false, header=false, skip={int(header_line)}, "
        f"delim=$delim, quote='\"', escape='\"', null_padding=true, strict_mode=false, "
        f"columns={{{cols}}}"
    )
    # The scans for quotes and blank lines run on another thread while DuckDB parses the file
    # (DuckDB releases the GIL): they no longer add their time to the read.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    scan = pool.submit(_text_scan, text_path, header_line)
    pool.shutdown(wait=False)
    try:
        try:
            con.execute(
                f"CREATE TEMP TABLE {table} AS SELECT * FROM {base})",
                {"path": str(text_path), "delim": delim},
            )
        except duckdb.Error as err:  # quoted newlines need the single-threaded scanner
            if "parallel" not in str(err):
                raise
            con.execute(
                f"CREATE TEMP TABLE {table} AS SELECT * FROM {base}, parallel=false)",
                {"path": str(text_path), "delim": delim},
            )
    except duckdb.Error as err:
        if "unicode" in str(err).lower() and encoding == "utf-8":
            # The first MiB looked like UTF-8 but a later part is not: it is a GB18030 file.
            text_path = tmp_dir / (path.stem + ".utf8.csv")
            transcode_to_utf8(path, "gb18030", text_path)
            return _finish_csv(
                con,
                path,
                "gb18030",
                text_path,
                headers,
                header_line,
                table,
                view,
                delim,
                [text_path],
                cols,
                None,
            )
        raise FileRefused(
            f"{path.name}：无法按 CSV 读取（{str(err).splitlines()[0]}）。请确认是逗号分隔的 CSV 文件。"
        ) from None
    return _finish_csv(
        con, path, encoding, text_path, headers, header_line, table, view, delim, temp, None, scan
    )


def _text_scan(text_path: Path, header_line: int) -> tuple[bool, list[int]]:
    """Whether the file has a double quote at all, and its blank lines after the header."""
    return _contains_quote(text_path), _blank_lines(text_path, header_line)


def _finish_csv(
    con, path, encoding, text_path, headers, header_line, table, view, delim, temp, cols, scan
):
    if cols is not None:  # re-read after a late transcoding
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT * FROM read_csv($path, auto_detect=false, header=false, "
            f"skip={int(header_line)}, delim=$delim, quote='\"', escape='\"', null_padding=true, "
            f"strict_mode=false, parallel=false, columns={{{cols}}})",
            {"path": str(text_path), "delim": delim},
        )
    line = f"(rowid + {int(header_line) + 1})"
    # Line numbers: a record's physical line is shifted by newlines inside earlier quoted cells
    # and by blank lines the parser dropped. Both are rare, so the plain case stays a cheap view.
    cells = [f"c{i}" for i in range(len(headers))]
    has_quote, blanks = scan.result() if scan is not None else _text_scan(text_path, header_line)
    has_inner_newlines = (
        con.execute(
            f"SELECT bool_or({' OR '.join(f'contains({c}, chr(10))' for c in cells)}) FROM {table}"
        ).fetchall()[0][0]
        if has_quote
        else False
    )
    if has_inner_newlines:
        nl = " + ".join(
            f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in cells
        )
        line = (
            f"({line} + coalesce(sum({nl}) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING "
            f"AND 1 PRECEDING), 0))"
        )
    select = f"SELECT CAST({line} AS INTEGER) AS line_no, {', '.join(cells)} FROM {table}"
    if blanks:
        # The j-th blank line b_j (1-based) shifts every record whose unshifted line q >= b_j - j + 1.
        shifts: dict[int, int] = {}
        for j, b in enumerate(sorted(blanks), start=1):
            shifts[b - j + 1] = (
                j  # consecutive blank lines share a threshold: keep the larger shift
            )
        values = ", ".join(f"({t}, {j})" for t, j in shifts.items())
        con.execute(
            f"CREATE TEMP TABLE {view}_blank AS SELECT * FROM (VALUES {values}) v(t, shift)"
        )
        select = (
            f"SELECT CAST(r.line_no + coalesce(b.shift, 0) AS INTEGER) AS line_no, "
            f"{', '.join('r.' + c for c in cells)} FROM ({select}) r "
            f"ASOF LEFT JOIN {view}_blank b ON r.line_no >= b.t"
        )
    con.execute(f"CREATE TEMP VIEW {view} AS {select}")
    return RawExport(path, "csv", encoding, headers, header_line, view, len(blanks), temp)


def _contains_quote(text_path: Path) -> bool:
    with text_path.open("rb") as fh:
        if fh.seek(0, 2) == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b'"') >= 0


# ── XLSX / XLS ────────────────────────────────────────────────────────────────────────────────


def _read_workbook(con, path: Path, kind: str, known: set[str], view: str) -> RawExport:
    import python_calamine as calamine

    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        sheets = [
            book.get_sheet_by_index(i).to_python(skip_empty_area=False)
            for i in range(len(book.sheet_names))
        ]
    except (
        calamine.CalamineError,
        calamine.PasswordError,
        calamine.XmlError,
        calamine.ZipError,
        OSError,
        ValueError,
    ) as err:
        raise FileRefused(
            f"{path.name}：无法按 Excel 读取（{err}）。文件可能已损坏或有密码保护，请重新导出。"
        ) from None
    # The sheet that carries known headers (exports sometimes put a 说明 sheet first).
    best = None
    for rows in sheets:
        head = [[_cell_text(v) for v in row] for row in rows[:HEAD_ROWS]]
        if not head:
            continue
        h = find_header_row(head, known)
        hits = sum(1 for c in head[h] if c and normalize_header(c) in known)
        if best is None or hits > best[0]:
            best = (hits, rows, h, head[h])
    if best is None:
        raise FileRefused(f"{path.name}：工作簿里没有任何内容。请确认导出是否成功。")
    _, rows, h, header_cells = best
    headers = [(c or "").strip() for c in header_cells]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise FileRefused(f"{path.name}：找不到表头行。请确认前 {HEAD_ROWS} 行内有列名。")
    data = rows[h + 1 :]
    width = len(headers)
    columns = {"line_no": pa.array(range(h + 2, h + 2 + len(data)), pa.int32())}
    for i in range(width):
        columns[f"c{i}"] = pa.array(
            [_cell_text(r[i]) if i < len(r) else None for r in data], pa.string()
        )
    table = pa.table(columns)
    con.register(f"{view}_arrow", table)
    con.execute(f"CREATE TEMP TABLE {view}_xl AS SELECT * FROM {view}_arrow")
    con.unregister(f"{view}_arrow")
    con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {view}_xl")
    return RawExport(path, kind, "xlsx", headers, h + 1, view)
