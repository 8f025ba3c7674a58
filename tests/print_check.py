"""Print check of the 季度评议材料 workbook: how many A4 pages each sheet takes in LibreOffice.

Every sheet is saved as a workbook of its own and all are converted to PDF in one headless
LibreOffice run (`soffice --headless --convert-to pdf`), so the count is per sheet whatever the
page numbering; `--png DIR` also renders every page with poppler's `pdftoppm -r 50` to look at.

    uv run python tests/print_check.py                          # current snapshot, latest complete quarter
    uv run python tests/print_check.py --data-dir /tmp/d --period 2026Q4 --png /tmp/pages
    uv run python tests/print_check.py --workbook 2026Q3季度评议材料.xlsx
    uv run python tests/print_check.py --fixture                # the tests' fixture snapshot

Needs `soffice` (Debian: libreoffice-calc) and, for page counts and PNGs, poppler-utils.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl


@dataclass
class SheetPrint:
    sheet: str
    pages: int
    width_pt: float  # of the first page: > height means landscape
    height_pt: float
    pdf: Path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _pdf_pages(pdf: Path) -> tuple[int, float, float]:
    """(pages, first page width, height) from poppler's pdfinfo."""
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    w, h = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", out, re.M).groups()
    return pages, float(w), float(h)


def _convert(files: list[Path], out_dir: Path, work: Path) -> None:
    # A private profile: a second LibreOffice on the machine (another user, another test) would
    # otherwise make this one exit at once without converting anything.
    profile = (work / "lo-profile").as_uri()
    subprocess.run(
        [soffice(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(out_dir), *map(str, files)],
        check=True,
        capture_output=True,
        timeout=600,
    )


def check_workbook(workbook: Path, work: Path, png: Path | None = None) -> list[SheetPrint]:
    """Pages per sheet of `workbook` (files are written under `work`)."""
    names = openpyxl.load_workbook(workbook, read_only=True).sheetnames
    parts = []
    for i, name in enumerate(names):
        wb = openpyxl.load_workbook(workbook)
        for other in [ws for ws in wb.worksheets if ws.title != name]:
            wb.remove(other)
        part = work / f"sheet{i:02d}.xlsx"
        wb.save(part)
        parts.append(part)
    pdf_dir = work / "pdf"
    pdf_dir.mkdir(exist_ok=True)
    _convert(parts, pdf_dir, work)
    result = []
    for name, part in zip(names, parts, strict=True):
        pdf = pdf_dir / (part.stem + ".pdf")
        pages, w, h = _pdf_pages(pdf)
        result.append(SheetPrint(name, pages, w, h, pdf))
        if png:
            png.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["pdftoppm", "-png", "-r", "50", str(pdf), str(png / part.stem)], check=True
            )
    return result


def _review_from_snapshot(data_dir: str | None, period: str | None, out: Path) -> Path:
    from kpi import store
    from kpi.read import queries, review

    con = store.connect_snapshot(data_dir=data_dir)
    try:
        period = period or queries.meta(con).get("latest_complete_period")
        return review.write_review(con, period, out)
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="季度评议材料：每个工作表打印成几页 A4（LibreOffice）")
    ap.add_argument("--workbook", type=Path, help="现成的工作簿（不给则从快照生成）")
    ap.add_argument("--data-dir", help="数据目录（默认 data/warehouse/）")
    ap.add_argument("--period", help="季度（默认最近一个完整季度）")
    ap.add_argument("--fixture", action="store_true", help="用测试的小快照生成")
    ap.add_argument("--png", type=Path, help="把每页渲染成 PNG 放到这个目录")
    args = ap.parse_args(argv)
    if not soffice() or not shutil.which("pdfinfo"):
        print("需要 soffice（libreoffice-calc）和 pdfinfo（poppler-utils）。", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="print-check-") as tmp:
        work = Path(tmp)
        workbook = args.workbook
        if workbook is None:
            data_dir = args.data_dir
            if args.fixture:
                from tests.fixtures.snapshot_fixture import build_fixture_snapshot

                data_dir = str(work / "data")
                build_fixture_snapshot(Path(data_dir))
            workbook = _review_from_snapshot(data_dir, args.period, work / "review.xlsx")
        sheets = check_workbook(Path(workbook), work, args.png)
    from kpi.read.exports import display_width

    width = max(display_width(s.sheet) for s in sheets)

    def pad(text: str) -> str:
        return text + " " * (width - display_width(text))

    for s in sheets:
        shape = "横向" if s.width_pt > s.height_pt else "纵向"
        print(f"{pad(s.sheet)}  {s.pages:>3} 页  {shape} {s.width_pt:.0f}×{s.height_pt:.0f} pt")
    print(f"{pad('合计')}  {sum(s.pages for s in sheets):>3} 页")
    return 0


if __name__ == "__main__":
    sys.exit(main())
