"""Personal data never reaches the warehouse (个人信息保护).

- caller names: never selected (profile type `drop`);
- phone numbers: replaced by a keyed hash, sha256(secret ‖ digits), so repeat callers can still be
  counted but a number cannot be recovered by hashing every possible phone number — that needs the
  secret, which lives only in <data_dir>/secret.key (created on first use, mode 600, git-ignored);
- every free-text cell (诉求内容, but also 事项名称, 办理部门, 承办单位, 诉求分类, 备注 … every
  `text` field of a profile; `code` fields such as 事项编码 are identifiers and kept) and the
  quarantined row's raw record are masked by one set of rules (RULES, applied by mask_text_sql
  and masked_select), in SQL, before anything is written:
  - 18-digit ID numbers (330802********123X), mobile numbers with or without +86 / 0086 / 86
    (138****5678), landlines with an area code (0570-****5432) and a number after 电话/座机/手机
    (电话****5432) — digits written in any form: ASCII, full-width (１３８), Chinese numerals
    (一三八…, 幺, 壹贰叁), with spaces, dashes or dots between them;
  - e-mail addresses (***@example.com), QQ numbers and WeChat ids after their label (QQ：****);
  - names after a label: with a colon after any role word (联系人：张**, 申请人：李**), after
    我叫 / 名叫, and without a colon after 我是 / 诉求人 / 申请人 / 经办人 / 填报人 … when a
    common surname follows (我是王**). The mask keeps the surname and always writes two stars, so
    it does not tell the name's length; with no punctuation after the name a following character
    may be masked too (诉求人李四反映 → 诉求人李**映): privacy first.
  Kept as they are: 张先生 / 李女士 / 王经理 (the form 12345 centres record callers by), business
  names (衢州市某某科技有限公司) and 统一社会信用代码 (18 characters with capitals and no birth
  date in them, unlike an ID number). A name written bare in a sentence is not found by any rule.

Speed: the rules are sixteen regexp_replace calls. They run only on cells that hit a cheap
pre-filter every rule's match implies (may_hold_sql: a run of five digits, an @, a label word).
Free text (诉求内容) is pre-filtered cell by cell; the other text columns repeat a few hundred
values (事项名称, 办理部门 …), so they are pre-filtered once per distinct value (suspect_columns)
and a column none of whose values hits is written as it is — on a typical export, all of them;
a mapped column (办件状态) masks only the values its map does not know. A quarantined row's raw
record holds times and case numbers that hit the pre-filter, so it goes through the rules in
four groups instead, each behind one test of its own patterns (masked_select).
"""

from __future__ import annotations

import os
import re
import secrets

from kpi.settings import DataDir

# Every way an export writes a digit: ASCII, full-width, Chinese numerals (幺 = 1 when read
# aloud, 〇/零 = 0) and the financial numerals 壹…玖.
_FORMS = {
    "0": "0０〇零",
    "1": "1１一幺壹",
    "2": "2２二贰",
    "3": "3３三叁",
    "4": "4４四肆",
    "5": "5５五伍",
    "6": "6６六陆",
    "7": "7７七柒",
    "8": "8８八捌",
    "9": "9９九玖",
}


def _digit(digits: str = "0123456789") -> str:
    """A character class of the given digits in all their forms."""
    return "[" + "".join(_FORMS[d] for d in digits) + "]"


D = _digit()
NOT_D = "[^" + "".join(_FORMS.values()) + "]"  # a boundary: any character that is no digit
S = r"[\s\x{3000}\x{00a0}\-－—–‐.．·]"  # what people put between digits: spaces, dashes, dots


def _spaced(*parts: str) -> str:
    """The parts one after another, a separator allowed between any two."""
    return f"{S}?".join(parts)


def _run(n: int) -> str:
    return _spaced(*[D] * n)


_BEFORE = f"(^|{NOT_D})"  # a number starts at the text's start or after a non-digit …
_AFTER = f"({NOT_D}|$)"  # … and ends before one (RE2 has no look-around: the boundary is captured)

