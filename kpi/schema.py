"""The public schema: canonical warehouse tables and the score marts (the data contract).

Analysts query these with DuckDB directly; README documents them. The ETL creates the canonical
tables, the scoring engine (kpi.engine.scoring) creates the marts; both take the DDL from here so that
there is exactly one definition of every column.

Conventions:
- periods are calendar quarters in Asia/Shanghai time written '2026Q3'; a record belongs to the
  quarter of its completion / close / rating time (`period` column, set at load); timeliness
  indicators count 办件 and tickets in the quarter they fall due instead (`due_period`, the
  quarter of `due_at`), open or closed;
- districts are 6-digit 行政区划代码; the city-wide rows of the marts carry the city's code
  (districts.csv row with level = 'city') and `is_city = true`, and no rank;
- timestamps are naive local time (Asia/Shanghai), as the exports give them.
"""

from __future__ import annotations

# The sources, as users name them (messages, pages, exports all take the names from here).
SOURCE_LABELS: dict[str, str] = {
    "approvals": "办件",
    "hotline": "12345 工单",
    "ratings": "好差评",
    "reports": "指标填报",
}

# The score marts by the short names `bizenv export --table` takes.
MART_SHORT_NAMES: dict[str, str] = {
    "overall": "overall_scores",
    "domains": "domain_scores",
    "indicators": "indicator_scores",
}

# ── canonical records (written by etl/, one row per natural key; last load wins) ───────────

LINEAGE_COLUMNS = """
    period            VARCHAR,        -- '2026Q3': quarter of the completion/close/rating time
    source_file       VARCHAR,        -- file name the current version came from
    source_line       INTEGER,        -- physical line (CSV) or row (XLSX) in that file, 1-based
    load_id           VARCHAR,        -- etl_runs.load_id of the load that wrote this version
    first_load_id     VARCHAR,        -- etl_runs.load_id of the load that first inserted it
    version           INTEGER         -- 1 on insert, +1 each time a later export changed it
"""

