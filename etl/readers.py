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
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from etl.profiles import normalize_header
from kpi.errors import FileRefused, NotAnExport
from kpi.settings import Limits

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
    notes: list[str] = field(default_factory=list)  # what reading repaired, for the load summary

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
    if magic.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<table")):
        return "html"
    utf16 = magic.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if magic.startswith(b"%PDF") or (not utf16 and _looks_binary(magic)):
        raise NotAnExport(
            f"{path.name}：不是 CSV 或 Excel（xlsx/xls）文件（内容是二进制数据）。"
            "请从业务系统导出 CSV 或 Excel 后再导入。"
        )
    return "csv"


def _looks_binary(head: bytes) -> bool:
    """Mostly control bytes: an image, an archive, a database — not text with a stray NUL.

    A few NUL bytes inside a text export (a broken field from the source system) are removed
    when the file is read, and the load summary says so."""
    if not head:
        return False
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > 0.10


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
    except UnicodeDecodeError as err:
        before = head[: err.start].decode("utf-8", errors="ignore")
        if sum(1 for ch in before if ord(ch) > 0x7F) >= 4:
            # Real UTF-8 text (several Chinese characters) and then bytes that are not: rows
            # in two encodings. Guessing one would garble the other half.
            line = head[: err.start].count(b"\n") + 1
            raise FileRefused(
                f"{path.name}：文件前面是 UTF-8 编码，但第 {line} 行不是（可能是 GBK）——一个文件里混用了两种编码。"
                "改法：从业务系统重新导出整个文件；或用 Excel/WPS 打开，检查该行后“另存为” CSV UTF-8 再导入。"
            ) from None
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileRefused(
            f"{path.name}：无法识别文件编码（不是 UTF-8、GBK 或 GB18030）。请在 Excel/WPS 中“另存为” CSV UTF-8 后再导入。"
        ) from None


@dataclass
class Repairs:
    """What a normalising pass changed: NUL bytes dropped (first line seen), CR-only endings."""

    nul_bytes: int = 0
    nul_first_line: int = 0
    cr_only: bool = False

    def notes(self) -> list[str]:
        out = []
        if self.nul_bytes:
            out.append(
                f"文件中有 {self.nul_bytes} 个空字符（NUL，首次出现在第 {self.nul_first_line} 行），已删除后读取"
            )
        if self.cr_only:
            out.append("文件用单独的回车符（CR，旧式 Mac 格式）换行，已按换行读取")
        return out


def normalise_to_utf8(path: Path, encoding: str, out: Path, *, cr_only: bool = False) -> Repairs:
    """Stream `path` into a UTF-8 file, 1 MiB at a time: decode from `encoding`, drop NUL bytes,
    turn CR-only line endings into LF. Constant memory, one pass."""
    decoder = codecs.getincrementaldecoder(encoding)()
    repairs = Repairs(cr_only=cr_only)
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        line = 1
        held_cr = ""
        while chunk := src.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as err:
                bad = line + chunk[: err.start].count(b"\n")
                raise FileRefused(
                    f"{path.name}：第 {bad} 行有无法按 {encoding.upper()} 解码的字节，文件可能已损坏或混用了编码。"
                    "请重新导出，或在 Excel/WPS 中“另存为” CSV UTF-8 后再导入。"
                ) from None
            if "\x00" in text:
                if not repairs.nul_bytes:
                    repairs.nul_first_line = line + text[: text.index("\x00")].count(
                        "\r" if cr_only else "\n"
                    )
                repairs.nul_bytes += text.count("\x00")
                text = text.replace("\x00", "")
            if cr_only:
                text = held_cr + text
                held_cr = "\r" if text.endswith("\r") else ""
                if held_cr:
                    text = text[:-1]
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            line += text.count("\n")
            dst.write(text)
        dst.write(decoder.decode(b"", final=True).replace("\x00", "") + ("\n" if held_cr else ""))
    return repairs


def transcode_to_utf8(path: Path, encoding: str, out: Path) -> None:
    """Stream `path` from `encoding` into a UTF-8 file, 1 MiB at a time."""
    normalise_to_utf8(path, encoding, out)


def first_non_utf8_line(path: Path) -> int | None:
    """The first physical line that is not valid UTF-8 (one streaming pass), or None."""
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return n
    return None


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


