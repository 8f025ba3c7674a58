"""`bizenv job run <id>`: run one job of the application database (office.jobs) in this process —
how the 数据 page starts a load, an undo or a rebuild outside the Streamlit server."""

from __future__ import annotations

import argparse

HELP = "运行一个排队中的任务（网页上提交的导入、撤销、重新计算由它在独立进程中执行）。"
EXAMPLE = "  bizenv job run 12\n  bizenv job list"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=("run", "list"), metavar="操作", help="run 运行 | list 列出"
    )
    parser.add_argument("job_id", nargs="?", type=int, metavar="任务编号")
    parser.add_argument("--data-dir", metavar="目录", help="数据目录（默认 data/warehouse/）")


def run(args: argparse.Namespace) -> int:
    from kpi.errors import UserInputError
    from kpi.settings import DataDir
    from office import jobs

    dd = DataDir.of(args.data_dir)
    if args.action == "list":
        for j in jobs.recent(dd, 30):
            print(
                f"{j.id:>5}  {j.kind_label:<6} {j.status_label:<4} {j.who or '—'}  "
                f"{j.created_at:%Y-%m-%d %H:%M} UTC  {j.message.splitlines()[0] if j.message else ''}"
            )
        return 0
    if args.job_id is None:
        raise UserInputError("请给出任务编号：bizenv job run 12")
    from etl.jobrun import execute

    return execute(dd, args.job_id)
