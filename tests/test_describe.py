"""Indicator definitions read as Chinese sentences (kpi.spec.describe), never as field names or SQL.

Expected sentences are written by hand from the filter / expression they describe.
"""

from __future__ import annotations

import re

import pytest

from kpi import schema
from kpi.engine.compile import canonical_columns
from kpi.read import queries
from kpi.spec import describe
from kpi.spec.load import load_spec
from kpi.spec.models import Aggregate, Filter

# An ASCII word (a column, a keyword, a setting or a file name) left in a sentence.
ASCII_WORD = re.compile(r"[A-Za-z_]+")


@pytest.fixture(scope="module")
def spec():
    return load_spec(check_sql=False)


def test_every_canonical_column_has_a_chinese_label():
    for source, columns in canonical_columns().items():
        assert set(columns) == set(schema.COLUMN_LABELS[source]), source
        for column in columns:
            assert not ASCII_WORD.search(schema.COLUMN_LABELS[source][column]), column


def test_every_indicator_of_metrics_yaml_reads_as_chinese(spec):
    """The whole spec: every sentence the 明细 banner and the 指标定义 table show is free of ASCII
    identifiers and SQL, and none falls back to 自定义表达式 (every expr is translated)."""
    seen = 0
    for _, ind in spec.indicators():
        texts = [
            describe.indicator_sentence(ind, spec),
            *describe.measure_parts(ind, spec),
            describe.filters_text(ind.filters, ind.source, spec),
            describe.counted_text(ind, spec) or "",
        ]
        if ind.source in queries.RECORD_COLUMNS:
            texts.append(queries.indicator_filter(spec, ind.key)[2])
        for text in texts:
            assert not ASCII_WORD.search(text), (ind.id, text)
            assert describe.CUSTOM not in text and "自定义" not in text, (ind.id, text)
        seen += 1
    assert seen == len(spec.indicators()) == 83
    for dom in spec.domains:
        for row in queries.indicator_specs(spec, dom.key).to_dict("records"):
            for column in ("说明", "计算方法", "方向", "数据来源"):
                assert not ASCII_WORD.search(str(row[column])), (row["编号"], row[column])


@pytest.mark.parametrize(
    ("source", "f", "expected"),
    [
        ("approvals", Filter(column="status", value="已办结"), "办件状态为“已办结”"),
        ("approvals", Filter(column="status", op="!=", value="退件"), "办件状态不为“退件”"),
        (
            "hotline",
            Filter(column="category", op="in", value=("投诉", "举报")),
            "诉求类型为“投诉”或“举报”",
        ),
        (
            "hotline",
            Filter(column="topic", op="not_in", value=("咨询",)),
            "诉求分类不为“咨询”",
        ),
        ("approvals", Filter(column="visits", op=">", value=2), "跑动次数大于“2”"),
        ("approvals", Filter(column="visits", op=">=", value=1), "跑动次数不少于“1”"),
        ("approvals", Filter(column="visits", op="<", value=3), "跑动次数小于“3”"),
        ("approvals", Filter(column="visits", op="<=", value=0), "跑动次数不超过“0”"),
        ("approvals", Filter(column="legal_limit_days", op="not_null"), "有法定时限"),
        ("approvals", Filter(column="item_name", op="not_null"), "事项名称已填写"),
        ("approvals", Filter(column="item_name", op="is_null"), "事项名称为空"),
        ("hotline", Filter(column="closed_at", op="is_null"), "未办结"),
        ("hotline", Filter(column="is_enterprise", value=True), "涉企"),
        ("hotline", Filter(column="is_enterprise", value=False), "不涉企"),
        ("hotline", Filter(column="is_repeat", op="!=", value=True), "不是重复诉求"),
        ("ratings", Filter(column="rectified", value=True), "已整改"),
        ("approvals", Filter(column="domain_key", value="starting_business"), "领域为“开办企业”"),
    ],
)
def test_each_filter_op_as_a_phrase(spec, source, f, expected):
    assert describe.filter_text(f, source, spec) == expected


