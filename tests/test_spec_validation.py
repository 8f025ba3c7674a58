"""metrics.yaml validation: one test per rule; each message names file, line, entry and the fix."""

from __future__ import annotations

import pytest

from etl.cli import main
from kpi.errors import SpecError
from kpi.spec.load import load_spec

BASE = """\
version: t1
settings:
  includes_basic: true
headline: [avg_days]
domains:
  - id: D1
    key: dom_one
    label_zh: 领域一
    weight: 1.0
    indicators:
      - id: I1
        key: avg_days
        label_zh: 平均用时
        description: 办结件平均工作日
        unit: 工作日
        source: approvals
        filters:
          - {column: status, value: 已办结}
        measure: {agg: avg, expr: workdays_used}
        direction: lower_is_better
        weight: 0.6
        dtf: {best: 0, worst: 10}
        warn: 5
        advanced: 2
      - id: I2
        key: loan_rate
        label_zh: 贷款利率
        description: 部门填报
        unit: "%"
        source: reports
        direction: lower_is_better
        weight: 0.4
        dtf: {best: 3, worst: 7}
"""


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "metrics.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return info.value.problems


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[nth]


def variant(old: str, new: str, nth: int = 0) -> str:
    parts = BASE.split(old)
    assert len(parts) > nth + 1, old
    return old.join(parts[: nth + 1]) + new + old.join(parts[nth + 1 :])


def test_base_spec_is_valid(tmp_path):
    (tmp_path / "m.yaml").write_text(BASE, encoding="utf-8")
    spec = load_spec(tmp_path / "m.yaml")
    assert [i.key for _, i in spec.indicators()] == ["avg_days", "loan_rate"]


