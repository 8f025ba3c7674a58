"""Streaming writers for the export formats: CSV (UTF-8 with/without BOM, GBK) and XLSX.

Chunks arrive as pyarrow tables of strings (CSV) or as row tuples (XLSX) and go straight to disk,
so memory stays bounded at any --scale. Output is byte-for-byte reproducible: no clocks, fixed
workbook properties and fixed zip timestamps.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter

# Fixed workbook "created" time: same seed → byte-identical files.
FIXED_CREATED = dt.datetime(2026, 1, 1, 8, 0, 0)
EXCEL_DATETIME = "yyyy-mm-dd hh:mm:ss"


def _csv_field(col: pa.Array) -> pa.Array:
    """Null → empty; quote (RFC 4180) only the values that need it, as spreadsheet exports do."""
    col = pc.fill_null(pc.cast(col, pa.string()), "")
    needs = pc.match_substring_regex(col, r'[,"\r\n]')
    if not pc.any(needs).as_py():
        return col
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, col)


class CsvSink:
    """One CSV export: optional title line, header, data chunks, optional 合计 line."""

    def __init__(
        self,
        path: Path,
        columns: list[str],
        encoding: str = "utf-8",
        bom: bool = False,
        eol: str = "\n",
        title: str | None = None,
    ):
        self.path, self.columns, self.encoding, self.eol = path, columns, encoding, eol
        self.lines = 0
        self.data_rows = 0
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close(), a streaming sink
        if bom:
            self._fh.write("\ufeff".encode("utf-8"))
        if title is not None:
            # a merged title cell saved as CSV keeps the empty cells of the row
            self._write_line([title] + [""] * (len(columns) - 1))
        self._write_line(columns)
        self.header_line = self.lines

    def _encode(self, text: str) -> bytes:
        return text.encode(self.encoding)

    def _write_line(self, cells: list[str]) -> None:
        self._fh.write(self._encode(",".join(cells) + self.eol))
        self.lines += 1

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        fields = [_csv_field(table.column(c).combine_chunks()) for c in self.columns]
        lines = pc.binary_join_element_wise(*fields, ",")
        self._fh.write(self._encode(self.eol.join(lines.to_pylist()) + self.eol))
        self.lines += table.num_rows
        self.data_rows += table.num_rows

    def close(self, total: tuple[str, int, int] | None = None) -> None:
        """total = (label, column index, value): e.g. ('合计', 1, 5012) → '合计,5012,,,…'."""
        if total is not None:
            label, col, value = total
            cells = [""] * len(self.columns)
            cells[0], cells[col] = label, str(value)
            self._write_line(cells)
        self._fh.close()


class XlsxSink:
    """One XLSX export written with xlsxwriter in constant_memory mode (rows stream to disk)."""

    def __init__(
        self,
        path: Path,
        sheet: str,
        columns: list[str],
        date_columns: set[str],
        title: str | None = None,
        widths: dict[str, int] | None = None,
    ):
        self.path, self.columns = path, columns
        self._wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self._wb.set_properties(
            {"created": FIXED_CREATED, "author": "bizenv 演示数据", "title": title or sheet}
        )
        self._ws = self._wb.add_worksheet(sheet)
        self._date = self._wb.add_format({"num_format": EXCEL_DATETIME})
        bold = self._wb.add_format({"bold": True})
        for i, c in enumerate(columns):
            width = (widths or {}).get(c, 20 if c in date_columns else 14)
            self._ws.set_column(i, i, width)
        self._date_idx = {i for i, c in enumerate(columns) if c in date_columns}
        self.row = 0
        if title is not None:
            self._ws.write_string(0, 0, title, bold)
            self.row = 1
        self._ws.write_row(self.row, 0, columns, bold)
        self.row += 1
        self.header_line = self.row  # 1-based Excel row of the header
        self.data_rows = 0

    def write_rows(self, rows) -> None:
        """rows: iterable of tuples; float in a date column = Excel serial date, None = empty cell."""
        ws, date_fmt, date_idx, r = self._ws, self._date, self._date_idx, self.row
        # xlsxwriter takes one cell at a time; this loop is the writer's, not the generator's.
        for row in rows:
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif c in date_idx:
                    ws.write_number(r, c, v, date_fmt)
                else:
                    ws.write_number(r, c, v)
            r += 1
        self.data_rows += r - self.row
        self.row = r

    @property
    def lines(self) -> int:
        return self.row

    def close(self) -> None:
        self._wb.close()
