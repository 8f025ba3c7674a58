"""Fake personal data and free text for 12345 tickets, built column-wise with pyarrow.

All characters are in GBK, because the hotline export is GBK. Some 诉求内容 carry a phone number
or an 18-digit 身份证号, as real ones do, so the loader's masking is exercised.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
_GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉红玲斌宇浩凯秀英慧巧美琳云莲真环雪荣爱妹香月媛瑞凡佳嘉琼勤珍贞莉丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)
_PLACES = [
    "府山街道",
    "荷花街道",
    "信安街道",
    "双港街道",
    "白云街道",
    "航埠镇",
    "樟潭街道",
    "廿里镇",
    "天马街道",
    "华埠镇",
    "池淮镇",
    "龙洲街道",
    "虎山街道",
    "贺村镇",
    "新城区",
    "工业园区",
    "高新园区",
    "老城区",
    "开发区",
    "城东片区",
]

# topic → sentences (the subject is the caller); unknown topics use _GENERIC
_SENTENCES = {
    "企业开办咨询": [
        "咨询新办企业营业执照和公章刻制能否一次办结。",
        "询问个体户转企业需要准备哪些材料。",
    ],
    "拖欠工资": [
        "反映所在工地拖欠工人工资两个多月，要求尽快支付。",
        "反映某公司拖欠离职员工工资，多次讨要未果。",
    ],
    "劳动合同纠纷": [
        "反映用人单位未签订劳动合同，要求依法处理。",
        "反映公司单方面解除劳动合同未给补偿。",
    ],
    "社保缴纳": ["咨询灵活就业人员社保如何缴纳。", "反映单位未按时缴纳社保，影响医保报销。"],
    "工程建设审批": [
        "反映施工许可审批材料反复退回，希望一次告知。",
        "咨询工程竣工联合验收的办理流程。",
    ],
    "政府采购投诉": ["投诉某采购项目评分标准有倾向性。", "反映政府采购合同款项迟迟未支付。"],
    "招投标投诉": ["投诉某招标项目设置不合理门槛限制外地企业。", "反映招投标保证金长期未退还。"],
    "停电报修": ["反映小区突然停电，请求尽快抢修。", "反映厂区线路故障停电影响生产。"],
    "供电服务": ["反映用电报装等待时间过长。", "咨询企业电费账单有疑问如何核对。"],
    "供水问题": ["反映小区自来水水压不足。", "反映水管破裂漏水多日无人维修。"],
    "燃气问题": ["咨询燃气开户需要哪些材料。", "反映燃气表计量异常，费用偏高。"],
    "不动产登记": ["咨询二手房过户办理流程和时间。", "反映不动产证办理时间超过承诺时限。"],
    "融资贷款": ["咨询小微企业贴息贷款申请条件。", "反映银行放贷审批过慢影响资金周转。"],
    "知识产权侵权": ["反映有商家假冒本企业注册商标。", "咨询专利侵权如何投诉处理。"],
    "通关物流": ["咨询出口货物报关所需时间。", "反映物流园区车辆通行受限。"],
    "税费办理": ["咨询增值税专用发票领用流程。", "反映电子税务局申报系统无法登录。"],
    "合同纠纷": ["反映与供应商合同纠纷，咨询调解渠道。", "反映对方企业拖欠货款不履行合同。"],
    "市场秩序": ["举报商户哄抬物价。", "反映某商场存在虚假宣传。"],
    "食品安全": ["反映在某餐馆就餐后身体不适，怀疑食品变质。", "举报某超市销售过期食品。"],
    "消费维权": ["反映预付卡商家关门无法退款。", "投诉网购商品质量问题商家拒绝退货。"],
    "政务服务态度": ["反映政务大厅窗口工作人员态度生硬。", "表扬某窗口工作人员耐心细致。"],
    "办事效率": ["反映审批事项办理时间过长。", "反映同一事项需要多次跑窗口提交材料。"],
    "惠企政策兑现": ["咨询稳岗补贴何时发放。", "反映惠企奖励资金申报后迟迟未兑现。"],
    "城市管理": ["反映路边占道经营影响通行。", "反映夜间施工噪音扰民。"],
    "交通出行": ["建议增加公交班次。", "反映路口信号灯配时不合理。"],
    "环境保护": ["反映企业排放异味影响居民生活。", "举报河道有污水直排。"],
}
_GENERIC = ["反映相关问题，希望尽快处理。", "咨询相关政策，请给予答复。"]


def _pick(rng: np.random.Generator, pool: list[str], n: int) -> pa.Array:
    return pa.array(np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)], pa.string())


def names(rng: np.random.Generator, n: int) -> pa.Array:
    """诉求人: surname + one or two given characters."""
    s, g1, g2 = _pick(rng, _SURNAMES, n), _pick(rng, _GIVEN, n), _pick(rng, _GIVEN, n)
    g2 = pc.if_else(pa.array(rng.random(n) < 0.7), g2, "")
    return pc.binary_join_element_wise(s, g1, g2, "")


def phone_numbers(idx: np.ndarray, seed: int) -> pa.Array:
    """11-digit mobile numbers, one per caller index (a caller keeps the number across tickets)."""
    prefixes = np.array(
        [
            130,
            131,
            133,
            135,
            136,
            137,
            138,
            139,
            150,
            151,
            152,
            155,
            157,
            158,
            159,
            166,
            177,
            180,
            181,
            187,
            188,
            189,
            198,
            199,
        ],
        dtype=np.int64,
    )
    mixed = (idx.astype(np.int64) * 2654435761 + seed * 97) % 100_000_000
    nums = prefixes[(idx * 7 + seed) % len(prefixes)] * 100_000_000 + mixed
    return pc.cast(pa.array(nums), pa.string())


def id_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """18-digit 身份证号 with a valid ISO 7064 MOD 11-2 check digit (so a loader cannot tell them apart)."""
    region = 330800 + rng.choice([2, 3, 22, 24, 25, 81], n)
    birth = (np.datetime64("1960-01-01") + rng.integers(0, 40 * 365, n)).astype("datetime64[D]")
    month = birth.astype("datetime64[M]")
    ymd_int = (
        (birth.astype("datetime64[Y]").astype(np.int64) + 1970) * 10000
        + (month.astype(np.int64) % 12 + 1) * 100
        + (birth - month.astype("datetime64[D]")).astype(np.int64)
        + 1
    )
    seq = rng.integers(0, 1000, n)
    body = region * 10**11 + ymd_int * 1000 + seq  # 17 digits
    digits = (body[:, None] // (10 ** np.arange(16, -1, -1))[None, :]) % 10
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = np.asarray(list("10X98765432"), dtype=object)[(digits * weights).sum(axis=1) % 11]
    return pc.binary_join_element_wise(
        pc.cast(pa.array(body), pa.string()), pa.array(check, pa.string()), ""
    )


_OPENINGS_PERSON = ["来电人称，", "市民来电反映：", "来电人表示，", "市民通过热线反映，"]
_OPENINGS_FIRM = ["企业负责人来电反映：", "某公司工作人员来电称，", "企业来电表示，"]


def contents(
    rng: np.random.Generator,
    topics: np.ndarray,
    phones: pa.Array,
    enterprise: np.ndarray | None = None,
    pii_phone: float = 0.12,
    pii_id: float = 0.03,
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """诉求内容 for each topic; returns (text, has_phone, has_id)."""
    n = len(topics)
    firm = np.zeros(n, dtype=bool) if enterprise is None else enterprise
    opening = pc.if_else(
        pa.array(firm), _pick(rng, _OPENINGS_FIRM, n), _pick(rng, _OPENINGS_PERSON, n)
    )
    uniq, inv = np.unique(topics, return_inverse=True)
    variant = rng.integers(0, 2, n)
    table = np.array([_SENTENCES.get(t, _GENERIC) for t in uniq], dtype=object)  # [topic, 2]
    sentence = pa.array(table[inv, variant], pa.string()) if n else pa.array([], pa.string())
    place = _pick(rng, _PLACES, n)
    has_phone = rng.random(n) < pii_phone
    has_id = rng.random(n) < pii_id
    phone_part = pc.if_else(
        pa.array(has_phone), pc.binary_join_element_wise("联系电话", phones, "。", ""), ""
    )
    id_part = pc.if_else(
        pa.array(has_id),
        pc.binary_join_element_wise("本人身份证号", id_numbers(rng, n), "。", ""),
        "",
    )
    text = pc.binary_join_element_wise(opening, place, sentence, phone_part, id_part, "")
    return text, has_phone, has_id
