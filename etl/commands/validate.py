"""`bizenv validate`: check metrics.yaml and print every problem at once, or 通过."""

from __future__ import annotations

import argparse

from kpi import settings
from kpi.errors import SpecError
from kpi.spec.load import load_spec

HELP = "检查指标规格 metrics.yaml：列出全部问题（文件、行号、条目、改法），没有问题时显示“通过”。"
EXAMPLE = "  bizenv validate\n  bizenv validate --metrics 其他城市/metrics.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics", metavar="文件", help="指标规格文件（默认：仓库根目录的 metrics.yaml）"
    )
    parser.add_argument(
        "--catalog", metavar="目录", help="目录表所在文件夹，用于核对筛选值（默认：data/catalog）"
    )


def run(args: argparse.Namespace) -> int:
    path = settings.metrics_path(args.metrics)
    try:
        spec = load_spec(path, catalog_dir=args.catalog)
    except SpecError as err:
        print(str(err))
        return 1
    n = len(spec.indicators())
    print(f"通过：{path.name} 共 {len(spec.domains)} 个领域、{n} 个指标（版本 {spec.version}）。")
    return 0
