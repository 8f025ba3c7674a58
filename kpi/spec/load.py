"""Loading metrics.yaml: parse (with lines) → build the models → every semantic check, at once
(the semantic checks also run when the models cannot be built: one run names every problem).

`load_spec(path)` is the one way the rest of bizenv gets a spec. It sits above both the models
(kpi.spec.models) and the checks (kpi.spec.validate, which compiles SQL through the engine), so
none of them needs to import the other late.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from kpi import settings
from kpi.errors import SpecError
from kpi.spec.models import MetricsSpec
from kpi.spec.source import SourceMap, parse_yaml
from kpi.spec.validate import validate

_MSG_BY_TYPE = {
    "missing": "缺失",
    "extra_forbidden": "不是规格里的字段",
    "literal_error": "取值不在允许范围内",
    "float_type": "应为数字",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "bool_type": "应为 true 或 false",
    "too_short": "不能为空",
    "tuple_type": "应为列表",
    "model_type": "应为映射（键: 值）",
    "dict_type": "应为映射（键: 值）",
}

_FIX_BY_TYPE = {
    "missing": "补上这个字段",
    "extra_forbidden": "删除这个字段，或检查拼写（允许的字段见 docs/metrics.md）",
    "literal_error": "改成允许的取值之一",
    "float_type": "写成不带引号的数字",
    "int_type": "写成不带引号的整数",
    "string_type": "写成文字（必要时加引号）",
    "bool_type": "写成 true 或 false",
    "too_short": "至少写一项",
}


def _structure_problems(src: SourceMap, err: ValidationError) -> list[str]:
    problems: list[str] = []
    seen: set[tuple] = set()
    errors = err.errors()
    # Union branches add type names to loc ('str', 'tuple[...]'): keep only the steps that
    # exist in the file, so the line and the field name are the user's own.
    paths = [tuple(step for step in e["loc"] if not _is_type_tag(step)) for e in errors]
    for e, path in zip(errors, paths, strict=True):
        if path in seen:  # one message per field, not one per union branch
            continue
        if e["type"] == "too_short" and any(q[: len(path)] == path != q for q in paths):
            continue  # pydantic counts the list without its broken entry: an echo of that entry
        seen.add(path)
        name = ".".join(str(p) for p in path if not isinstance(p, int)) or "（顶层）"
        fix = _FIX_BY_TYPE.get(e["type"], "按 docs/metrics.md 的格式改写")
        if path and path[-1] == "value":
            fix = (
                "写成文字、数字或 true/false；op 为 in / not_in 时写成它们的列表，例如 [投诉, 举报]"
            )
        msg = _MSG_BY_TYPE.get(e["type"], e["msg"])
        expected = e.get("ctx", {}).get("expected")
        detail = f"（允许：{expected}）" if expected else ""
        problems.append(f"{src.where(path)}：字段 {name} {msg}{detail}。改法：{fix}。")
    return problems


def _is_type_tag(step) -> bool:
    return isinstance(step, str) and (
        step in {"bool", "int", "float", "str", "none"} or "[" in step
    )


def build_models(src: SourceMap) -> tuple[MetricsSpec | None, list[str]]:
    """(the spec, []) — or (None, the structure problems) when the models cannot be built."""
    if not isinstance(src.raw, dict):
        raise SpecError(
            [
                (
                    f"{src.file} 第 1 行：文件内容应是一个映射（version、defaults、domains 等字段）。"
                    "改法：参照仓库根目录的 metrics.yaml 改写。"
                )
            ],
            src.file,
        )
    try:
        return MetricsSpec.model_validate(src.raw), []
    except ValidationError as err:
        return None, _structure_problems(src, err)


def load_spec(
    path: Path | str | None = None, *, check_sql: bool = True, catalog_dir: Path | str | None = None
) -> MetricsSpec:
    """Read, build and validate metrics.yaml (default: settings.metrics_path()). Raises SpecError."""
    path = Path(path) if path else settings.metrics_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            [f"找不到指标规格文件 {path}。改法：检查 --metrics 参数或 BIZENV_METRICS 环境变量。"],
            str(path),
        ) from None
    src = parse_yaml(text, path.name)
    spec, problems = build_models(src)
    # The semantic checks run on the raw data too, so a malformed field does not hide the rest.
    catalog = Path(catalog_dir) if catalog_dir is not None else None
    problems += validate(src, check_sql=check_sql, catalog_dir=catalog)
    if problems or spec is None:
        raise SpecError(problems, path.name)
    return spec
