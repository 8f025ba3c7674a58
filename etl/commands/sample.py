"""`bizenv sample` — write realistic demo exports (办件, 12345, 好差评, 指标填报) to a folder."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from etl import demo
from kpi import settings
from kpi.errors import UserInputError

HELP = (
    "生成演示导出文件（办件 CSV、12345 工单 GBK CSV、好差评 XLSX、指标填报 XLSX），可重复、可放大"
)
EXAMPLE = """  bizenv sample --out data/inbox/demo --scale 1
  bizenv load data/inbox/demo/*.csv data/inbox/demo/*.xlsx
  bizenv sample --load                      （生成并立即导入，一步得到演示快照）

  bizenv sample --out /tmp/bench --scale 120 --quarters 1 --end-period 2026Q3 --sources approvals
  （约 100 万行办件的单个 CSV，用于导入性能测试）

  同一 --seed 与参数生成的文件逐字节相同；--scale 50 约为一个省的数据量。
  --districts 大于 6 时会增加合成区县，并在输出目录写入 catalog/ 目录：
  导入时请加 --catalog <输出目录>/catalog。"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--out", default=None, metavar="目录", help="输出目录（默认 data/inbox/demo）"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=demo.DEFAULT_SEED,
        metavar="种子",
        help=f"随机种子，相同种子与参数生成相同文件（默认 {demo.DEFAULT_SEED}）",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="倍数",
        help="数据量倍数（默认 1：每季度约 8千件办件、5千条工单、5千条评价）",
    )
    parser.add_argument(
        "--districts",
        type=int,
        default=6,
        metavar="个数",
        help="区县数（默认 6 个衢州区县；更多时增加合成区县，各自带来自己的数据量）",
    )
    parser.add_argument(
        "--quarters",
        type=int,
        default=demo.DEFAULT_QUARTERS,
        metavar="个数",
        help=f"季度数，含当前进行中的季度（默认 {demo.DEFAULT_QUARTERS}）",
    )
    parser.add_argument(
        "--end-period",
        default=None,
        metavar="2026Q4",
        help="最后一个季度（默认今天所在季度，只生成到今天为止）",
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="生成后立即导入（等同于随后运行 bizenv load 这些文件），并发布数据快照",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="目录",
        help="配合 --load：仓库与快照所在目录（默认 data/warehouse/）",
    )
    parser.add_argument(
        "--sources",
        default=",".join(demo.SOURCES),
        metavar="来源",
        help="只生成部分来源，逗号分隔（默认全部：approvals,hotline,ratings,reports）",
    )


def _bar(stream):
    """A one-line progress bar on a terminal; plain lines otherwise (logs, CI)."""
    tty = stream.isatty()
    last = {"step": -1}

    def show(fraction: float, message: str) -> None:
        if tty:
            filled = int(fraction * 30)
            stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:5.0%} {message:<40}")
            stream.flush()
        elif int(fraction * 10) != last["step"]:  # one line per 10% in logs
            last["step"] = int(fraction * 10)
            stream.write(f"{fraction:5.0%} {message}\n")

    def done() -> None:
        if tty:
            stream.write("\n")

    return show, done


def run(args) -> int:
    out = Path(args.out) if args.out else settings.demo_dir()
    if out.exists() and not out.is_dir():
        raise UserInputError(f"输出路径 {out} 已存在且不是目录：请用 --out 指定一个目录。")
    show, done = _bar(sys.stderr)
    started = time.perf_counter()
    sources = tuple(x.strip() for x in args.sources.replace("，", ",").split(",") if x.strip())
    written = demo.generate(
        out,
        seed=args.seed,
        scale=args.scale,
        districts=args.districts,
        quarters=args.quarters,
        end_period=args.end_period,
        sources=sources,
        progress=show,
    )
    done()
    seconds = time.perf_counter() - started
    manifest = json.loads((out / demo.MANIFEST).read_text(encoding="utf-8"))
    qs = manifest["quarters"]
    span = qs[0] if len(qs) == 1 else f"{qs[0]}–{qs[-1]}"
    print(
        f"已生成演示数据：{out}（季度 {span}，"
        f"截至 {manifest['cutoff'][:10]}，种子 {args.seed}，倍数 {args.scale:g}）"
    )
    labels = {
        "approvals": "办件明细",
        "hotline": "12345工单",
        "ratings": "好差评",
        "reports": "指标填报",
    }
    total_rows = 0
    for source, t in manifest["totals"].items():
        total_rows += t["data_rows"]
        print(
            f"  {labels[source]}：{t['files']} 个文件，{t['data_rows']:,} 行"
            f"（其中脏数据 {t['dirty_rows']:,} 行，约 {t['dirty_rows'] / max(t['data_rows'], 1):.1%}）"
        )
    for note in manifest["notes"]:
        print(f"  注意：{note}")
    size = sum(p.stat().st_size for files in written.values() for p in files)
    print(
        f"共 {total_rows:,} 行，{size / 1e6:.1f} MB，用时 {seconds:.1f} 秒"
        f"（{total_rows / max(seconds, 1e-9):,.0f} 行/秒）。文件清单见 {out / demo.MANIFEST}"
    )
    if args.load:
        return _load(written, args)
    suffixes = sorted({p.suffix for s, files in written.items() if s != "catalog" for p in files})
    globs = " ".join(f"{out}/*{suffix}" for suffix in suffixes)
    if "catalog" in written:
        print(
            f"已加入合成区县，目录表写在 {out / 'catalog'}；导入时请使用：\n"
            f"  bizenv load --catalog {out / 'catalog'} {globs}"
        )
    elif globs:
        print(f"下一步：bizenv load {globs}")
    return 0


def _load(written: dict, args) -> int:
    """Load what was just generated through the real ETL (same path as bizenv load)."""
    from etl.commands.load import print_reports
    from etl.load import load_files

    paths = [p for source in demo.SOURCES for p in written.get(source, [])]
    catalog = written["catalog"][0].parent if "catalog" in written else None
    show, done = _bar(sys.stderr)
    reports = load_files(paths, data_dir=args.data_dir, catalog_dir=catalog, progress=show)
    done()
    print_reports(reports)
    return 0
