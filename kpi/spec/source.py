"""metrics.yaml parsed with every node's line kept (yaml.compose), for messages that name the line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from kpi.errors import SpecError

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Where each entry of the YAML file sits, for messages: path tuple → 1-based line."""

    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: Any = None  # the plain YAML data (dicts, lists, scalars)

    def line(self, path: Path_) -> int:
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def entry(self, path: Path_) -> str:
        """Human name of the entry a path points into: 领域 D01（starting_business）/ 指标 D01.02（key）."""
        raw = self.raw
        try:
            if len(path) >= 4 and path[0] == "domains" and path[2] == "indicators":
                ind = raw["domains"][path[1]]["indicators"][path[3]]
                return f"指标 {ind.get('id', '?')}（{ind.get('key', '?')}）"
            if len(path) >= 2 and path[0] == "domains":
                dom = raw["domains"][path[1]]
                return f"领域 {dom.get('id', '?')}（{dom.get('key', '?')}）"
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        return "顶层 " + ".".join(str(p) for p in path[:1]) if path else "文件顶层"

    def where(self, path: Path_) -> str:
        """'metrics.yaml 第 12 行，指标 D01.02（sb_on_time_rate）'."""
        return f"{self.file} 第 {self.line(path)} 行，{self.entry(path)}"


def _to_python(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], dupes: list[tuple[Path_, int]]
):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = (
                _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            )
            if key in out:  # YAML keeps the last one silently; a spec must not
                dupes.append(((*path, key), key_node.start_mark.line + 1))
                continue
            out[key] = _to_python(value_node, (*path, key), lines, dupes)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*path, i), lines, dupes) for i, child in enumerate(node.value)]
    # Scalars: let the safe constructor resolve the tag (int, float, bool, null, str).
    return _scalar(node)


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.Node):
    # The safe constructor resolves the tag the composer gave it (int, float, bool, null, str);
    # plain strings, most of a spec, are taken as they are (the constructor's own result).
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    return _CONSTRUCTOR.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> SourceMap:
    """YAML text → SourceMap holding the plain data and each path's line. Raises SpecError on bad YAML."""
    try:
        # The C loader when PyYAML has it (10× faster); both keep the line marks we need.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise SpecError(
            [
                (
                    f"{file} 第 {line} 行：YAML 语法错误（{getattr(err, 'problem', err)}）。"
                    "改法：检查该行的缩进、冒号后的空格和引号是否成对。"
                )
            ],
            file,
        ) from None
    lines: dict[Path_, int] = {}
    dupes: list[tuple[Path_, int]] = []
    raw = _to_python(node, (), lines, dupes) if node is not None else None
    src = SourceMap(file=file, lines=lines, raw=raw)
    if dupes:
        raise SpecError(
            [
                f"{file} 第 {line} 行，{src.entry(path)}：字段 {path[-1]} 重复出现（第 {src.line(path)} 行已写过）。"
                "改法：删除其中一个。"
                for path, line in dupes
            ],
            file,
        )
    return src
