"""Hostile and broken exports, each loaded by `bizenv load` in a fresh data dir: exit code, time,
peak memory and the first line of what the user is told (issue 12, points 5–10).

    uv run python -m tests.benchmarks.hostile [--timeout 150] [--only name,…] [--keep DIR]

Prints one row per file. The files are generated here (nothing is committed); the zip bomb is a
6 MB XLSX that expands to about 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HEADER = "办件编号,事项编码,事项名称,所属区县,办理部门,申请人类型,办理渠道,受理时间,办结时间,办件状态,法定时限,承诺时限,跑动次数"
ROW = "BJ{n:012d},SX0201,劳动用工备案,开化县,开化县人力社保局,企业,移动端,2026-07-01 09:40:25,2026-07-10 09:30:58,已办结,10,3,0"


def rows(n: int, start: int = 0) -> list[str]:
    return [ROW.format(n=start + i) for i in range(n)]


def write_text(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def xlsx_bomb(path: Path, target_bytes: int = 1_500_000_000) -> Path:
    """A minimal XLSX whose one sheet expands to `target_bytes` of identical rows."""
    ct = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    wb = (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="办件" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    wbrels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    cells = HEADER.split(",")
    head = "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in cells)
    row = "<row>" + "".join('<c t="inlineStr"><is><t>x</t></is></c>' for _ in cells) + "</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wbrels)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            fh.write(f"<row>{head}</row>".encode())
            block = (row * 1000).encode()
            for _ in range(max(1, target_bytes // len(block))):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return path


def make_files(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    f: dict[str, Path] = {}
    f["header_only"] = write_text(out / "header_only.csv", HEADER + "\n")
    for kb in (3, 30, 100):
        f[f"one_line_{kb}KB"] = write_text(
            out / f"one_line_{kb}KB.csv", ("甲," * (kb * 256))[: kb * 1024]
        )
    wide = ",".join(f"列{i}" for i in range(2013))
    f["wide_2013_cols"] = write_text(
        out / "wide_2013_cols.csv", "\n".join([wide] + [",".join(["值"] * 2013)] * 10) + "\n"
    )
    extra = ",".join(f"附加{i}" for i in range(2000))
    f["wide_2013_known"] = write_text(
        out / "wide_2013_known.csv",
        "\n".join([HEADER + "," + extra] + [r + "," + ",".join(["x"] * 2000) for r in rows(10)])
        + "\n",
    )
    f["nul_bytes"] = out / "nul_bytes.csv"
    nul_row = ROW.format(n=999).replace("劳动用工备案", "劳动\x00\x00用工备案")
    f["nul_bytes"].write_bytes(
        ("\n".join([HEADER, *rows(2), nul_row, *rows(47, 3)]) + "\n").encode()
    )
    f["cr_only_10045"] = write_text(
        out / "cr_only_10045.csv", "\n".join([HEADER] + rows(10045)) + "\n", newline="\r"
    )
    utf8 = "\n".join([HEADER] + rows(20000)) + "\n"
    gbk_line = ROW.format(n=999_999).replace("劳动用工备案", "混用编码").encode("gbk")
    (out / "mixed_utf8_gbk.csv").write_bytes(
        utf8.encode() + gbk_line + b"\n" + "\n".join(rows(10, 30000)).encode() + b"\n"
    )
    f["mixed_utf8_gbk"] = out / "mixed_utf8_gbk.csv"
    big = ROW.format(n=1).replace("劳动用工备案", "长" * (2 * 1024 * 1024 // 3))
    f["field_2MB"] = write_text(
        out / "field_2MB.csv", "\n".join([HEADER, big] + rows(5, 10)) + "\n"
    )
    dates = [
        ROW.format(n=1).replace("2026-07-01 09:40:25", "1900-01-01 00:00:00"),
        ROW.format(n=2).replace("2026-07-01 09:40:25", "0001-01-01 00:00:00"),
        ROW.format(n=3).replace("2026-07-10 09:30:58", "2026-07-10T01:30:58Z"),
        ROW.format(n=4).replace("2026-07-10 09:30:58", "2026-07-10T09:30:58+08:00"),
    ]
    f["dates_far_and_tz"] = write_text(
        out / "dates_far_and_tz.csv", "\n".join([HEADER] + dates) + "\n"
    )
    f["duplicate_headers"] = write_text(
        out / "duplicate_headers.csv",
        "\n".join([HEADER + ",受理时间"] + [r + ",2026-08-01 10:00:00" for r in rows(5)]) + "\n",
    )
    f["zip_bomb_xlsx"] = xlsx_bomb(out / "zip_bomb.xlsx")
    return f


def run_one(path: Path, timeout: float) -> tuple[str, float, float, str]:
    data = Path(tempfile.mkdtemp(prefix="bizenv-hostile-"))
    cmd = [sys.executable, "-m", "etl.cli", "load", str(path), "--data-dir", str(data)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0.0
    try:
        import psutil

        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss / 2**20)
            except psutil.Error:
                pass
            if time.perf_counter() - t0 > timeout:
                proc.kill()
                proc.wait()
                return "timeout", time.perf_counter() - t0, peak, f"killed after {timeout:.0f} s"
            time.sleep(0.05)
    finally:
        out = proc.communicate()[0].decode(errors="replace") if proc.stdout else ""
    seconds = time.perf_counter() - t0
    lines = [ln for ln in out.splitlines() if ln.strip()]
    said = next(
        (ln for ln in lines if ln.startswith("错误")),
        next((ln for ln in lines if "读取" in ln and "=" in ln), lines[-1] if lines else ""),
    )
    return str(proc.returncode), seconds, peak, said.strip()[:160]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timeout", type=float, default=150)
    ap.add_argument("--only", default="")
    ap.add_argument("--keep", default="")
    args = ap.parse_args()
    out = Path(args.keep or tempfile.mkdtemp(prefix="bizenv-hostile-files-"))
    files = make_files(out)
    only = {s for s in args.only.split(",") if s}
    print(f"{'file':<20} {'size':>9} {'rc':>7} {'s':>7} {'peak MB':>8}  message")
    for name, path in files.items():
        if only and name not in only:
            continue
        rc, seconds, peak, said = run_one(path, args.timeout)
        size = os.path.getsize(path)
        print(
            f"{name:<20} {size / 2**20:>8.2f}M {rc:>7} {seconds:>7.1f} {peak:>8.0f}  {said}",
            flush=True,
        )


if __name__ == "__main__":
    main()