# (what is changed, replacement, text the problem must name, line marker in the changed text)
RULES = [
    (
        "duplicate indicator id",
        "      - id: I2",
        "      - id: I1",
        ["指标 I1（loan_rate）", "重复", "唯一的 id"],
        "- id: I1",
        1,
    ),
    (
        "duplicate indicator key",
        "        key: loan_rate",
        "        key: avg_days",
        ["指标 I2（avg_days）", "重复", "唯一的 key"],
        "key: avg_days",
        1,
    ),
    (
        "domain weights",
        "    weight: 1.0",
        "    weight: 0.9",
        ["合计为 0.9", "应为 1", "调整各领域的 weight"],
        "domains:",
        0,
    ),
    (
        "indicator weights",
        "        weight: 0.4",
        "        weight: 0.5",
        ["领域 D1（dom_one）", "合计为 1.1", "调整该领域各指标的 weight"],
        "indicators:",
        0,
    ),
    (
        "dtf equal",
        "dtf: {best: 3, worst: 7}",
        "dtf: {best: 7, worst: 7}",
        ["指标 I2（loan_rate）", "相等", "best 设为最优值"],
        "best: 7, worst: 7",
        0,
    ),
    (
        "dtf order",
        "dtf: {best: 0, worst: 10}",
        "dtf: {best: 10, worst: 0}",
        ["指标 I1（avg_days）", "越小越好", "交换 best 与 worst"],
        "best: 10, worst: 0",
        0,
    ),
    (
        "warn/advanced side",
        "        advanced: 2",
        "        advanced: 8",
        ["指标 I1（avg_days）", "先进值 advanced=8", "预警值 warn=5", "交换两者"],
        "advanced: 8",
        0,
    ),
    (
        "warn without advanced",
        "        advanced: 2\n",
        "",
        ["指标 I1（avg_days）", "要么都写", "补上缺的那一个"],
        "- id: I1",
        0,
    ),
    (
        "unknown filter column",
        "{column: status,",
        "{column: state,",
        ["指标 I1（avg_days）", "“state”不是 approvals 表的列", "改成 approvals 的列之一"],
        "column: state",
        0,
    ),
    (
        "unknown column in expr",
        "expr: workdays_used}",
        "expr: days_used}",
        ["指标 I1（avg_days）", "“days_used”", "只使用 approvals 表的列"],
        "expr: days_used",
        0,
    ),
    (
        "table function in expr",
        "expr: workdays_used}",
        "expr: \"read_csv('x')\"}",
        ["指标 I1（avg_days）", "“read_csv”", "改法"],
        "read_csv",
        0,
    ),
    (
        "second statement in expr",
        "expr: workdays_used}",
        'expr: "workdays_used; DROP TABLE approvals"}',
        ["指标 I1（avg_days）", "不允许的内容“;", "改法"],
        "DROP TABLE",
        0,
    ),
    (
        "unknown setting",
        "expr: workdays_used}",
        'expr: "CASE WHEN $no_such THEN 1 ELSE 0 END"}',
        ["指标 I1（avg_days）", "$no_such", "settings"],
        "$no_such",
        0,
    ),
    (
        "measure and ratio missing",
        "        measure: {agg: avg, expr: workdays_used}\n",
        "",
        ["指标 I1（avg_days）", "必须且只能写 measure 或 ratio 之一", "平均值/合计写 measure"],
        "- id: I1",
        0,
    ),
    (
        "reports with measure",
        "        source: reports\n",
        "        source: reports\n        measure: {agg: sum, expr: value}\n",
        ["指标 I2（loan_rate）", "不能再写 measure", "删除 measure"],
        "agg: sum, expr: value",
        0,
    ),
    (
        "ratio with avg",
        "        measure: {agg: avg, expr: workdays_used}",
        "        ratio:\n          numerator: {agg: avg, expr: workdays_used}\n          denominator: {agg: count, expr: case_id}",
        ["指标 I1（avg_days）", "不能用 avg", "count_if"],
        "numerator:",
        0,
    ),
    (
        "in with a scalar",
        "{column: status, value: 已办结}",
        "{column: status, op: in, value: 已办结}",
        ["指标 I1（avg_days）", "非空列表", "[值1, 值2]"],
        "op: in",
        0,
    ),
    (
        "headline unknown",
        "headline: [avg_days]",
        "headline: [avg_dayz]",
        ["headline", "“avg_dayz”不存在", "改成某个指标的 key"],
        "headline:",
        0,
    ),
    (
        "EXPLAIN failure",
        "expr: workdays_used}",
        'expr: "channel + 1"}',
        ["指标 I1（avg_days）", "DuckDB", "表达式类型"],
        "- id: I1",
        0,
    ),
    (
        "format is no longer a field (no surface used it)",
        "        advanced: 2\n",
        '        advanced: 2\n        format: ".1f"\n',
        ["指标 I1（avg_days）", "format 不是规格里的字段", "删除这个字段"],
        "format:",
        0,
    ),
    (
        "missing direction",
        "        direction: lower_is_better\n        weight: 0.6",
        "        weight: 0.6",
        ["指标 I1（avg_days）", "direction 缺失", "补上这个字段"],
        "- id: I1",
        0,
    ),
    (
        "bad direction",
        "        direction: lower_is_better\n        weight: 0.4",
        "        direction: lower\n        weight: 0.4",
        ["指标 I2（loan_rate）", "direction 取值不在允许范围内", "higher_is_better"],
        "direction: lower",
        1,
    ),
    (
        "misspelt field",
        "        weight: 0.6",
        "        wieght: 0.6",
        ["指标 I1（avg_days）", "wieght 不是规格里的字段", "检查拼写"],
        "wieght",
        0,
    ),
    (
        "quoted number",
        "        weight: 0.4",
        '        weight: "0.4"',
        ["指标 I2（loan_rate）", "weight 应为数字", "不带引号"],
        'weight: "0.4"',
        0,
    ),
    # issue 13: how an indicator counts
    (
        "some indicator weights left out",
        "        weight: 0.4\n",
        "",
        ["领域 D1（dom_one）", "有的指标写了 weight，有的没写", "都不写（等权"],
        "indicators:",
        0,
    ),
    (
        "when names no true/false setting",
        "          - {column: status, value: 已办结}",
        "          - {column: status, value: 已办结, when: nosuch}",
        ["指标 I1（avg_days）", "when 应是 settings 中取值为 true/false 的设置名", "不存在"],
        "when: nosuch",
        0,
    ),
    (
        "due dates for a filing",
        "        source: reports\n",
        "        source: reports\n        period_by: due\n",
        ["指标 I2（loan_rate）", "period_by: due 只用于", "删除 period_by"],
        "period_by: due",
        0,
    ),
    (
        "items read a case column",
        "        measure: {agg: avg, expr: workdays_used}",
        "        over: items\n        measure: {agg: avg, expr: workdays_used}",
        ["指标 I1（avg_days）", "按事项目录计时只能用事项本身的列", "workdays_used"],
        "over: items",
        0,
    ),
    (
        "requires a column that is always there",
        "        measure: {agg: avg, expr: workdays_used}",
        "        requires: [case_id]\n        measure: {agg: avg, expr: workdays_used}",
        ["指标 I1（avg_days）", "requires 中的 case_id", "导出可能缺少的列"],
        "requires: [case_id]",
        0,
    ),
    (
        "coverage floor names no setting",
        "        measure: {agg: avg, expr: workdays_used}",
        "        coverage: {label: 回访率, base: {agg: count, expr: case_id}, min: $nosuch}\n"
        "        measure: {agg: avg, expr: workdays_used}",
        ["指标 I1（avg_days）", "coverage.min 应是百分数", "$设置名"],
        "coverage:",
        0,
    ),
    (
        "parts for a transaction indicator",
        "        measure: {agg: avg, expr: workdays_used}",
        "        reported: {numerator: 甲, denominator: 乙}\n        measure: {agg: avg, expr: workdays_used}",
        [
            "指标 I1（avg_days）",
            "reported（填报的分子、分母）只用于 source: reports",
            "删除 reported",
        ],
        "reported:",
        0,
    ),
]