CANONICAL_DDL: dict[str, str] = {
    "approvals": f"""
CREATE TABLE IF NOT EXISTS approvals (
    case_id             VARCHAR PRIMARY KEY,   -- 办件编号
    item_code           VARCHAR,               -- 事项编码
    item_name           VARCHAR,               -- 事项名称
    domain_key          VARCHAR,               -- indicator domain from data/catalog/items.csv (NULL: not in catalogue)
    district_code       VARCHAR NOT NULL,      -- 6-digit 行政区划代码
    department          VARCHAR,               -- 办理部门 / 受理单位
    applicant_type      VARCHAR,               -- 企业 | 个人
    channel             VARCHAR,               -- 全程网办 | 窗口 | 自助终端 | 移动端 | 其他
    case_type           VARCHAR,               -- 办件类型 (GB/T 39046 A.6): 即办件 | 承诺件 | 其他 (承诺时限 0 → 即办件 when not exported)
    accepted_at         TIMESTAMP NOT NULL,    -- 受理时间
    completed_at        TIMESTAMP,             -- 办结时间 (NULL while in progress)
    status              VARCHAR,               -- 已办结 | 办理中 | 不予受理 | 退件 ...
    legal_limit_days    INTEGER,               -- 法定时限 (working days)
    promised_limit_days INTEGER,               -- 承诺时限 (working days)
    visits              INTEGER,               -- 跑动次数
    extension_days      INTEGER,               -- approved 延期 (working days) the export carries
    special_days        INTEGER,               -- 特别程序 time (working days; 行政许可法 §45: not counted in the limit)
    due_at              TIMESTAMP,             -- 办结期限: the export's 承诺办结时间, else 受理 + limit (promised, else legal, else the
                                               -- catalogue's) + extension + 特别程序 in working days, at the end of that day; NULL: no limit
    due_period          VARCHAR,               -- quarter of due_at: the quarter timeliness indicators count the case in (应办结)
    workdays_used       INTEGER,               -- working days from the day after 受理 to 办结 (inclusive)
    on_time             BOOLEAN,               -- true: 办结 on or before the due day; false: 办结 later, or still open after it
                                               -- when loaded; NULL: no due time, or open and not yet due
    calendar_known      BOOLEAN,               -- false: a date outside the known holiday calendars (weekday-only count)
{LINEAGE_COLUMNS})""",
    "hotline": f"""
CREATE TABLE IF NOT EXISTS hotline (
    ticket_id           VARCHAR PRIMARY KEY,   -- 工单编号
    received_at         TIMESTAMP NOT NULL,    -- 来电时间 / 受理时间
    channel             VARCHAR,               -- 电话 | 网站 | 微信 | APP | ...
    caller_type         VARCHAR,               -- 企业 | 个人
    is_enterprise       BOOLEAN,               -- 涉企 (caller_type = 企业 or 是否涉企 = 是)
    urgency             VARCHAR,               -- 紧急程度: 紧急 | 一般 (NULL: the export does not say; read as 一般)
    category            VARCHAR,               -- 咨询 | 求助 | 投诉 | 举报 | 建议 | 其他 (normalised)
    category_raw        VARCHAR,               -- 诉求类型 as exported
    topic               VARCHAR,               -- 诉求分类
    domain_key          VARCHAR,               -- indicator domain from data/catalog/hotline_topics.csv
    district_code       VARCHAR NOT NULL,
    handling_unit       VARCHAR,               -- 承办单位
    responded_at        TIMESTAMP,             -- 签收时间 / 首次响应时间
    closed_at           TIMESTAMP,             -- 办结时间
    limit_days          INTEGER,               -- 办理时限 (working days)
    extension_days      INTEGER,               -- approved 延期 (working days)
    due_at              TIMESTAMP,             -- 办结期限: the export's, else received + limit_days + extension working days (end of that day)
    due_period          VARCHAR,               -- quarter of due_at (应办结: what timeliness indicators count in)
    followed_up         BOOLEAN,               -- 回访: the caller was reached (是否回访; else an answer to 是否解决 / 满意度 recorded)
    resolved            BOOLEAN,               -- 是否解决 / 回访结果 (NULL: not asked)
    satisfaction        VARCHAR,               -- 非常满意 | 满意 | 基本满意 | 不满意 | 非常不满意 (NULL: not rated)
    is_repeat           BOOLEAN,               -- 是否重复
    caller_hash         VARCHAR,               -- keyed hash of 来电号码 (never the number itself)
    content             VARCHAR,               -- 诉求内容 with phone and ID numbers masked
    response_hours      DOUBLE,                -- hours from received_at to responded_at
    open_hours          DOUBLE,                -- not yet signed and not closed: hours it had waited when loaded
    workdays_used       INTEGER,               -- working days from the day after receipt to close
    on_time             BOOLEAN,               -- true: closed on or before the due day; false: later, or open after it when loaded
    calendar_known      BOOLEAN,
{LINEAGE_COLUMNS})""",
    "ratings": f"""
CREATE TABLE IF NOT EXISTS ratings (
    rating_id           VARCHAR PRIMARY KEY,   -- 评价编号 (no such column, as in GB/T 39046: 办件编号-评价次数)
    rating_seq          INTEGER,               -- 评价次数 (GB/T 39046 表9): 1 = the first rating of the 办件; 1 when absent
    rated_at            TIMESTAMP NOT NULL,    -- 评价时间
    channel             VARCHAR,               -- 评价渠道 (PC端 | 移动端 | 二维码 | 政务大厅平板电脑 | ...)
    district_code       VARCHAR NOT NULL,
    department          VARCHAR,               -- 评价部门
    item_code           VARCHAR,               -- 事项编码
    item_name           VARCHAR,               -- 事项名称 (taskName)
    domain_key          VARCHAR,               -- matched in the catalogue by 事项编码 or 事项名称, else the 办件's (case_id)
    case_id             VARCHAR,               -- 办件编号 (optional)
    level               INTEGER NOT NULL,      -- 1 非常满意 · 2 满意 · 3 基本满意 · 4 不满意 · 5 非常不满意 (GB/T 39046 A.8)
    level_label         VARCHAR,               -- the label of `level`
    appeal_voided       BOOLEAN,               -- 申诉复核 found the 差评 invalid (mistaken or malicious); NULL: not said
    is_bad              BOOLEAN,               -- 差评: level in (4, 5) and not voided on 申诉复核
    rectified           BOOLEAN,               -- 是否整改
    rectified_at        TIMESTAMP,             -- 整改时间
    rectify_workdays    INTEGER,               -- working days from the day after the rating to 整改
    followed_up         BOOLEAN,               -- 差评回访: the rater was called back
{LINEAGE_COLUMNS})""",
    "reports": f"""
CREATE TABLE IF NOT EXISTS reports (
    district_code       VARCHAR NOT NULL,
    report_period       VARCHAR NOT NULL,      -- 统计期 '2026Q3'
    indicator_key       VARCHAR NOT NULL,      -- metrics.yaml indicator key (or mapped from 指标名称)
    value               DOUBLE,                -- 指标值 (may be blank when 分子 and 分母 are filed)
    numerator           DOUBLE,                -- 分子 (e.g. 审结案件数), for indicators metrics.yaml gives `reported` parts
    denominator         DOUBLE,                -- 分母 (e.g. 应结案件数)
    reported_by         VARCHAR,               -- 填报单位
    reported_at         TIMESTAMP,             -- 填报时间 (NULL: the export does not say; the first load's time counts)
    note                VARCHAR,               -- 备注
{LINEAGE_COLUMNS},
    PRIMARY KEY (district_code, report_period, indicator_key))""",
}