def find_header_row(rows: Sequence[Sequence[str | None]], known: set[str]) -> int:
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
    limits = Limits.from_env()
    size_mb = path.stat().st_size / 2**20
    if size_mb > limits.max_file_mb:
        raise FileRefused(
            f"{path.name}：文件有 {size_mb:,.0f} MB，超过单个文件 {limits.max_file_mb:,.0f} MB 的上限。"
            f"请按季度或按区县分开导出；确需导入更大的文件，{limits.hint('max_file_mb')}。"
        )
    kind = file_kind(path)
    if kind == "html":
        return _read_html(con, path, known, view, limits)
    if kind == "csv":
        return _read_csv(con, path, known, view, tmp_dir, encoding, limits)
    return _read_workbook(con, path, kind, known, view, limits)


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
    found: list[int] = []
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
    con,
    path: Path,
    known: set[str],
    view: str,
    tmp_dir: Path,
    encoding: str | None = None,
    limits: Limits | None = None,
) -> RawExport:
    limits = limits or Limits.from_env()
    encoding = encoding or detect_encoding(path)
    text_path, temp = path, []
    with path.open("rb") as fh:
        head = fh.read(CHUNK)
    cr_only = encoding != "utf-16" and b"\r" in head and b"\n" not in head
    has_nul = encoding != "utf-16" and b"\x00" in head
    notes: list[str] = []
    if encoding in ("gb18030", "utf-16") or cr_only or has_nul:
        # One streaming pass to a UTF-8 copy: DuckDB then reads plain UTF-8 with LF endings.
        text_path = tmp_dir / (path.stem + ".utf8.csv")
        notes = normalise_to_utf8(path, encoding, text_path, cr_only=cr_only).notes()
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
    _check_width(path, len(headers), ends[h], limits)
    header_line = ends[h]
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    table = f"{view}_csv"
    max_line = int(limits.max_line_mb * 2**20)
    base = (
        f"read_csv($path, auto_detect=false, header=false, skip={int(header_line)}, "
        f"delim=$delim, quote='\"', escape='\"', null_padding=true, strict_mode=false, "
        f"max_line_size={max_line}, columns={{{cols}}}"
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
            bad = first_non_utf8_line(text_path)
            if bad is not None and not head.isascii():
                # The first MiB holds real UTF-8 text and a later line does not decode: two
                # encodings in one file (often rows pasted in from another export).
                raise FileRefused(
                    f"{path.name}：文件前面是 UTF-8 编码，但第 {bad} 行不是（可能是 GBK）——一个文件里混用了两种编码。"
                    "改法：从业务系统重新导出整个文件；或用 Excel/WPS 打开，检查该行后“另存为” CSV UTF-8 再导入。"
                ) from None
            # The first MiB was plain ASCII and a later part is not UTF-8: it is a GB18030 file.
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
                max_line=max_line,
            )
        raise FileRefused(_csv_error_text(path, err, limits)) from None
    raw = _finish_csv(
        con, path, encoding, text_path, headers, header_line, table, view, delim, temp, None, scan
    )
    raw.notes.extend(notes)
    return raw


def _check_width(path: Path, width: int, header_line: int, limits: Limits) -> None:
    if width > limits.max_columns:
        raise FileRefused(
            f"{path.name}：第 {header_line} 行（表头）有 {width:,} 列，超过 {limits.max_columns:,} 列的上限，"
            "不像是一份业务导出（可能整份文件只有一行，或分隔符不对）。"
            f"请检查文件；确属正常导出，{limits.hint('max_columns')}。"
        )


_CSV_LINE = re.compile(r"line[^0-9]{0,12}(\d+)", re.IGNORECASE)


def _csv_error_text(path: Path, err: Exception, limits: Limits) -> str:
    """DuckDB's English CSV error as a Chinese message naming the line and the fix."""
    text = str(err)
    m = _CSV_LINE.search(text)
    where = f"第 {m.group(1)} 行" if m else "文件中"
    low = text.lower()
    if "maximum line size" in low or "max_line_size" in low:
        return (
            f"{path.name}：{where}的一条记录超过 {limits.max_line_mb:g} MB 的上限（通常是某个单元格里有极长的文字，"
            f"或引号没有闭合）。请检查该行；确属正常数据，{limits.hint('max_line_mb')}。"
        )
    if "quote" in low or "unterminated" in low:
        return (
            f"{path.name}：{where}的引号没有闭合，后面的内容无法分列。"
            "改法：在 Excel/WPS 中打开检查该行，修正后“另存为” CSV UTF-8 再导入。"
        )
    return (
        f"{path.name}：{where}无法按 CSV 分列。请确认这是逗号（或制表符）分隔的 CSV 文件，"
        "或在 Excel/WPS 中打开后“另存为” CSV UTF-8 再导入。"
    )


