"""`bizenv load`: import export files into the warehouse and publish a new snapshot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kpi.errors import FileRefused, UserInputError

if TYPE_CHECKING:
    from etl.load import FileReport

HELP = "导入办件、12345工单、好差评或指标填报导出文件（CSV/XLSX），校验后写入数据仓库并发布新快照。"
EXAMPLE = (
    "  bizenv load 办件明细_2026Q3.csv 12345工单明细_2026Q3.csv\n"
    "  bizenv load data/inbox/2026Q3/          （文件夹：导入其中全部 CSV/XLSX/XLS 文件）\n"
    "  bizenv load 某区导出.xlsx --source approvals\n"
    "  bizenv load 自建系统导出.csv --profile 我的画像.yaml --catalog 其他城市/catalog\n"
    "每个文件单独成一个事务：被拒绝的文件不写入任何内容，其余文件照常导入，命令以非零状态退出。"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="文件",
        help="导出文件或文件夹（CSV UTF-8/GBK/GB18030，XLSX/XLS；文件夹中只取这几类文件）",
    )
    parser.add_argument(
        "--source",
        choices=("approvals", "hotline", "ratings", "reports"),
        help="数据来源（不指定时按表头自动识别）：approvals 办件 | hotline 12345 | ratings 好差评 | reports 指标填报",
    )
    parser.add_argument(
        "--profile", metavar="文件", help="自定义表头画像 YAML（导出的列名与内置不同时使用）"
    )
    parser.add_argument(
        "--data-dir", metavar="目录", help="数据目录（仓库、快照、CURRENT；默认 data/warehouse/）"
    )
    parser.add_argument(
        "--catalog", metavar="目录", help="目录数据（区县、事项、节假日；默认 data/catalog/）"
    )
    parser.add_argument(
        "--no-build", action="store_true", help="只写入数据仓库，不计算评分、不发布快照"
    )


class _Bar:
    """A one-line progress bar on a terminal; plain step lines when output is redirected."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = ""

    def __call__(self, fraction: float, text: str) -> None:
        if self.tty:
            filled = int(fraction * 30)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {text[:50]:<50}"
            )
            if fraction >= 1:
                self.stream.write("\n")
        elif text != self.last:
            self.stream.write(f"… {text}\n")
        self.last = text
        self.stream.flush()


def print_reports(reports: list[FileReport]) -> None:
    from etl.load import skipped_detail

    for r in reports:
        if r.status == "skipped":  # found in a folder and no export at all
            reason = r.message.split("：", 1)[-1].split("。", 1)[0]
            print(f"– {r.file_name}：跳过，不是导出文件（{reason}）")
            continue
        if r.status == "refused":
            print(f"✗ {r.file_name}：已拒绝（见下方原因），未写入任何数据")
            continue
        print(f"✓ {r.file_name}（{r.source}，画像 {r.profile}）")
        for note in r.notes:  # what reading repaired, so nobody is surprised later
            print(f"    注意：{note}")
        print(
            f"    读取 {r.rows_read:,} 行 = 导入 {r.rows_loaded:,} + 隔离 {r.rows_quarantined:,} + 跳过 {r.rows_skipped:,}"
            f"；新增 {r.rows_inserted:,}，更新 {r.rows_updated:,}，未变 {r.rows_unchanged:,}"
            f"；{r.seconds:.1f} 秒，{r.rows_per_second:,.0f} 行/秒"
        )
        if r.rows_repeated or r.rows_superseded:
            print(f"    跳过的行{skipped_detail(r).removeprefix('（跳过的行中')[:-1]}")
        if r.status == "duplicate_file":
            print("    该文件与之前导入过的文件完全相同，数据未变化。")
        for reason, n in r.quarantine_by_reason.items():
            print(f"    隔离原因：{reason} {n:,} 行")
        if r.rows_unmatched:
            names = "、".join(f"{name}（{n:,}）" for name, n in r.unmatched_names)
            more = (
                f"等 {r.unmatched_kinds:,} 种" if len(r.unmatched_names) < r.unmatched_kinds else ""
            )
            print(
                f"    未匹配领域：{r.rows_unmatched:,} 条记录的事项不在目录中，不计入各领域指标："
                f"{names}{more}"
            )
    if any(r.rows_unmatched for r in reports):
        print(
            "未匹配的事项：把名称（或别名、编码）补进目录 items.csv，或在 item_rules.csv 加关键词规则，"
            "再运行 bizenv build 即可（不必重新导入）；完整清单见看板“数据”页。"
        )
    if any(r.rows_quarantined for r in reports):
        print("被隔离的行（文件、行号、列、原因）可在看板“数据”页或 bizenv status 中查看。")
    left = next((r.demo_left for r in reports if r.demo_left), None)
    if left:
        print(demo_warning(left))