# Chinese names of the canonical columns, per source — the one map every surface takes them from
# (record tables, filter and measure sentences of kpi.spec.describe, definitions).
_LINEAGE_LABELS = {
    "period": "统计季度",
    "source_file": "来源文件",
    "source_line": "行号",
    "load_id": "导入批次",
    "first_load_id": "首次导入批次",
    "version": "版本",
}
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "approvals": {
        "case_id": "办件编号",
        "item_code": "事项编码",
        "item_name": "事项名称",
        "domain_key": "领域",
        "district_code": "区县",
        "department": "办理部门",
        "applicant_type": "申请人类型",
        "channel": "办理渠道",
        "case_type": "办件类型",
        "accepted_at": "受理时间",
        "completed_at": "办结时间",
        "status": "办件状态",
        "legal_limit_days": "法定时限（工作日）",
        "promised_limit_days": "承诺时限（工作日）",
        "visits": "跑动次数",
        "extension_days": "延期（工作日）",
        "special_days": "特别程序（工作日）",
        "due_at": "办结期限",
        "due_period": "应办结季度",
        "workdays_used": "办理用时（工作日）",
        "on_time": "按时办结",
        "calendar_known": "日历已知",
        **_LINEAGE_LABELS,
    },
    "hotline": {
        "ticket_id": "工单编号",
        "received_at": "来电时间",
        "channel": "渠道",
        "caller_type": "来电人类型",
        "is_enterprise": "涉企",
        "urgency": "紧急程度",
        "category": "诉求类型",
        "category_raw": "诉求类型（原始）",
        "topic": "诉求分类",
        "domain_key": "领域",
        "district_code": "区县",
        "handling_unit": "承办单位",
        "responded_at": "响应时间",
        "closed_at": "办结时间",
        "limit_days": "办理时限（工作日）",
        "extension_days": "延期（工作日）",
        "due_at": "办结期限",
        "due_period": "应办结季度",
        "followed_up": "已回访",
        "resolved": "是否解决",
        "satisfaction": "满意度",
        "is_repeat": "重复诉求",
        "caller_hash": "来电号码（密文）",
        "content": "诉求内容（已脱敏）",
        "response_hours": "响应用时（小时）",
        "open_hours": "待响应时长（小时）",
        "workdays_used": "办理用时（工作日）",
        "on_time": "按时办结",
        "calendar_known": "日历已知",
        **_LINEAGE_LABELS,
    },
    "ratings": {
        "rating_id": "评价编号",
        "rating_seq": "评价次数",
        "rated_at": "评价时间",
        "channel": "评价渠道",
        "district_code": "区县",
        "department": "评价部门",
        "item_code": "事项编码",
        "item_name": "事项名称",
        "domain_key": "领域",
        "case_id": "办件编号",
        "level": "评价等级（1–5）",
        "level_label": "评价等级",
        "appeal_voided": "申诉复核认定无效",
        "is_bad": "差评",
        "rectified": "是否整改",
        "rectified_at": "整改时间",
        "rectify_workdays": "整改用时（工作日）",
        "followed_up": "差评已回访",
        **_LINEAGE_LABELS,
    },
    "reports": {
        "district_code": "区县",
        "report_period": "统计期",
        "indicator_key": "指标",
        "value": "指标值",
        "numerator": "分子",
        "denominator": "分母",
        "reported_by": "填报单位",
        "reported_at": "填报时间",
        "note": "备注",
        **_LINEAGE_LABELS,
    },
}