def _text_scan(text_path: Path, header_line: int) -> tuple[int, list[int]]:
    """How many double quotes the file has, and its blank lines after the header."""
    return _count_quotes(text_path), _blank_lines(text_path, header_line)


def _finish_csv(
    con,
    path,
    encoding,
    text_path,
    headers,
    header_line,
    table,
    view,
    delim,
    temp,
    cols,
    scan,
    max_line: int = 16 * 2**20,
):
    if cols is not None:  # re-read after a late transcoding
        try:
            con.execute(
                f"CREATE TEMP TABLE {table} AS SELECT * FROM read_csv($path, auto_detect=false, header=false, "
                f"skip={int(header_line)}, delim=$delim, quote='\"', escape='\"', null_padding=true, "
                f"strict_mode=false, parallel=false, max_line_size={int(max_line)}, columns={{{cols}}})",
                {"path": str(text_path), "delim": delim},
            )
        except duckdb.Error as err:
            raise FileRefused(_csv_error_text(path, err, Limits.from_env())) from None
    line = f"(rowid + {int(header_line) + 1})"
    # Line numbers: a record's physical line is shifted by newlines inside earlier quoted cells
    # and by blank lines the parser dropped. Both are rare, so the plain case stays a cheap view.
    cells = [f"c{i}" for i in range(len(headers))]
    quotes, blanks = scan.result() if scan is not None else _text_scan(text_path, header_line)
    has_quote = quotes > 0
    has_inner_newlines = (
        con.execute(
            f"SELECT bool_or({' OR '.join(f'contains({c}, chr(10))' for c in cells)}) FROM {table}"
        ).fetchall()[0][0]
        if has_quote
        else False
    )
    nl = " + ".join(f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in cells)
    if has_inner_newlines and quotes % 2:
        # An odd number of quotes and a record that runs on over several lines: a quote was
        # opened and never closed, and the parser took every later line into one cell. Those
        # rows would be lost silently; refuse and name the line the quote opened on.
        last_nl = " OR ".join(f"contains({c}, chr(10))" for c in cells)
        opened = con.execute(
            f"SELECT min(rowid) FROM {table} WHERE rowid = (SELECT max(rowid) FROM {table}) "
            f"AND ({last_nl})"
        ).fetchone()[0]
        if opened is not None:
            before = con.execute(
                f"SELECT coalesce(sum({nl}), 0) FROM {table} WHERE rowid < ?", [opened]
            ).fetchone()[0]
            line_no = (
                int(header_line)
                + 1
                + int(opened)
                + int(before)
                + sum(1 for b in blanks if b <= int(header_line) + 1 + int(opened) + int(before))
            )
            raise FileRefused(
                f"{path.name}：第 {line_no} 行的引号没有闭合，从这一行起到文件末尾的内容都无法分列。"
                "改法：在 Excel/WPS 中打开检查该行（去掉多余的引号或补上闭合的引号），“另存为” CSV UTF-8 后再导入。"
            )
    if has_inner_newlines:
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


def _count_quotes(text_path: Path) -> int:
    """Double quotes in the file (a streaming count): an odd number means one never closed."""
    n = 0
    with text_path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            n += chunk.count(b'"')
    return n


# ── XLSX / XLS ────────────────────────────────────────────────────────────────────────────────


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def check_workbook_size(path: Path, limits: Limits) -> None:
    """Refuse an XLSX whose sheets would expand beyond the limits — before expanding anything.

    The zip directory states every member's uncompressed size, and each sheet's <dimension>
    (written by Excel, WPS and most exporters) its used range: both are read without inflating
    the sheets. A 6 MB file expanding to 1.5 GB is refused in milliseconds."""
    try:
        with zipfile.ZipFile(path) as z:
            members = [i for i in z.infolist() if i.filename.startswith("xl/")]
            expanded = sum(i.file_size for i in members)
            sheets = [i for i in members if i.filename.startswith("xl/worksheets/sheet")]
            biggest_cells = 0
            for info in sheets:
                with z.open(info) as fh:
                    m = _DIMENSION.search(fh.read(4096))
                if m:
                    biggest_cells = max(biggest_cells, _column_number(m.group(1)) * int(m.group(2)))
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # calamine gives the Chinese "cannot read" message
    if expanded > limits.max_xlsx_expanded_mb * 2**20:
        raise FileRefused(
            f"{path.name}：工作簿解压后约 {expanded / 2**20:,.0f} MB，超过 {limits.max_xlsx_expanded_mb:,.0f} MB 的上限"
            "（文件可能异常，或是一个“压缩炸弹”）。请按季度分开导出，或导出为 CSV；"
            f"确属正常数据，{limits.hint('max_xlsx_expanded_mb')}。"
        )
    if biggest_cells > limits.max_xlsx_cells:
        raise FileRefused(
            f"{path.name}：工作表的使用范围有 {biggest_cells:,} 个单元格，超过 {limits.max_xlsx_cells:,} 的上限。"
            f"请删除多余的空行空列或改为导出 CSV；确属正常数据，{limits.hint('max_xlsx_cells')}。"
        )