_ID_REGION = _spaced(_digit("123456789"), *[D] * 5)
_ID_BIRTH = _spaced(
    f"(?:{_digit('1')}{S}?{_digit('89')}|{_digit('2')}{S}?{_digit('0')})",
    D,
    D,
    f"(?:{_digit('0')}{S}?{_digit('123456789')}|{_digit('1')}{S}?{_digit('012')})",
    f"(?:{_digit('0')}{S}?{_digit('123456789')}|{_digit('12')}{S}?{D}|{_digit('3')}{S}?{_digit('01')})",
)
_ID_TAIL = _spaced(D, D, D, f"(?:{D}|[XxＸｘ])")
# 18-digit 身份证号: region, a birth date (which a 统一社会信用代码 does not carry), sequence, check
ID_NUMBER = (f"{_BEFORE}({_ID_REGION}){S}?{_ID_BIRTH}{S}?({_ID_TAIL}){_AFTER}", r"\1\2********\3\4")

_CN_PREFIX = f"(?:(?:[+＋]|{_digit('0')}{_digit('0')}){S}?)?{_digit('8')}{_digit('6')}{S}?"
_MOBILE_HEAD = _spaced(_digit("1"), _digit("3456789"), D)
MOBILE = (
    f"{_BEFORE}((?:{_CN_PREFIX})?{_MOBILE_HEAD}){S}?{_run(4)}{S}?({_run(4)}){_AFTER}",
    r"\1\2****\3\4",
)
# Area codes are 0 + 2–3 digits and never 00… (that is the international prefix): 0001-01-01 is
# a date, not a phone number.
_AREA = f"[(（]?{_digit('0')}{_digit('123456789')}{D}{{1,2}}[)）]?{S}?"
LANDLINE = (
    f"{_BEFORE}({_AREA})(?:{_run(3)}|{_run(4)}){S}?({_run(4)}){_AFTER}",
    r"\1\2****\3\4",
)
_PHONE_WORDS = "电话|座机|固话|手机|联系方式|热线|[Tt][Ee][Ll]"
LOCAL_NUMBER = (
    f"((?:{_PHONE_WORDS})(?:号码|号)?(?:是|为)?[\\s:：]*)(?:{_run(3)}|{_run(4)}){S}?({_run(4)}){_AFTER}",
    r"\1****\2\3",
)
_MAIL_CHAR = r"A-Za-z0-9Ａ-Ｚａ-ｚ０-９"  # ASCII or full-width letters and digits
EMAIL = (
    rf"[{_MAIL_CHAR}._%+\-]+[@＠]([{_MAIL_CHAR}\-]+(?:[.．][{_MAIL_CHAR}\-]+)*[.．][A-Za-zａ-ｚ]{{2,}})",
    r"***@\1",
)
QQ = (
    f"((?:[Qq][Qq]|ＱＱ|扣扣)(?:群|号码|号)?(?:是|为)?[\\s:：]*){D}(?:{S}?{D}){{4,11}}",
    r"\1****",
)
_WECHAT_WORDS = "微信|威信|[Vv]信|[VvWw][Xx]|[Ww]e[Cc]hat|[Ww]ei[Xx]in"
WECHAT = (
    f"((?:{_WECHAT_WORDS})(?:号码|号|[Ii][Dd])?(?:是|为)?[\\s:：]*)"
    f"(?:[A-Za-z][A-Za-z0-9_\\-]{{5,19}}|{D}(?:{S}?{D}){{4,}})",
    r"\1****",
)

