"""The demo generator proper (etl.demo.generate); see the package docstring."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa

from etl.demo import (
    DEFAULT_QUARTERS,
    DEFAULT_SEED,
    GENERATOR,
    MANIFEST,
    SOURCES,
    approvals,
    city,
    hotline,
    ratings,
    reports,
    timeline,
)
from etl.demo import context as cx
from etl.demo.dirty import DUPLICATE_ID
from etl.demo.timeline import Quarter
from etl.demo.writers import CsvSink, XlsxSink
from kpi import settings
from kpi.errors import UserInputError

# Excel holds 1,048,576 rows a sheet; stay a round number below it (a multiple of the chunk size)
XLSX_MAX_DATA_ROWS = 1_000_000
Progress = Callable[[float, str], None]


def generate(
    out_dir,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    districts: int = 6,
    quarters: int = DEFAULT_QUARTERS,
    end_period: str | Quarter | None = None,
    sources: Sequence[str] = SOURCES,
    progress: Progress | None = None,
) -> dict[str, list[Path]]:
    """Write the demo exports into out_dir; returns source → files written (oldest quarter first).

    `districts` > the catalogue's count adds synthetic districts and writes out_dir/catalog/ (a copy
    of the catalogue including them, returned under the key "catalog"); load with
    `bizenv load --catalog out_dir/catalog`. `progress(fraction, message)` is called as files are
    written.
    """
    _check(scale, districts, quarters, sources)
    today = timeline.today_shanghai()
    end = timeline.parse_period(end_period) if isinstance(end_period, str) else end_period
    if end is not None and end.start >= today:
        raise UserInputError(
            f"统计期 {end.label} 尚未开始（今天是 {today:%Y-%m-%d}），"
            "演示数据不会生成未来的记录：请指定已开始的季度，或省略 --end-period。"
        )
    qs, cutoff = cx.timeline_for(end, quarters, today)
    catalog_dir = settings.catalog_dir()
    ctx = cx.build(seed, scale, qs, cutoff, catalog_dir, districts)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError(f"输出路径 {out} 已存在且不是目录：请指定一个目录（--out）。")
    out.mkdir(parents=True, exist_ok=True)

    city_code, city_name = city.city_of(catalog_dir)
    inds = reports.indicators(settings.metrics_path()) if "reports" in sources else []
    plan = _plan(ctx, sources, inds)
    total_cost = sum(cost for *_, cost in plan) or 1
    done_cost = 0.0
    written: dict[str, list[Path]] = {s: [] for s in sources}
    entries = []
    started = time.perf_counter()
    _remove_previous(out)
    for source, qi, cost in plan:
        q = ctx.quarters[qi]
        message = f"正在生成 {_FILE_NAMES[source](q)}"
        expected = max(cost / _COST_PER_ROW[source], 1)

        def tick(rows: int, base=done_cost, cost=cost, expected=expected, message=message) -> None:
            if progress:  # per chunk, so a long file at a large --scale still moves the bar
                progress((base + cost * min(rows / expected, 1.0)) / total_cost, message)

        tick(0)
        result = _WRITERS[source](ctx, qi, out, inds=inds, city_name=city_name, tick=tick)
        for entry in result if isinstance(result, list) else [result]:
            entry.update(source=source, period=q.label, partial=ctx.is_partial(q))
            entries.append(entry)
            written[source].append(out / entry["file"])
        done_cost += cost

    catalogue_note = None
    if any(d.synthetic for d in ctx.districts):
        written["catalog"] = city.write_catalogue(out, catalog_dir, ctx.districts)
        catalogue_note = "catalog"
    manifest = {
        "generator": GENERATOR,
        "seed": seed,
        "scale": scale,
        "quarters": [q.label for q in qs],
        "cutoff": f"{cutoff:%Y-%m-%d} 00:00:00",
        "city": {"code": city_code, "name": city_name},
        "districts": [
            {"code": d.code, "name": d.name, "synthetic": d.synthetic} for d in ctx.districts
        ],
        "catalog": catalogue_note,
        "reports_indicators": [i["key"] for i in inds],
        "notes": _notes(sources, inds),
        "files": entries,
        "totals": _totals(entries),
    }
    (out / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    if progress:
        progress(1.0, f"演示数据已生成（{time.perf_counter() - started:.1f} 秒）")
    return written


def _check(scale, districts, quarters, sources) -> None:
    if not (scale > 0) or scale > 10_000:
        raise UserInputError(
            f"--scale {scale} 无效：请给出大于 0 的倍数，例如 1（默认）、0.1 或 50。"
        )
    if not 1 <= districts <= 768:
        raise UserInputError(f"--districts {districts} 无效：区县数应在 1 到 768 之间。")
    if not 1 <= quarters <= 40:
        raise UserInputError(f"--quarters {quarters} 无效：季度数应在 1 到 40 之间（默认 10）。")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise UserInputError(f"未知的数据来源 {', '.join(unknown)}：可选 {', '.join(SOURCES)}。")


def _notes(sources, inds) -> list[str]:
    if "reports" in sources and not inds:
        return ["metrics.yaml 不存在或没有 source: reports 的指标，未生成指标填报文件。"]
    return []


_MODULES = {"approvals": approvals, "hotline": hotline, "ratings": ratings}
_FILE_NAMES = {
    "approvals": approvals.file_name,
    "hotline": hotline.file_name,
    "ratings": ratings.file_name,
    "reports": reports.file_name,
}


# relative time per row: XLSX goes cell by cell through xlsxwriter, CSV is written column-wise
_COST_PER_ROW = {"approvals": 1.0, "hotline": 1.5, "ratings": 3.0, "reports": 3.0}


def _plan(ctx, sources, inds) -> list[tuple[str, int, float]]:
    """(source, quarter index, relative cost) for every file, in writing order."""
    plan = []
    for qi, q in enumerate(ctx.quarters):
        for source in SOURCES:
            if source not in sources or (source == "reports" and (not inds or ctx.is_partial(q))):
                continue  # a quarter in progress has no 填报 yet
            rows = (
                len(inds) * len(ctx.districts)
                if source == "reports"
                else _MODULES[source].quarter_count(ctx, qi)
            )
            if rows > 0:  # e.g. a quarter that began today: nothing has happened in it yet
                plan.append((source, qi, rows * _COST_PER_ROW[source]))
    return plan


def _remove_previous(out: Path) -> None:
    """Delete the files an earlier run listed in out/manifest.json (only those), so the folder
    holds exactly one demo and `bizenv load out/*.csv` cannot pick up a stale quarter."""
    path = out / MANIFEST
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        names = [e["file"] for e in old.get("files", [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return  # not our manifest: leave the folder alone
    for name in names:
        target = out / Path(name).name
        if target.is_file():
            target.unlink()
    if old.get("catalog") == "catalog" and (out / "catalog").is_dir():
        shutil.rmtree(out / "catalog")


def _entry(path: Path, fmt: str, encoding: str | None, sink, chunk_dirty: list) -> dict:
    """The manifest record of one written file."""
    first_data = sink.header_line + 1
    dirty_lines: dict[str, list[int]] = {}
    for offset, found in chunk_dirty:
        for reason, idx in found.items():
            dirty_lines.setdefault(reason, []).extend((idx + first_data + offset).tolist())
    superseded = sorted(dirty_lines.pop(DUPLICATE_ID, []))
    dirty_rows = {k: len(v) for k, v in sorted(dirty_lines.items())}
    return {
        "file": path.name,
        "format": fmt,
        "encoding": encoding,
        "header_line": sink.header_line,
        "physical_rows": sink.lines,
        "data_rows": sink.data_rows,
        "skipped_rows": sink.lines - sink.header_line - sink.data_rows,
        "dirty_rows": dirty_rows,
        # rows the loader imports: neither quarantined nor an older version of another row
        "clean_rows": sink.data_rows - sum(dirty_rows.values()) - len(superseded),
        "duplicate_ids": len(superseded),
        "superseded_lines": superseded,
        "dirty_lines": {k: sorted(v) for k, v in sorted(dirty_lines.items())},
        "sha256": _sha256(path),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _table(cols: dict, columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array(cols[c], pa.string()) for c in columns})


def _write_approvals(ctx, qi, out: Path, *, tick, **_) -> dict:
    q = ctx.quarters[qi]
    bom = qi % 2 == 0  # some systems write a BOM, some do not
    path = out / approvals.file_name(q)
    sink = CsvSink(path, approvals.COLUMNS, "utf-8", bom=bom, eol="\n")
    found, offset = [], 0
    for cols, bad in approvals.chunks(ctx, qi):
        sink.write(_table(cols, approvals.COLUMNS))
        found.append((offset, bad))
        offset += len(cols["办件编号"])
        tick(offset)
    sink.close()
    return _entry(path, "csv", "utf-8-sig" if bom else "utf-8", sink, found)


def _write_hotline(ctx, qi, out: Path, *, tick, **_) -> dict:
    q = ctx.quarters[qi]
    path = out / hotline.file_name(q)
    # GBK from a Windows desktop system: CRLF line ends, a title row and a 合计 row
    sink = CsvSink(path, hotline.COLUMNS, "gbk", eol="\r\n", title=hotline.title(q))
    found, offset = [], 0
    for cols, bad in hotline.chunks(ctx, qi):
        sink.write(_table(cols, hotline.COLUMNS))
        found.append((offset, bad))
        offset += len(cols["工单编号"])
        tick(offset)
    sink.close(total=("合计", 1, sink.data_rows))
    return _entry(path, "csv", "gbk", sink, found)


def _write_ratings(ctx, qi, out: Path, *, tick, **_) -> list[dict]:
    """One workbook per quarter; past Excel's row limit the quarter continues in _2, _3 … files."""
    q = ctx.quarters[qi]
    entries: list[dict] = []
    sink, found, done_rows = None, list[tuple[int, dict]](), 0
    for cols, bad in ratings.chunks(ctx, qi):
        n = len(cols["评价编号"])
        if sink is None or sink.data_rows + n > XLSX_MAX_DATA_ROWS:
            if sink is not None:
                sink.close()
                entries.append(_entry(sink.path, "xlsx", None, sink, found))
            name = ratings.file_name(q)
            if entries:
                name = name.replace(".xlsx", f"_{len(entries) + 1}.xlsx")
            sink = XlsxSink(
                out / name,
                "好差评明细",
                ratings.COLUMNS,
                ratings.DATE_COLUMNS,
                widths={"评价部门": 24, "办件编号": 16},
            )
            found = []
        found.append((sink.data_rows, bad))
        sink.write_rows(zip(*(cols[c] for c in ratings.COLUMNS), strict=False))
        done_rows += n
        tick(done_rows)
    if sink is None:  # nothing rated yet (a quarter cut off on its first day)
        sink = XlsxSink(
            out / ratings.file_name(q), "好差评明细", ratings.COLUMNS, ratings.DATE_COLUMNS
        )
    sink.close()
    entries.append(_entry(sink.path, "xlsx", None, sink, found))
    return entries


def _write_reports(ctx, qi, out: Path, *, inds, city_name, **_) -> dict:
    q = ctx.quarters[qi]
    path = out / reports.file_name(q)
    sink = XlsxSink(
        path,
        "指标填报",
        reports.COLUMNS,
        {"填报时间"},
        title=reports.title(city_name, q),
        widths={"指标名称": 36, "填报单位": 24, "填报时间": 18, "备注": 24},
    )
    cols, bad = reports.rows(ctx, qi, inds, city_name)
    sink.write_rows(zip(*(cols[c] for c in reports.COLUMNS), strict=False))
    sink.close()
    return _entry(path, "xlsx", None, sink, [(0, bad)])


_WRITERS: dict[str, Callable[..., list[dict] | dict]] = {
    "approvals": _write_approvals,
    "hotline": _write_hotline,
    "ratings": _write_ratings,
    "reports": _write_reports,
}


def _totals(entries: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for e in entries:
        t = out.setdefault(e["source"], {"files": 0, "data_rows": 0, "dirty_rows": 0})
        t["files"] += 1
        t["data_rows"] += e["data_rows"]
        t["dirty_rows"] += sum(e["dirty_rows"].values())
    return out