def _read_workbook(
    con, path: Path, kind: str, known: set[str], view: str, limits: Limits | None = None
) -> RawExport:
    import python_calamine as calamine

    limits = limits or Limits.from_env()
    if kind == "xlsx":
        check_workbook_size(path, limits)

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
    return _rows_to_view(con, path, kind, best, view, limits)


def _rows_to_view(con, path: Path, kind: str, best, view: str, limits: Limits) -> RawExport:
    """The chosen sheet (hits, rows, header index, header cells) as the view of text cells."""
    _, rows, h, header_cells = best
    headers = [(c or "").strip() for c in header_cells]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise FileRefused(f"{path.name}：找不到表头行。请确认前 {HEAD_ROWS} 行内有列名。")
    _check_width(path, len(headers), h + 1, limits)
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
    return RawExport(path, kind, "xlsx" if kind != "html" else "html", headers, h + 1, view)


# ── a web page saved as .xls ─────────────────────────────────────────────────────────────────

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
HTML_FIX = "改法：用 Excel/WPS 打开它，“另存为” Excel 工作簿（.xlsx）或 CSV UTF-8 后再导入。"


def _read_html(con, path: Path, known: set[str], view: str, limits: Limits) -> RawExport:
    """A JSP system's "Excel" download — an HTML page (often GBK) with a <table> — read as the
    table it contains: the table with the most known headers, rows of <td>/<th> text (a cell
    spanning columns is repeated across them, so the columns stay aligned)."""
    try:
        import lxml.html
    except ImportError:  # pragma: no cover - lxml is a dependency; a stripped install lacks it
        raise FileRefused(
            f"{path.name}：这是网页文件（HTML），不是 Excel——一些业务系统把网页表格存成 .xls 下载。"
            f"这台电脑缺少读取网页表格的组件（lxml）。{HTML_FIX}"
        ) from None
    data = path.read_bytes()
    m = _CHARSET.search(data[:4096])
    encoding = m.group(1).decode("ascii").lower() if m else detect_encoding(path)
    if encoding in ("gbk", "gb2312", "gb_2312-80"):
        encoding = "gb18030"
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        text = data.decode("gb18030", errors="replace")
    try:
        doc = lxml.html.fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        doc = None
    tables = [] if doc is None else doc.xpath("//table")
    sheets: list[list[list[str | None]]] = []
    for table in tables:
        rows: list[list[str | None]] = []
        for tr in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
            row: list[str | None] = []
            for cell in tr.xpath("./td|./th"):
                value = " ".join(cell.text_content().split()) or None
                span = (
                    int(cell.get("colspan", "1")) if str(cell.get("colspan", "1")).isdigit() else 1
                )
                row += [value] * max(span, 1)
            rows.append(row)
        if any(any(c for c in r) for r in rows):
            sheets.append(rows)
    if not sheets:
        raise FileRefused(
            f"{path.name}：这是网页文件（HTML），不是 Excel——一些业务系统把网页表格存成 .xls 下载，"
            f"但这个网页里没有数据表格（可能是登录页或出错页）。请在业务系统中重新导出；{HTML_FIX}"
        )
    best = None
    for rows in sheets:
        head = rows[:HEAD_ROWS]
        h = find_header_row(head, known)
        hits = sum(1 for c in head[h] if c and normalize_header(c) in known)
        if best is None or hits > best[0]:
            best = (hits, rows, h, head[h])
    raw = _rows_to_view(con, path, "html", best, view, limits)
    raw.notes.append("文件是网页（HTML）格式的表格（业务系统存成了 .xls），已按其中的表格读取")
    return raw