# Names. A role word followed by a colon always introduces a name; so do 我叫 / 名叫. Without a
# colon (我是…, 申请人…) only a common surname makes it one — "投诉人反映", "申请人类型",
# "我是企业" stay. Surnames that are everyday words after these labels (于 向 方 由 申 尚 符 …)
# are left out of the list on purpose, and words that begin with a surname (施工, 许可, 马上 …)
# are protected like the forms of address below.
_ROLES = (
    "姓名|联系人|来电人|投诉人|举报人|反映人|申请人|当事人|求助人|诉求人|经办人|填报人|报送人|"
    "负责人|法定代表人|法人代表|法人"
)
_SURNAMES = (
    "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|长孙|宇文|司徒|夏侯|轩辕|端木|独孤|南宫|"
    "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔汤康施牛樊葛邢乔伍庞颜倪庄聂章鲁岳翟殷詹欧耿兰焦俞左柳甘祝舒阮柯纪梅童"
    "季裴霍涂苗谷盛曲翁冉骆蓝蒙鲍喻祁蒲滕屈饶牟穆卓缪芦麦褚娄窦戚岑晏米柏瞿桂佟臧闵苟邬卞姬"
    "栾隋刁寇桑郎甄丛仲虞敖巩佘邝鞠冀郁胥栗鄢谌奚粟冼蔺屠禹狄晋雍辜裘亓邰赫嵇湛戎茅揭尉檀尧]"
)
_WORDS = (
    "高速|高新|高层|高中|高校|高龄|高价|金额|金华|施工|马上|马路|白天|余额|任何|程序|陆续|范围|"
    "付款|付费|顾客|钱款|严重|严格|许可|何时|谢谢|曾经|董事|周末|周边|周[一二三四五六日]|陈述|"
    "石材|毛坯|林地|田地|钟点|段时间|季度"
)
_BUSINESS = (
    "有限责任公司|股份有限公司|有限公司|公司|集团|企业|工厂|厂|商店|店|合作社|事务所|中心|医院|"
    "学校|银行|协会|商行|经营部|工作室|超市|酒店|宾馆|餐厅|饭店|门市部"
)
NAME_AFTER_COLON = (f"((?:{_ROLES})\\s*[：:]\\s*)(\\p{{Han}})\\p{{Han}}{{1,2}}", r"\1\2**")
NAME_STATED = (r"((?:我叫|名叫)\s*)(\p{Han})\p{Han}{1,2}", r"\1\2**")
NAME_AFTER_WORD = (f"((?:我是|{_ROLES})\\s*)({_SURNAMES})\\p{{Han}}{{1,2}}", r"\1\2**")
# What must stay although it follows a label or looks like a name: 张先生 / 李女士 (the form
# 12345 centres record callers by), a business name (申请人：衢州市某某有限公司) and the words
# above. A private-use mark put before them stops the name rules (the mark is not a Han
# character); it is taken out afterwards.
_MARK = "\ue000"
_ADDRESS = "先生|女士|小姐|老师|师傅|同志|阿姨|大爷|大妈|大姐|大哥|老板|经理|主任|科长|处长|局长|书记|所长|院长|总"
KEEP_ADDRESS = (f"(\\p{{Han}})({_ADDRESS})", r"\1" + _MARK + r"\2")
KEEP_BUSINESS = (
    f"((?:我是|我叫|名叫|{_ROLES})\\s*[：:]?\\s*)(\\p{{Han}}[\\p{{Han}}（）()]{{0,20}}?(?:{_BUSINESS}))",
    r"\1" + _MARK + r"\2",
)
KEEP_WORDS = (f"((?:我是|{_ROLES})\\s*)({_WORDS})", r"\1" + _MARK + r"\2")

# Applied in this order; a rule whose match swallows the boundary before the next number
# (13812345678,13912345678) runs twice so that the next one is masked too.
RULES = [
    EMAIL,
    QQ,
    WECHAT,
    ID_NUMBER,
    ID_NUMBER,
    MOBILE,
    MOBILE,
    LANDLINE,
    LANDLINE,
    LOCAL_NUMBER,
    KEEP_ADDRESS,
    KEEP_BUSINESS,
    KEEP_WORDS,
    NAME_AFTER_COLON,
    NAME_STATED,
    NAME_AFTER_WORD,
]

# Implied by every rule above: five digits (IDs, phones, QQ), an @, or a label word.
PREFILTER = "|".join(
    [
        f"{D}(?:{S}?{D}){{4}}",
        "[@＠]",
        "[Qq][Qq]|ＱＱ|扣扣",
        _WECHAT_WORDS,
        "我是|我叫|名叫",
        _ROLES,
    ]
)


def _literal(text: str) -> str:
    """An SQL string literal (the rules are constants of this module, never user data)."""
    return "'" + text.replace("'", "''") + "'"


def mask_text_sql(text_sql: str) -> str:
    """SQL: `text_sql` with every rule of this module applied (see the module docstring)."""
    masked = text_sql
    for pattern, replacement in RULES:
        masked = f"regexp_replace({masked}, {_literal(pattern)}, {_literal(replacement)}, 'g')"
    return f"replace({masked}, {_literal(_MARK)}, '')"


def may_hold_sql(cells: list[str]) -> str:
    """SQL: TRUE when any of the `cells` might hold personal data (the rules' cheap pre-filter)."""
    if not cells:
        return "FALSE"
    joined = cells[0] if len(cells) == 1 else f"concat_ws(chr(1), {', '.join(cells)})"
    return f"coalesce(regexp_matches({joined}, {_literal(PREFILTER)}), FALSE)"