@pytest.mark.parametrize("name,old,new,needles,marker,nth", RULES, ids=[r[0] for r in RULES])
def test_rule_names_file_line_entry_and_fix(tmp_path, name, old, new, needles, marker, nth):
    text = variant(old, new)
    found = problems(tmp_path, text)
    hits = [p for p in found if all(n in p for n in needles)]
    assert hits, f"{name}: no problem mentions {needles}: {found}"
    message = hits[0]
    assert message.startswith(f"metrics.yaml 第 {line_of(text, marker, nth)} 行")
    assert "改法：" in message


def test_yaml_syntax_error_has_line(tmp_path):
    text = BASE.replace("        unit: 工作日", "        unit: [工作日")
    found = problems(tmp_path, text)
    assert (
        len(found) == 1
        and found[0].startswith("metrics.yaml 第 ")
        and "YAML 语法错误" in found[0]
        and "改法" in found[0]
    )


def test_every_problem_reported_at_once(tmp_path):
    text = (
        BASE.replace("dtf: {best: 0, worst: 10}", "dtf: {best: 10, worst: 0}")
        .replace("{column: status,", "{column: state,")
        .replace("headline: [avg_days]", "headline: [nope]")
    )
    assert len(problems(tmp_path, text)) == 3


def test_a_malformed_field_does_not_hide_the_other_problems(tmp_path):
    """One run, one SpecError naming every fault: a direction that is not one of the two words
    (structure) beside a duplicate id, equal DTF bounds, weights off and a bad headline key."""
    text = (
        BASE.replace(
            "direction: lower_is_better\n        weight: 0.6",
            "direction: lower\n        weight: 0.6",
        )
        .replace("      - id: I2", "      - id: I1")
        .replace("dtf: {best: 3, worst: 7}", "dtf: {best: 3, worst: 3}")
        .replace("weight: 0.4", "weight: 0.3")
        .replace("headline: [avg_days]", "headline: [nope]")
    )
    found = problems(tmp_path, text)
    expected = [
        ("direction 取值不在允许范围内", line_of(text, "direction: lower\n"[:-1])),
        ("指标 id“I1”与第", line_of(text, "- id: I1", 1)),
        ("best 与 worst 相等", line_of(text, "dtf: {best: 3, worst: 3}")),
        ("领域内各指标 weight 合计为 0.9", line_of(text, "indicators:")),
        ("“nope”不存在", line_of(text, "headline:")),
    ]
    for needle, line in expected:
        hits = [p for p in found if needle in p]
        assert len(hits) == 1, (needle, found)
        assert hits[0].startswith(f"metrics.yaml 第 {line} 行"), (needle, hits[0])
    assert len(found) == len(expected), found


def test_a_quoted_weight_is_one_problem_not_two(tmp_path):
    # the structure problem (应为数字) is the whole story: no echo "weights sum to 0.4"
    found = problems(tmp_path, BASE.replace("weight: 0.6", 'weight: "0.6"'))
    assert len(found) == 1 and "weight 应为数字" in found[0], found