# Columns an indicator may read that no table holds: worked out by the build's scan (kpi.engine.compile).
VIRTUAL_COLUMNS: dict[str, dict[str, str]] = {
    # the 办件 has a first 好差评 rating (ratings.case_id, rating_seq = 1): 主动评价率
    "approvals": {"is_rated": "已评价"},
}

# The unit behind a record, for the unit scorecards (承办单位 / 办理部门 / 评价部门).
UNIT_COLUMNS: dict[str, str] = {
    "hotline": "handling_unit",
    "approvals": "department",
    "ratings": "department",
}

# The rule a quarantine reason names, without the offending value after it: what summaries group by.
QUARANTINE_RULE_SQL = "split_part(reason, '：', 1)"

# Natural key of every canonical table: what "the same record" means across loads.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "approvals": ("case_id",),
    "hotline": ("ticket_id",),
    "ratings": ("rating_id",),
    "reports": ("district_code", "report_period", "indicator_key"),
}

# The time column that decides a record's quarter (`period`).
PERIOD_TIME_COLUMN: dict[str, str] = {
    "approvals": "coalesce(completed_at, accepted_at)",
    "hotline": "coalesce(closed_at, received_at)",
    "ratings": "rated_at",
}

SUPPORT_DDL: dict[str, str] = {
    "etl_runs": """
CREATE TABLE IF NOT EXISTS etl_runs (
    load_id            VARCHAR PRIMARY KEY,
    file_name          VARCHAR,
    file_path          VARCHAR,
    sha256             VARCHAR,
    source             VARCHAR,         -- approvals | hotline | ratings | reports
    profile            VARCHAR,         -- header profile used
    rows_read          BIGINT,          -- = rows_loaded + rows_quarantined + rows_skipped
    rows_loaded        BIGINT,
    rows_quarantined   BIGINT,
    rows_skipped       BIGINT,          -- 合计/总计/小计 and blank rows
    rows_inserted      BIGINT,
    rows_updated       BIGINT,
    rows_unchanged     BIGINT,
    status             VARCHAR,         -- ok | refused | failed | duplicate_file | undone (etl.undo)
    message            VARCHAR,
    started_at         TIMESTAMP,
    finished_at        TIMESTAMP,
    is_demo            BOOLEAN DEFAULT FALSE, -- the file is one the demo generator wrote (listed in its manifest.json with this sha256)
    fields             VARCHAR[])       -- canonical columns the export filled (a column it had, an extraction or a constant);
                                        -- an indicator that needs a column none of a cell's exports had is "no such column", never 0 %""",
    "quarantine": """
CREATE TABLE IF NOT EXISTS quarantine (
    load_id            VARCHAR,
    source             VARCHAR,
    file_name          VARCHAR,
    line_no            INTEGER,         -- physical line (CSV) or row (XLSX), 1-based, as a user sees it
    column_name        VARCHAR,         -- the export's own header of the offending column
    reason             VARCHAR,         -- Chinese reason, e.g. 办结时间早于受理时间, 时间为空; for a value that cannot be used followed by ：“value” (时间无法识别：“待补录”)
    raw                VARCHAR,         -- the row as JSON, personal data removed/masked
    district_code      VARCHAR,         -- the row's district when it could be read (NULL: unknown or empty)
    period             VARCHAR)         -- the row's quarter when its time could be read, else the quarter most of the file's rows are in""",
    "lineage": """
CREATE TABLE IF NOT EXISTS lineage (
    source             VARCHAR,
    record_key         VARCHAR,         -- natural key (joined with '|')
    load_id            VARCHAR,
    action             VARCHAR,         -- update (an insert is told by the record: first_load_id, version 1)
    previous_load_id   VARCHAR,
    changed_at         TIMESTAMP)""",
    "catalog_state": """
CREATE TABLE IF NOT EXISTS catalog_state (
    key                VARCHAR PRIMARY KEY,  -- catalog_dir: the catalogue folder the last load used;
                                             -- match_hash: the catalogue every record's domain_key was matched with (kpi.matching)
    value              VARCHAR)""",
    "calendar": """
CREATE TABLE IF NOT EXISTS calendar (
    day                DATE PRIMARY KEY,
    is_workday         BOOLEAN NOT NULL,
    known              BOOLEAN NOT NULL, -- false: year outside chinese-calendar and holidays.yaml
    holiday_name       VARCHAR,
    workday_seq        INTEGER NOT NULL) -- running count of working days; workdays between a and b = seq(b) - seq(a)""",
    "districts": """
CREATE TABLE IF NOT EXISTS districts (
    district_code      VARCHAR PRIMARY KEY,
    district_name      VARCHAR NOT NULL,
    short_name         VARCHAR,
    level              VARCHAR,          -- city | district
    sort_order         INTEGER)""",
    "domains": """
CREATE TABLE IF NOT EXISTS domains (
    domain_key         VARCHAR PRIMARY KEY,  -- metrics.yaml domains[].key
    label_zh           VARCHAR,
    label_en           VARCHAR,
    short_name         VARCHAR,              -- 开办企业, 劳动市场 …: the one short form every page and the LED screen use
    sort_order         INTEGER)""",
    "items": """
CREATE TABLE IF NOT EXISTS items (
    item_code          VARCHAR PRIMARY KEY,
    item_name          VARCHAR,
    domain_key         VARCHAR,
    department         VARCHAR,
    legal_limit_days   INTEGER,
    promised_limit_days INTEGER,
    is_enterprise      BOOLEAN)""",
    # Internal to kpi.engine.partials (not part of the data contract): per-quarter parts of the
    # transaction scan kept between builds, and what changed since.
    "partials": """
CREATE TABLE IF NOT EXISTS partials (
    source             VARCHAR NOT NULL,  -- the scan (kpi.engine.compile plan key): approvals, approvals@due, hotline@unit …
    period             VARCHAR NOT NULL,  -- the record's quarter, or for a @due scan the quarter it falls due
    k                  INTEGER NOT NULL,  -- indicator's position in metrics.yaml; -1: every record of the scan
    district_code      VARCHAR NOT NULL,  -- the city's code on the city-wide row
    city               BOOLEAN NOT NULL,
    as_of              TIMESTAMP,         -- latest event time in the row group
    num                DOUBLE,
    den                DOUBLE,
    n                  BIGINT,
    unit               VARCHAR,           -- @unit scans: the 承办单位 / 办理部门 / 评价部门 (NULL otherwise)
    scope_n            BIGINT,            -- records within the indicator's filters (whatever the columns its exports had)
    missing_n          BIGINT,            -- of those, records from exports without a column the indicator needs
    base               DOUBLE)            -- the coverage base (e.g. closed 诉求 tickets behind a 回访率 floor)""",
    "partials_state": """
CREATE TABLE IF NOT EXISTS partials_state (
    source             VARCHAR PRIMARY KEY,
    plan_hash          VARCHAR NOT NULL,  -- sha256 of the compiled scan the parts came from
    row_count          BIGINT NOT NULL)   -- rows in the source table the parts stand for""",
    "partials_changed": """
CREATE TABLE IF NOT EXISTS partials_changed (
    source             VARCHAR NOT NULL,
    period             VARCHAR NOT NULL)  -- a quarter whose rows bizenv load wrote since the last build""",
    "snapshot_meta": """
CREATE TABLE IF NOT EXISTS snapshot_meta (
    key                VARCHAR PRIMARY KEY,  -- built_at, data_as_of, city_code, city_name, metrics_version, current_period,
                                             -- latest_complete_period, headline / domain_order (JSON lists of keys)
    value              VARCHAR)""",
}