@pytest.mark.parametrize(
    ("source", "agg", "expected"),
    [
        ("approvals", Aggregate(agg="count", expr="case_id"), "办件数"),
        ("hotline", Aggregate(agg="count", expr="ticket_id"), "工单数"),
        ("ratings", Aggregate(agg="count", expr="rating_id"), "评价数"),
        ("approvals", Aggregate(agg="count", expr="visits"), "跑动次数已填写的办件数"),
        ("approvals", Aggregate(agg="count_if", expr="on_time"), "按时办结的办件数"),
        ("hotline", Aggregate(agg="count_if", expr="NOT resolved"), "不满足“已解决”的工单数"),
        (
            "approvals",
            Aggregate(agg="count_if", expr="on_time IS NOT NULL"),
            "应办结（已办结或已过办结期限）的办件数",
        ),
        ("approvals", Aggregate(agg="count_if", expr="item_name IS NULL"), "事项名称为空的办件数"),
        (
            "approvals",
            Aggregate(agg="count_if", expr="channel = '全程网办'"),
            "办理渠道为“全程网办”的办件数",
        ),
        (
            "approvals",
            Aggregate(agg="count_if", expr="channel <> '窗口' AND visits <= 1"),
            "办理渠道不为“窗口”且跑动次数不超过1的办件数",
        ),
        (
            "hotline",
            Aggregate(agg="count_if", expr="resolved OR is_repeat"),
            "已解决或为重复诉求的工单数",
        ),
        (
            "approvals",
            Aggregate(agg="count_if", expr="visits <= $zero_visit_max"),
            "跑动次数不超过设置“零跑动的跑动次数上限”（当前为 0）的办件数",
        ),
        (
            "ratings",
            Aggregate(
                agg="count_if",
                expr="level <= CASE WHEN $good_rating_includes_basic THEN 3 ELSE 2 END",
            ),
            "评价为非常满意或满意（设置“好评含基本满意”为是时也含基本满意）的评价数",
        ),
        (
            "ratings",
            Aggregate(agg="count_if", expr="level <= CASE WHEN is_bad THEN 5 ELSE 2 END"),
            "评价等级（1–5）不超过（差评时为5，否则为2）的评价数",
        ),
        ("approvals", Aggregate(agg="avg", expr="workdays_used"), "办理用时（工作日）的平均值"),
        ("approvals", Aggregate(agg="sum", expr="legal_limit_days"), "法定时限（工作日）的合计"),
        ("approvals", Aggregate(agg="max", expr="visits"), "跑动次数的最大值"),
        ("approvals", Aggregate(agg="min", expr="visits + 1"), "跑动次数加1的最小值"),
        (
            "approvals",
            Aggregate(agg="sum", expr="legal_limit_days - promised_limit_days"),
            "承诺时限比法定时限减少的工作日数的合计",
        ),
        # Functions are not translated: they read as a custom expression, never as SQL.
        (
            "approvals",
            Aggregate(agg="avg", expr="coalesce(visits, 0)"),
            "按自定义表达式计算的平均值",
        ),
    ],
)
def test_each_aggregate_as_a_phrase(spec, source, agg, expected):
    assert describe.aggregate_text(agg, source, spec) == expected


def test_sentences_of_a_ratio_a_mean_and_a_filing(spec):
    # counted in the quarter it falls due, open or closed (issue 13)
    assert describe.indicator_sentence(spec.indicator("sb_on_time_rate"), spec) == (
        "按办结期限所在季度统计（应办结；到期仍未办结的算超期）："
        "在领域为“开办企业”、办件状态不为“不予受理”或“退件”的办件中，"
        "按时办结的办件数 ÷ 应办结（已办结或已过办结期限）的办件数 × 100%。"
    )
    assert describe.indicator_sentence(spec.indicator("sb_avg_workdays"), spec) == (
        "在领域为“开办企业”、办件状态为“已办结”的办件中，取办理用时（工作日）的平均值。"
    )
    assert describe.indicator_sentence(spec.indicator("ratings_good_rate"), spec).startswith(
        "在首次评价（评价次数为 1）的评价中，"  # a re-rating after rectification does not count
    )
    plain = spec.indicator("cr_sme_loan_rate")  # filed as a value, by each district and the city
    assert describe.indicator_sentence(plain, spec) == (
        "取各区县部门填报的数值，全市取全市填报的数值（指标填报），单位：%。"
    )