# The rules in groups, each behind one test that any of its matches implies (its patterns in one
# regex): a quarantined row's whole record goes through every group (masked_select), and a
# record with nothing to mask — most — costs one scan per group, not one per rule. Headers such
# as 申请人类型 or 来电号码 and case numbers such as BJ202620000136 match no test.
def _any_of(*rules: tuple[str, str]) -> str:
    return "regexp_matches({t}, " + _literal("|".join(f"(?:{p})" for p, _ in rules)) + ")"


GROUPS = [
    ("contains({t}, '@') OR contains({t}, '＠')", [EMAIL]),
    (_any_of(QQ, WECHAT), [QQ, WECHAT]),
    (
        _any_of(ID_NUMBER, MOBILE, LANDLINE, LOCAL_NUMBER),
        [ID_NUMBER, ID_NUMBER, MOBILE, MOBILE, LANDLINE, LANDLINE, LOCAL_NUMBER],
    ),
    (
        _any_of(NAME_AFTER_COLON, NAME_STATED, NAME_AFTER_WORD),
        [KEEP_ADDRESS, KEEP_BUSINESS, KEEP_WORDS, NAME_AFTER_COLON, NAME_STATED, NAME_AFTER_WORD],
    ),
]
assert [r for _, rules in GROUPS for r in rules] == RULES


def masked_select(select_sql: str, column: str) -> str:
    """SQL: the rows of `select_sql` with `column` masked by every rule (as mask_text_sql), one
    group of rules after another, each group only on the rows its test finds."""
    sql = select_sql
    for test, rules in GROUPS:
        chain = column
        for pattern, replacement in rules:
            chain = f"regexp_replace({chain}, {_literal(pattern)}, {_literal(replacement)}, 'g')"
        hit = test.replace("{t}", column)
        sql = (
            f"SELECT * REPLACE (CASE WHEN {hit} THEN {chain} ELSE {column} END AS {column}) "
            f"FROM ({sql})"
        )
    return f"SELECT * REPLACE (replace({column}, {_literal(_MARK)}, '') AS {column}) FROM ({sql})"


def suspect_columns(con, view: str, columns: list[int]) -> set[int]:
    """The columns c<j> of `view` with at least one value that may hold personal data.

    Looked at on each column's distinct values: 事项名称, 办理部门, 承办单位 … repeat a few
    hundred values over a million rows, so this costs a fraction of a regex call per row, and the
    columns found clean (nearly always) are written without any masking expression."""
    if not columns:
        return set()
    checks = ", ".join(
        f"(SELECT coalesce(bool_or({may_hold_sql(['v'])}), FALSE) FROM (SELECT DISTINCT c{j} AS v FROM {view}))"
        for j in columns
    )
    row = con.execute(f"SELECT {checks}").fetchone()
    return {j for j, hit in zip(columns, row, strict=True) if hit}


def masked_sql(text_sql: str, flag_sql: str) -> str:
    """SQL: `text_sql` masked on the rows `flag_sql` (may_hold_sql's result) marks, as it is elsewhere."""
    return f"(CASE WHEN {flag_sql} THEN {mask_text_sql(text_sql)} ELSE {text_sql} END)"


def secret_key(data_dir: DataDir) -> str:
    """The local hashing key; created (random, 256 bits) the first time it is needed."""
    path = data_dir.secret_key
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip()


def phone_hash_sql(text_sql: str, key_param: str) -> str:
    """SQL: keyed hash of the digits of a phone number (country prefix 86 removed), NULL if none."""
    digits = f"regexp_replace(regexp_replace({text_sql}, '[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{{10}})$', '\\2')"
    return f"CASE WHEN {digits} <> '' THEN sha256({key_param} || {digits}) END"


# Headers of columns that name or reach a person. A column no profile field reads is left out of
# a quarantined row's record when its header is one of these (the fields' own columns are
# handled by their types: drop, phone, freetext).
_PERSONAL_HEADER = re.compile(
    "("
    + _ROLES
    + "|申请者|评价人|承办人|受理人|办理人|审批人|办件人|联系方式|电话|手机|号码|身份证|证件|邮箱|"
    "[Qq][Qq]|微信|住址|家庭地址)"
)


def personal_header(header: str) -> bool:
    """The header names a person or a way to reach one (申请人, 评价人, 联系电话, 身份证号 …)."""
    return bool(_PERSONAL_HEADER.search(header or ""))