# ── score marts (written by kpi.engine.scoring on `bizenv build`) ─────────────────────────────────
# Shared columns: the period with its state, and the district with its display name.
_KEY = """
    period             VARCHAR NOT NULL,  -- '2026Q3'
    is_partial         BOOLEAN NOT NULL,  -- true: the quarter is still in progress (进行中)
    district_code      VARCHAR NOT NULL,  -- the city's code on the 全市 rows
    district_name      VARCHAR,
    is_city            BOOLEAN NOT NULL"""
_CHANGE = """
    rank               INTEGER,          -- 1 = best; ties share the best rank (并列) by default; NULL on city rows / unscored
    rank_change        INTEGER,          -- previous quarter's rank − this rank (positive = moved up; NULL across partial/full)
    score_prev         DOUBLE,           -- score in the previous quarter
    score_qoq          DOUBLE,           -- score − score_prev (NULL when either side is partial and the other is not)
    score_yoy          DOUBLE,           -- score − score of the same quarter last year (NULL across partial/full)
    trend_qoq          VARCHAR,          -- improved | worsened | unchanged (direction-aware, neutral band; docs/metrics.md)
    trend_yoy          VARCHAR"""

MART_DDL: dict[str, str] = {
    "periods": """
CREATE OR REPLACE TABLE periods (
    period             VARCHAR PRIMARY KEY,
    period_start       DATE,
    period_end         DATE,
    is_partial         BOOLEAN,
    data_as_of         TIMESTAMP)        -- latest event time in the period""",
    "indicator_scores": f"""
CREATE OR REPLACE TABLE indicator_scores (
{_KEY},
    domain_id          VARCHAR NOT NULL,
    domain_key         VARCHAR NOT NULL,
    indicator_id       VARCHAR NOT NULL,
    indicator_key      VARCHAR NOT NULL,
    label_zh           VARCHAR,
    unit               VARCHAR,
    direction          VARCHAR,          -- higher_is_better | lower_is_better
    source             VARCHAR,          -- approvals | hotline | ratings | reports
    applies_to         VARCHAR,          -- district | city (city: never ranked among districts nor in a district's domain score)
    update_cycle       VARCHAR,          -- quarterly | annual (annual: compared year on year only; QoQ columns NULL)
    value              DOUBLE,           -- the indicator value (ratios as percentages when unit = '%')
    numerator          DOUBLE,
    denominator        DOUBLE,
    n                  BIGINT,           -- sample size (records behind the value; a filing's 分母)
    scored             BOOLEAN NOT NULL, -- true: ok, or a report due and not filed (scores 0)
    data_state         VARCHAR,          -- ok | small (样本量不足) | low_coverage (e.g. 回访率 below its floor) |
                                         -- not_applicable (市级指标 on a district row, or no such records) |
                                         -- no_column (the exports lacked a column it needs: never 0 %) |
                                         -- not_filed (应报未报: scores 0, red) | not_due (报送期限未到) | no_data
    suppressed_reason  VARCHAR,          -- the state in words (Chinese), e.g. 应报未报（报送期限 2026-10-15）
    score              DOUBLE,           -- distance-to-frontier 0–100 (0 for 应报未报)
    weight             DOUBLE,
    value_prev         DOUBLE,           -- value in the previous quarter
    value_qoq          DOUBLE,           -- value − value_prev (NULL when one quarter is partial and the other is not)
    value_yoy          DOUBLE,           -- value − value of the same quarter last year (same rule)
{_CHANGE},
    rag                VARCHAR,          -- red | amber | green | NULL (suppressed)
    warn               DOUBLE,           -- 预警值
    advanced           DOUBLE,           -- 先进值
    dtf_best           DOUBLE,
    dtf_worst          DOUBLE)""",
    "domain_scores": f"""
CREATE OR REPLACE TABLE domain_scores (
{_KEY},
    domain_id          VARCHAR NOT NULL,
    domain_key         VARCHAR NOT NULL,
    label_zh           VARCHAR,
    weight             DOUBLE,
    score              DOUBLE,           -- weighted mean of scored indicator scores (renormalised)
    scored_weight      DOUBLE,           -- share of the domain's indicator weight that was scorable
    suppressed_reason  VARCHAR,          -- set when score is NULL (e.g. 可评分指标权重不足一半)
    n_indicators       INTEGER,          -- indicators that apply (a district row: those with applies_to = district)
    n_scored           INTEGER,
    n_red              INTEGER,
    n_green            INTEGER,
    coverage_note      VARCHAR,          -- set on a ranked district whose score rests on fewer indicators than another's
{_CHANGE},
    rag                VARCHAR)""",
    "overall_scores": f"""
CREATE OR REPLACE TABLE overall_scores (
{_KEY},
    score              DOUBLE,           -- 综合指数: weighted mean of domain scores
    n_domains_scored   INTEGER,
    n_red              INTEGER,          -- red indicators in the period
    coverage_note      VARCHAR,          -- set on a ranked district whose index rests on fewer domains than another's
{_CHANGE},
    rag                VARCHAR)""",
    "data_quality": f"""
CREATE OR REPLACE TABLE data_quality (
{_KEY},
    reports_due        INTEGER,          -- 填报 due from the unit this quarter (the round has begun and its deadline passed)
    reports_filed      INTEGER,
    reports_on_time    INTEGER,          -- filed (first loaded) by the deadline
    filing_timely_rate DOUBLE,           -- 填报及时率 = reports_on_time ÷ reports_due × 100
    indicators_applicable INTEGER,       -- indicators that apply to the unit this quarter
    indicators_with_data  INTEGER,       -- … that have a value (scored or not)
    data_share         DOUBLE,           -- indicators_with_data ÷ indicators_applicable × 100
    records_loaded     BIGINT,           -- records of the quarter (办件, 工单, 评价, 填报)
    records_quarantined BIGINT,          -- rows of the quarter left in quarantine (by the district the row names)
    quarantine_share   DOUBLE,           -- records_quarantined ÷ (loaded + quarantined) × 100
    quarantined_unknown_district BIGINT) -- city row: quarantined rows whose district could not be read""",
    "unit_scores": """
CREATE OR REPLACE TABLE unit_scores (
    period             VARCHAR NOT NULL,
    is_partial         BOOLEAN NOT NULL,
    district_code      VARCHAR NOT NULL, -- the district the unit's records are filed under (the city's code: 市本级)
    district_name      VARCHAR,
    unit_name          VARCHAR NOT NULL, -- 12345 承办单位 / 办件 办理部门 / 好差评 评价部门
    indicator_id       VARCHAR NOT NULL,
    indicator_key      VARCHAR NOT NULL,
    label_zh           VARCHAR,
    unit               VARCHAR,          -- of the value (%, 工作日 …)
    source             VARCHAR,
    direction          VARCHAR,
    value              DOUBLE,
    n                  BIGINT,
    scored             BOOLEAN,          -- n ≥ units.min_sample
    score              DOUBLE,           -- distance-to-frontier with the indicator's own bounds
    rank               INTEGER,          -- among the scored units of the quarter
    suppressed_reason  VARCHAR)""",
    "unit_overall": """
CREATE OR REPLACE TABLE unit_overall (
    period             VARCHAR NOT NULL,
    is_partial         BOOLEAN NOT NULL,
    district_code      VARCHAR NOT NULL,
    district_name      VARCHAR,
    unit_name          VARCHAR NOT NULL,
    score              DOUBLE,           -- mean of the unit's scored indicator scores (equal weights)
    n_indicators       INTEGER,          -- indicators with a value
    n_scored           INTEGER,
    n_records          BIGINT,
    rank               INTEGER,          -- among the units with a score
    coverage_note      VARCHAR)          -- set when the score rests on fewer indicators than another unit's""",
}