def test_records_banner_names_scope_and_denominator(spec):
    _, _, text = queries.indicator_filter(spec, "hotline_resolution_rate")
    assert text == (
        "范围：涉企，诉求类型不为“咨询”（设置“解决率、满意率不计咨询”为是时）；"
        "计入分母：回访了是否解决的工单"
    )
    _, _, text = queries.indicator_filter(spec, "sb_online_rate")
    assert text == "范围：领域为“开办企业”，办件状态为“已办结”"  # every record in scope counts


@pytest.mark.parametrize(
    ("source", "agg", "expected"),
    [
        (
            "approvals",
            Aggregate(agg="count_if", expr="channel IN ('全程网办', '移动端')"),
            "办理渠道为“全程网办”或“移动端”的办件数",
        ),
        (
            "hotline",
            Aggregate(agg="count_if", expr="category NOT IN ('咨询', '建议')"),
            "诉求类型不为“咨询”或“建议”的工单数",
        ),
        ("approvals", Aggregate(agg="count_if", expr="is_rated"), "有首次好差评的办件数"),
        ("hotline", Aggregate(agg="count_if", expr="followed_up"), "已回访的工单数"),
        (
            "hotline",
            Aggregate(
                agg="count_if",
                expr="response_hours <= CASE WHEN urgency = '紧急' THEN $hotline_sign_limit_hours_urgent "
                "ELSE $hotline_sign_limit_hours END",
            ),
            "在签收时限内签收（紧急工单按设置“紧急工单签收时限（小时）”，其余按设置“签收时限（小时）”）的工单数",
        ),
        (
            "ratings",
            Aggregate(
                agg="count_if",
                expr="is_bad AND rectified AND rectify_workdays <= $rectify_limit_days",
            ),
            "差评在设置“差评整改时限（工作日）”内整改完成的评价数",
        ),
    ],
)
def test_issue13_expressions_as_phrases(spec, source, agg, expected):
    assert describe.aggregate_text(agg, source, spec) == expected


def test_issue13_sentences(spec):
    """Filters that depend on a setting, the first rating only, per-mille, 事项, a coverage floor,
    a city-level indicator and a filing in parts, each said in words."""
    f = Filter(
        column="category", op="not_in", value=("咨询",), when="hotline_rates_exclude_consultation"
    )
    assert describe.filter_text(f, "hotline", spec) == (
        "诉求类型不为“咨询”（设置“解决率、满意率不计咨询”为是时）"
    )
    assert describe.indicator_sentence(spec.indicator("ratings_bad_per_mille"), spec) == (
        "在首次评价（评价次数为 1）的评价中，差评的评价数 ÷ 评价数 × 1000。"
    )
    assert "每个事项只计一次" in describe.indicator_sentence(
        spec.indicator("approval_limit_compression_rate"), spec
    )
    assert describe.indicator_sentence(spec.indicator("hotline_resolution_rate"), spec).endswith(
        "（回访率低于设置“回访率下限”时不评分）。"
    )
    assert describe.indicator_sentence(spec.indicator("cbt_import_hours"), spec) == (
        "取全市填报的数值（指标填报），单位：小时（市级指标：只算全市，不分区县）。"
    )
    assert describe.indicator_sentence(spec.indicator("lm_arbitration_closing_rate"), spec) == (
        "取部门填报的分子（审结案件数）÷ 分母（应结案件数） × 100%。"
        "全市值为各区县分子合计 ÷ 分母合计（全市另行填报时取全市的）。"
    )
    assert describe.indicator_sentence(
        spec.indicator("ratings_bad_rectified_rate"), spec
    ).startswith("按整改期限所在季度统计（到期未整改的算未按期）：")