def test_engine_accepts_a_one_domain_spec(tmp_path):
    (tmp_path / "m.yaml").write_text(BASE, encoding="utf-8")
    assert len(load_spec(tmp_path / "m.yaml").domains) == 1


def test_shipped_spec_has_the_18_domains_and_headline():
    spec = load_spec()
    names = [d.label_zh for d in spec.domains]
    assert names == [
        "开办企业",
        "劳动力市场监管",
        "办理建筑许可",
        "政府采购",
        "招标投标",
        "获得电力",
        "获得用水用气",
        "登记财产",
        "获得信贷",
        "保护中小投资者",
        "知识产权创造、保护和运用",
        "跨境贸易",
        "纳税",
        "执行合同",
        "办理破产",
        "市场监管",
        "政务服务",
        "包容普惠创新",
    ]
    assert all(len(d.indicators) >= 3 for d in spec.domains)
    gov = next(d for d in spec.domains if d.key == "government_services")
    assert set(spec.headline) <= {i.key for i in gov.indicators}
    assert spec.headline == (
        "hotline_resolution_rate",
        "hotline_satisfaction_rate",
        "ratings_good_rate",
        "approval_avg_workdays",
        "approval_online_rate",
    )
    assert {i.source for i in gov.indicators} == {"approvals", "hotline", "ratings"}


def test_cli_validate(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert main(["validate", "--metrics", str(good)]) == 0
    assert "通过" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("    weight: 1.0", "    weight: 0.9"), encoding="utf-8")
    assert main(["validate", "--metrics", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "bad.yaml 有 1 处问题" in out and "改法" in out


def test_filter_value_missing_from_catalogue(tmp_path):
    text = BASE.replace(
        "          - {column: status, value: 已办结}",
        "          - {column: status, value: 已办结}\n          - {column: domain_key, value: startng_business}",
    )
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert found[0].startswith(
        f"metrics.yaml 第 {line_of(text, 'startng_business')} 行，指标 I1（avg_days）"
    )
    assert "startng_business 不在目录 domains.csv" in found[0] and "改法" in found[0]


def test_duplicate_field_in_an_entry(tmp_path):
    text = BASE.replace("        weight: 0.4\n", "        weight: 0.4\n        weight: 0.5\n")
    found = problems(tmp_path, text)
    expected = (
        f"metrics.yaml 第 {line_of(text, 'weight: 0.5')} 行，指标 I2（loan_rate）：字段 weight 重复出现"
        f"（第 {line_of(text, 'weight: 0.4')} 行已写过）。改法：删除其中一个。"
    )
    assert found == [expected]


def test_leaving_out_every_weight_means_equal_weights(tmp_path):
    text = (
        BASE.replace("    weight: 1.0\n", "")
        .replace("        weight: 0.6\n", "")
        .replace("        weight: 0.4\n", "")
    )
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    spec = load_spec(tmp_path / "m.yaml")
    dom = spec.domains[0]
    assert spec.domain_weight(dom) == 1.0
    assert [spec.indicator_weight(dom, i) for i in dom.indicators] == [0.5, 0.5]
    assert spec.weight_basis(dom, dom.indicators[0]).startswith("等权")


def test_units_name_existing_record_indicators(tmp_path):
    text = BASE.replace(
        "headline: [avg_days]", "headline: [avg_days]\nunits: {indicators: [loan_rate, nosuch]}"
    )
    found = problems(tmp_path, text)
    assert any("units.indicators" in p and "“nosuch”不存在" in p for p in found), found
    assert any("units.indicators" in p and "“loan_rate”不是" in p for p in found), found


def test_the_shipped_spec_gives_a_basis_for_every_bound_and_weight():
    """Every DTF pair states where its bounds come from; weights are equal unless a basis says
    otherwise (issue 13): no domain outweighs another without a reason written down."""
    spec = load_spec()
    missing = [i.key for _, i in spec.indicators() if not (i.dtf.basis and i.dtf.basis.strip())]
    assert missing == []
    for dom in spec.domains:
        assert spec.weight_basis(dom)
        for ind in dom.indicators:
            if ind.weight is not None:
                assert ind.weight_basis, ind.key
    weights = [spec.domain_weight(d) for d in spec.domains]
    assert weights == pytest.approx([1 / 18] * 18) or all(d.weight_basis for d in spec.domains)