# Columns added after warehouses were first created: (table, column, type), added on open.
# etl_runs.is_demo is NULL on the rows loaded before it existed: the next `bizenv load` or
# `bizenv reset --demo` works it out from the files' manifests (etl.demo.mark_earlier_loads).
ADDED_COLUMNS = (
    ("etl_runs", "is_demo", "BOOLEAN"),
    # issue 13 (due dates, the 12345 / 好差评 / 政务服务 set, missing vs small). Records loaded before
    # these columns existed have them NULL: their timeliness counts only after they are loaded again.
    ("etl_runs", "fields", "VARCHAR[]"),
    ("quarantine", "district_code", "VARCHAR"),
    ("quarantine", "period", "VARCHAR"),
    ("approvals", "case_type", "VARCHAR"),
    ("approvals", "extension_days", "INTEGER"),
    ("approvals", "special_days", "INTEGER"),
    ("approvals", "due_at", "TIMESTAMP"),
    ("approvals", "due_period", "VARCHAR"),
    ("hotline", "urgency", "VARCHAR"),
    ("hotline", "extension_days", "INTEGER"),
    ("hotline", "due_at", "TIMESTAMP"),
    ("hotline", "due_period", "VARCHAR"),
    ("hotline", "followed_up", "BOOLEAN"),
    ("hotline", "open_hours", "DOUBLE"),
    ("ratings", "rating_seq", "INTEGER"),
    ("ratings", "item_name", "VARCHAR"),
    ("ratings", "appeal_voided", "BOOLEAN"),
    ("ratings", "rectify_workdays", "INTEGER"),
    ("ratings", "followed_up", "BOOLEAN"),
    ("reports", "numerator", "DOUBLE"),
    ("reports", "denominator", "DOUBLE"),
    ("reports", "reported_at", "TIMESTAMP"),
    ("partials", "unit", "VARCHAR"),
    ("partials", "scope_n", "BIGINT"),
    ("partials", "missing_n", "BIGINT"),
    ("partials", "base", "DOUBLE"),
)
# Constraints dropped since: (table, column) whose NOT NULL an older warehouse still has.
DROPPED_NOT_NULL = (("reports", "value"),)


def create_canonical(con) -> None:
    """Create every canonical and support table that does not exist yet (in the default schema),
    and add the columns an older warehouse lacks."""
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = current_schema()"
    ).fetchall():  # one catalogue query instead of a statement per table
        columns.setdefault(table, set()).add(column)
    for table, ddl in (*CANONICAL_DDL.items(), *SUPPORT_DDL.items()):
        if table not in columns:
            con.execute(ddl)
    added = False
    for table, column, kind in ADDED_COLUMNS:
        if table in columns and column not in columns[table]:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
            added = True
    if added:
        for table, column in DROPPED_NOT_NULL:
            if table in columns:
                con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP NOT NULL')
