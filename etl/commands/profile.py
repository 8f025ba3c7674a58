"""`bizenv profile new FILE` / `bizenv profile check FILE --profile P`: a header profile for an
unfamiliar export without knowing the canonical field names or writing regexes.

`new` reads the export, picks the source whose headers it recognises best, proposes a mapping
(every column with its Chinese field name and a few of its values; columns no field reads are
listed too) and writes a profile YAML commented in Chinese. `check` dry-runs a load of the file
with a profile — nothing is written to the warehouse — and prints what would be loaded,
quarantined (with one example row per reason) and which 事项 would match no domain.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from kpi.errors import UserInputError

HELP = "表头画像：new 根据导出文件生成画像草稿（中文注释）；check 用画像试导入，只显示结果、不写入数据。"
EXAMPLE = (
    "  bizenv profile new 某区办件导出.xlsx                 （写出 某区办件导出_画像.yaml）\n"
    "  bizenv profile new 好差评.csv --source ratings --out 好差评画像.yaml\n"
    "  bizenv profile check 某区办件导出.xlsx --profile 某区办件导出_画像.yaml"
)
SAMPLES = 3
# Chinese names of profile fields that are no canonical column of their own
EXTRA_LABELS = {
    "data_version": "数据版本号",
    "level_code": "评价等级编码",
    "caller_name": "诉求人姓名（不入库）",
    "caller_phone": "来电号码（只存密文）",
    "category_raw": "诉求类型",
    "indicator_code": "指标编码",
    "indicator_name": "指标名称",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="操作")
    new = sub.add_parser(
        "new", help="根据导出文件生成表头画像草稿", description="根据导出文件生成表头画像草稿"
    )
    new.add_argument("file", metavar="文件", help="导出文件（CSV/XLSX/XLS）")
    new.add_argument(
        "--source",
        choices=("approvals", "hotline", "ratings", "reports"),
        help="数据来源（不指定时按表头推测）",
    )
    new.add_argument("--out", metavar="文件", help="画像文件名（默认：<导出文件名>_画像.yaml）")
    new.add_argument("--force", action="store_true", help="画像文件已存在时覆盖")
    check = sub.add_parser(
        "check", help="用画像试导入（不写入数据）", description="用画像试导入，不写入数据"
    )
    check.add_argument("file", metavar="文件", help="导出文件（CSV/XLSX/XLS）")
    check.add_argument("--profile", metavar="文件", help="表头画像 YAML（不指定时用内置画像）")
    check.add_argument(
        "--source", choices=("approvals", "hotline", "ratings", "reports"), help="数据来源"
    )
    check.add_argument("--catalog", metavar="目录", help="目录数据（默认 data/catalog/）")


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        return _new(args)
    if args.action == "check":
        return _check(args)
    raise UserInputError(
        "用法：bizenv profile new 文件 或 bizenv profile check 文件 --profile 画像.yaml"
    )


# ── new ───────────────────────────────────────────────────────────────────────────────────────


def _label(source: str, name: str, spec) -> str:
    from kpi.schema import COLUMN_LABELS

    return (
        EXTRA_LABELS.get(name)
        or COLUMN_LABELS.get(source, {}).get(name)
        or (spec.headers[0] if spec.headers else name)
    )


def _guess(spec, headers: list[str], taken: set[int]) -> int | None:
    """A column whose header contains one of the field's known headers, or the other way round
    (受理日期时间 for 受理时间 …): proposed, marked for checking."""
    from etl import pii
    from etl.profiles import normalize_header

    known = [normalize_header(h) for h in spec.headers if len(normalize_header(h)) >= 2]
    for i, h in enumerate(headers):
        n = normalize_header(h)
        if i in taken or len(n) < 2:
            continue
        if pii.personal_header(h) and spec.type not in ("drop", "phone"):
            continue  # 申请人 is never 申请人类型
        if any(k in n or (len(n) >= 3 and n in k) for k in known):
            return i
    return None


def _yaml_str(v: str) -> str:
    import json

    return json.dumps(v, ensure_ascii=False)


def _new(args) -> int:
    from etl import readers
    from etl.profiles import (
        builtin_profile,
        builtin_profiles,
        detect_profile,
        known_headers,
        match_fields,
    )
    from kpi import store
    from kpi.schema import SOURCE_LABELS

    path = Path(args.file)
    out = Path(args.out) if args.out else path.with_name(path.stem + "_画像.yaml")
    if out.exists() and not args.force:
        raise UserInputError(f"{out} 已存在。换一个文件名（--out），或加 --force 覆盖。")
    con = store.connect_memory()
    with tempfile.TemporaryDirectory(prefix="bizenv-profile-") as tmp:
        raw = readers.read_export(con, path, known_headers(builtin_profiles()), "raw0", Path(tmp))
        headers = raw.headers
        if args.source:
            profile = builtin_profile(args.source)
        else:
            complete, guess = detect_profile(headers, builtin_profiles())
            profile = (
                complete
                or guess
                or max(builtin_profiles(), key=lambda p: len(match_fields(p, headers)))
            )
        samples = _samples(con, raw.view, len(headers))
    con.close()
    found = match_fields(profile, headers)
    taken = set(found.values())
    lines = [
        f"# 表头画像草稿：{path.name}（由 bizenv profile new 生成，{dt.date.today():%Y-%m-%d}）",
        f"# 按“{SOURCE_LABELS[profile.source]}”读取。请逐条核对下面的对应关系，改好后试导入：",
        f"#   bizenv profile check {path.name} --profile {out.name}",
        "# 每个字段写 headers: [导出里的列名]；整份导出没有某列但值都相同时写 constant: 值。",
        f"source: {profile.source}",
        f"name: {_yaml_str(path.stem)}",
        "fields:",
    ]
    unsure = []
    for name, spec in profile.fields.items():
        label = _label(profile.source, name, spec)
        need = "（必需）" if spec.required else ""
        if name in found:
            j = found[name]
            lines.append(f"  # {label}{need} ← 第 {_col(j)} 列“{headers[j]}”，例如：{samples[j]}")
            lines.append(f"  {name}: {{headers: [{_yaml_str(headers[j])}]}}")
            continue
        g = _guess(spec, headers, taken)
        if g is not None:
            j = g
            taken.add(j)
            unsure.append(label)
            lines.append(
                f"  # {label}{need} ← 推测是第 {_col(j)} 列“{headers[j]}”（请核对），例如：{samples[j]}"
            )
            lines.append(f"  {name}: {{headers: [{_yaml_str(headers[j])}]}}")
        elif spec.required:
            lines.append(f"  # {label}（必需）：导出里没有找到。有这一列就写上列名；")
            lines.append("  # 整份导出属于同一个值（如同一个区县）就写 constant。")
            lines.append(f"  # {name}: {{headers: [列名]}}    或    {name}: {{constant: 值}}")
    if profile.source == "ratings":
        lines += [
            "  # 评价等级若是数字（1–5），必须写明方向（各地不同，不能猜）：在 level 或 level_code 下加",
            "  #   direction: 1=非常满意      （GB/T 39046 的满意度代码）",
            "  #   direction: 1=非常不满意    （多数省级好差评接口的 satisfaction）",
        ]
    rest = [i for i in range(len(headers)) if i not in taken and headers[i]]
    if rest:
        lines.append(
            "# 下面这些列没有对应字段，导入时不读取（需要时把列名加到上面某个字段的 headers 里）："
        )
        lines += [f"#   第 {_col(i)} 列“{headers[i]}”，例如：{samples[i]}" for i in rest]
    lines.append(
        "# 时间格式认不出时加 date_formats，例如：date_formats: ['%m/%d/%Y %H:%M']；"
        "办结结果等数字编码可用 columns 写编码表（见 etl/profiles/approvals.yaml）。"
    )
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"已写出表头画像草稿：{out}（按{SOURCE_LABELS[profile.source]}读取）")
    mapped = len([ln for ln in lines if ln.startswith("  ") and not ln.startswith("  #")])
    print(f"  认出 {mapped} 个字段，{len(rest)} 列不读取。")
    if unsure:
        print(f"  以下字段是推测的，请打开画像核对：{'、'.join(unsure)}")
    print(f"下一步：bizenv profile check {path} --profile {out}")
    return 0


def _col(i: int) -> str:
    from etl.profiles import column_letter

    return column_letter(i)


def _samples(con, view: str, width: int) -> list[str]:
    """A few distinct non-empty values per column, as shown in the comments (masked, cut)."""
    if width == 0:
        return []
    from etl import pii

    parts = ", ".join(
        f"(SELECT list(v) FROM (SELECT DISTINCT c{i} AS v FROM (SELECT c{i} FROM {view} LIMIT 2000) "
        f"WHERE nullif(trim(c{i}), '') IS NOT NULL LIMIT {SAMPLES}))"
        for i in range(width)
    )
    row = con.execute(f"SELECT {parts}").fetchone()
    out = []
    for values in row:
        shown = []
        for v in values or []:
            masked = con.execute(f"SELECT {pii.mask_text_sql('?')}", [str(v)]).fetchone()[0]
            shown.append(masked[:20] + ("…" if len(masked) > 20 else ""))
        out.append("、".join(shown) if shown else "（空）")
    return out


# ── check ─────────────────────────────────────────────────────────────────────────────────────


def _check(args) -> int:
    from etl import catalog as catalog_mod
    from etl import load, validate
    from etl.profiles import load_user_profile
    from kpi import settings, store

    path = Path(args.file)
    user = load_user_profile(args.profile) if args.profile else None
    catalog = catalog_mod.load_catalog(args.catalog)
    mem = store.connect_memory()
    catalog_mod.register(mem, catalog)
    with tempfile.TemporaryDirectory(prefix="bizenv-check-") as tmp:
        # a throwaway data dir: the dry run needs a hashing key for phone numbers, not the real one
        staged = load.stage_file(
            mem,
            path,
            0,
            args.source,
            user,
            settings.DataDir.of(Path(tmp) / "data"),
            Path(tmp),
            load.local_now(),
            catalog_root=catalog.root,
        )
        r = staged.report
        print(f"试导入 {path.name}（{r.source}，画像 {r.profile}），不写入任何数据：")
        print(
            f"  读取 {r.rows_read:,} 行 = 可导入 {r.rows_loaded:,} + 隔离 {r.rows_quarantined:,} + 跳过 {r.rows_skipped:,}"
        )
        for note in r.notes:
            print(f"  注意：{note}")
        if r.rows_repeated or r.rows_superseded:
            print(f"  跳过的行{load.skipped_detail(r).removeprefix('（跳过的行中')[:-1]}")
        examples = dict(
            (reason, (line, column, value))
            for reason, line, column, value in mem.execute(
                "SELECT reason, line_no, column_name, bad_value FROM ("
                + validate.quarantined_sql()
                + ") QUALIFY row_number() OVER (PARTITION BY reason ORDER BY line_no) = 1"
            ).fetchall()
        )
        for reason, n in r.quarantine_by_reason.items():
            line, column, value = examples.get(reason, (None, None, None))
            shown = f"的值“{value}”" if value is not None else ""
            print(f"  隔离：{reason} {n:,} 行（例如第 {line} 行“{column}”列{shown}）")
        if r.rows_unmatched:
            names = "、".join(f"{name}（{n:,}）" for name, n in r.unmatched_names)
            print(
                f"  未匹配领域：{r.rows_unmatched:,} 条记录（{r.unmatched_kinds:,} 种事项），最多的：{names}"
            )
        elif r.source in ("approvals", "ratings"):
            print("  事项全部匹配到领域。")
        load.release_checked(mem)
    mem.close()
    if r.rows_quarantined or r.rows_unmatched:
        print(
            "改画像（列名、编码表、date_formats）或目录（items.csv、item_rules.csv）后再试；"
            "满意了就正式导入：bizenv load 文件 --profile 画像.yaml"
        )
    return 0