def demo_warning(left: dict[str, int]) -> str:
    """What a user loading real exports into a warehouse that still holds the demo must know."""
    from kpi.schema import SOURCE_LABELS

    counts = "、".join(f"{SOURCE_LABELS[s]} {n:,} 条" for s, n in left.items() if n)
    return (
        f"注意：数据仓库中还有演示数据（{counts}），看板会把它们和刚导入的真实数据混在一起显示，"
        "页面上标着“演示数据”。运行 bizenv reset --demo 删除演示数据（真实数据保留）。"
    )


EXPORT_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}


def expand_paths(paths: list[str]) -> list[str]:
    """The files to load (see expand)."""
    return expand(paths)[0]


def expand(paths: list[str]) -> tuple[list[str], set[str], list[str]]:
    """(files, the ones found in a folder, the other files a folder had).

    A folder stands for the export files in it (sorted), so `bizenv load inbox/` works; other
    files there (README, manifest.json) are not exports: they are named as skipped, and a file
    with an export's suffix that turns out to be none (a taxonomy sheet) is skipped with a note
    by the loader. Files named one by one are passed on as they are: a wrong one is refused
    with its reason."""
    out: list[str] = []
    found_in: set[str] = set()
    others: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                str(f)
                for f in path.iterdir()
                if f.is_file()
                and f.suffix.lower() in EXPORT_SUFFIXES
                and not f.name.startswith("~$")
            )
            if not found:
                raise UserInputError(
                    f"文件夹 {raw} 中没有 CSV/XLSX/XLS 导出文件：请确认路径，或直接列出要导入的文件。"
                )
            out.extend(found)
            found_in.update(found)
            others += sorted(
                f.name
                for f in path.iterdir()
                if f.is_file() and str(f) not in found and not f.name.startswith((".", "~$"))
            )
        else:
            out.append(raw)
    return out, found_in, others


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every bizenv command's start-up imports all command modules.
    from etl.jobrun import cli_job
    from etl.load import load_files
    from kpi.settings import DataDir

    files, in_folder, others = expand(args.files)
    if others:
        print(f"– 跳过文件夹中不是 CSV/Excel 的文件：{'、'.join(others)}")
    files, ledger_problems = load_ledgers(files, args.data_dir)
    if not files:
        if ledger_problems:
            raise UserInputError("\n".join(ledger_problems))
        return 0
    params = {"files": files, "source": args.source, "profile": args.profile}
    with cli_job(DataDir.of(args.data_dir), "load", params) as job:  # the job history lists it
        try:
            reports = load_files(
                files,
                optional=in_folder,
                source=args.source,
                profile=args.profile,
                data_dir=args.data_dir,
                catalog_dir=args.catalog,
                progress=_Bar(),
                build=not args.no_build,
            )
        except FileRefused as err:
            print_reports(getattr(err, "reports", []))
            raise
        job.reports = reports
    print_reports(reports)
    if ledger_problems:
        raise UserInputError("\n".join(ledger_problems))
    if args.no_build:
        print("已写入数据仓库（--no-build：未发布新快照，运行 bizenv build 后看板才会更新）。")
    return 0


def load_ledgers(files: list[str], data_dir) -> tuple[list[str], list[str]]:
    """督办 台账 (清障问题、为企办实事、督办任务、对标、评议 — recognised by their headers) go into the
    application database, not the warehouse; returns the other files (for the export loader)
    and the refusals. A 台账 with errors is refused with every problem listed, nothing written."""
    from office.audit import Actor
    from office.tracking import ledgers

    rest, outcomes = ledgers.import_ledgers(data_dir, [Path(n) for n in files], Actor.cli())
    for o in outcomes:
        print(("✓ " if o.imported else "✗ ") + o.summary)
    return [str(p) for p in rest], [o.refusal for o in outcomes if o.refusal]
