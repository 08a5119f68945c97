#!/usr/bin/env python3
"""Seeded generator of the monthly user-detail export ("用户明细") of a car-owner app.

The ops team of a car-owner app (the case of tagger's car_app preset) receives, at the end of
every month, one export with a row per registered user. This script simulates one
user population over ~3 years of history plus the requested months and writes the
export of each requested month exactly as the data team would pull it at month end.

Usage::

    python samples/make_samples.py          # regenerate the shipped files in samples/
    python samples/make_samples.py --users 100000 --months 2024-05:2024-07 --out DIR [--seed 7] [--csv]

As a module (import it by path; it has no package-relative imports)::

    frames = simulate(2000, ["2024-05", "2024-06", "2024-07"], seed=7)
    write_xlsx(frames["2024-07"], "x.xlsx", title="2024年7月用户明细")
    write_csv(frames["2024-07"], "x.csv")

The model (all numbers live in :data:`PARAMS`):

* Registrations: one curve ``exp(growth * t) * season`` over ``history_months`` months
  before the first requested month and the requested months themselves, drawn with a
  multinomial so the last month's export has exactly ``n_users`` rows (about 3 % of the
  base registers in each simulated month).
* Activity is a monthly Markov chain on "months since the last active month" with a
  per-user latent propensity (a logit offset) and a month-of-year effect. The
  registration month always counts as active (新用户 = 当月新增注册登录用户).
* Feature usage: each user has a preference profile (控车/内容/社区/售后/活动 heavy or
  balanced) and a usage intensity; every active month draws usage counts; the export
  sums the last three calendar months (M-2..M).
* Slowly-changing fields (最近一次APP登陆页面, 最近一次控车使用功能, 最近一次购物商品)
  change only in months the user is active, so months agree with one another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from pathlib import Path

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

__all__ = [
    "COLUMNS",
    "PREV_ACTIVE",
    "PARAMS",
    "Params",
    "simulate",
    "simulate_with_truth",
    "write_xlsx",
    "write_csv",
    "month_range",
    "monthly_stats",
    "main",
]

# --------------------------------------------------------------------------- columns

ID = "用户ID"
KEY = "用户唯一标识码"
NICK = "昵称"
REGISTERED = "注册时间"
LAST_ACTIVE = "最近一次活跃时间"
PREV_ACTIVE = "上次活跃时间"
DROVE = "是否开车"
LAST_PAGE = "最近一次APP登陆页面"
TOP_FEATURE = "近三个月使用最多的功能"
LAST_CONTROL = "最近一次控车使用功能"
LAST_PRODUCT = "最近一次购物商品"
CAMPAIGNS_3M = "近三个月参与活动次数"
FEATURE_COUNT_COLUMNS = ("控车次数", "内容次数", "社区次数", "售后次数", "活动次数")

#: Every column of an export, in order. ``上次活跃时间`` is optional (see ``include_prev_active``).
COLUMNS: tuple[str, ...] = (
    ID, KEY, NICK, REGISTERED, LAST_ACTIVE, PREV_ACTIVE, DROVE, LAST_PAGE, TOP_FEATURE,
    LAST_CONTROL, LAST_PRODUCT, CAMPAIGNS_3M, *FEATURE_COUNT_COLUMNS,
)
TEXT_COLUMNS = (ID, KEY, NICK, DROVE, LAST_PAGE, TOP_FEATURE, LAST_CONTROL, LAST_PRODUCT)
DATE_COLUMNS = (REGISTERED, LAST_ACTIVE, PREV_ACTIVE)
INT_COLUMNS = (CAMPAIGNS_3M, *FEATURE_COUNT_COLUMNS)

SHEET_NAME = "用户明细"
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"

# ------------------------------------------------------------------------ vocabularies

#: Feature groups, in the order of FEATURE_COUNT_COLUMNS, and the name each has in 近三个月使用最多的功能.
TOP_FEATURE_NAMES = ("远程控车", "用车知识", "社区", "售后预约", "活动")
#: Landing pages: fixed pages, then one per feature group (same order as the features).
PAGES_FIXED = ("首页", "我的", "商城")
PAGES_FEATURE = ("控车", "用车知识", "社区", "售后服务", "活动页")
CONTROL_FUNCTIONS = ("远程启动", "空调预热", "车门解锁", "寻车", "车窗控制")
PRODUCTS = (
    "车载香薰", "洗车券", "机油保养套餐", "行车记录仪", "车载手机支架", "品牌车模", "雨刮器",
    "全包围脚垫", "车载吸尘器", "轮胎充气泵", "遮阳挡", "儿童安全座椅", "充电桩安装服务", "玻璃水",
    "品牌保温杯", "定制钥匙扣",
)
PRODUCT_WEIGHTS = (8, 14, 10, 4, 7, 3, 6, 5, 4, 3, 5, 2, 2, 12, 3, 4)

#: Preference profiles: name, share of users, weights over (控车, 内容, 社区, 售后, 活动).
PROFILES = (
    ("控车型", 0.48, (0.76, 0.07, 0.06, 0.04, 0.07)),
    ("内容型", 0.12, (0.26, 0.52, 0.10, 0.04, 0.08)),
    ("社区型", 0.10, (0.26, 0.12, 0.50, 0.04, 0.08)),
    ("活动型", 0.12, (0.25, 0.06, 0.08, 0.03, 0.58)),
    ("售后型", 0.06, (0.40, 0.08, 0.05, 0.40, 0.07)),
    ("均衡型", 0.12, (0.30, 0.20, 0.20, 0.10, 0.20)),
)
ACTIVITY_PROFILE = 3  # index of 活动型 in PROFILES

HOUR_WEIGHTS = np.array([
    0.5, 0.3, 0.2, 0.15, 0.15, 0.3, 1.0, 2.5, 3.0, 2.0, 1.6, 1.6,
    2.2, 1.8, 1.5, 1.5, 1.7, 2.5, 3.0, 3.2, 3.0, 2.6, 1.8, 1.0,
])


# ---------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Params:
    """Every number of the population model (probabilities are for an average user)."""

    history_months: int = 36          # months of registrations before the first simulated month
    growth: float = 0.01              # monthly growth of registrations (≈3 % of the base per month)
    propensity_sd: float = 0.9        # sd of the per-user logit offset on every activity probability
    p_new_retained: float = 0.92      # new user (registered last month) active again this month
    p_retained: float = 0.88          # old user active last month, active again
    p_woken: float = 0.89             # inactive exactly 1 month (休眠), active again
    p_returned: float = 0.22          # inactive exactly 2 months (流失), active again
    return_decay: float = 0.12        # logit drop per extra inactive month beyond 2
    return_propensity_scale: float = 0.5  # the latent propensity matters less once a user has churned
    p_return_floor: float = 0.04      # lowest come-back probability of a long-churned user
    drive_return_boost: float = 0.35  # logit shift of coming back for churned users still driving
    no_drive_return_drop: float = 0.55  # logit drop of coming back for churned users not driving
    campaign_boost: float = 0.5       # logit shift for 活动型 users in campaign months
    no_campaign_drop: float = 0.3     # logit drop for 活动型 users in other months
    p_register_only: float = 0.3      # new user whose only action in the month was registering
    p_drove_active: float = 0.93      # 是否开车=是 among users active this month
    p_drove_dormant: float = 0.80     # ... among users inactive this month, active last month
    churned_driver_cut: float = 0.71  # drive_u below this = a churned (≥2 months inactive) user who still drives.
                                      # Above the seed's 60 % because drivers come back more often, which thins
                                      # them out of the churned pool: the exports show ≈60 % 是 among churned users
    usage_median: float = 5.0         # median feature uses per active month
    usage_sd: float = 0.7             # sd of log usage intensity across users
    profile_concentration: float = 25.0  # Dirichlet concentration of a user's weights around the profile
    shopper_a: float = 0.5            # Beta(a, b) of the per-active-month purchase probability
    shopper_b: float = 18.0
    n_formula_nicknames: int = 3      # nicknames such as "=1+1" (must stay text)
    sentinel_nickname_share: float = 0.001  # nicknames such as "NA", "null" (at least 4 users)


PARAMS = Params()

#: Month-of-year logit shift of activity: 春节, 五一, summer trips and 国庆 help a little.
SEASON = {1: 0.05, 2: 0.15, 3: 0.0, 4: 0.0, 5: 0.12, 6: 0.0, 7: 0.06, 8: 0.06, 9: 0.0, 10: 0.15, 11: 0.0, 12: 0.0}
#: Months with a big campaign (春节, 五一, 618, 国庆, 双11): 活动型 users wake up, participation is higher.
CAMPAIGN_MONTHS = frozenset({2, 5, 6, 10, 11})
#: Month-of-year factor on registrations (new-car deliveries peak before 春节 and in autumn).
REGISTRATION_SEASON = {1: 1.1, 2: 0.8, 3: 1.0, 4: 0.95, 5: 1.0, 6: 1.05, 7: 0.95, 8: 0.95, 9: 1.05, 10: 1.05,
                       11: 1.1, 12: 1.15}


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def month_range(spec: str) -> list[str]:
    """``"2024-05:2024-07"`` -> ``["2024-05", "2024-06", "2024-07"]``; ``"2024-05,2024-07"`` -> both."""
    months: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            start, end = (pd.Period(x.strip(), freq="M") for x in part.split(":", 1))
            if end < start:
                raise ValueError(f"month range {part!r} ends before it starts")
            months.extend(str(p) for p in pd.period_range(start, end, freq="M"))
        else:
            months.append(str(pd.Period(part, freq="M")))
    return months


@dataclass
class _Population:
    """Static attributes of all users, ordered by registration time (and so by 用户ID)."""

    n: int
    reg_month: np.ndarray      # timeline index of the registration month
    reg_ts: np.ndarray         # registration time, seconds since 1970 (naive Beijing time)
    ids: np.ndarray            # object array of 18-digit strings
    keys: np.ndarray           # object array of uuid-like strings
    nicknames: np.ndarray      # object array
    propensity: np.ndarray     # logit offset
    profile: np.ndarray        # index into PROFILES
    weights: np.ndarray        # (n, 5) feature weights
    intensity: np.ndarray      # mean feature uses per active month
    shop_p: np.ndarray         # purchase probability per active month
    drive_u: np.ndarray        # uniform: 是否开车 = 是 when drive_u < p(state)


def _month_bounds(timeline: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray]:
    starts = timeline.to_timestamp(how="start").values.astype("datetime64[s]").astype(np.int64)
    ends = (timeline + 1).to_timestamp(how="start").values.astype("datetime64[s]").astype(np.int64)
    return starts, ends


def _random_times(rng: np.random.Generator, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Random datetimes (seconds) in [start, start+length): uniform day, app-like hour of day."""
    n = len(start)
    days = (length // 86400).astype(np.int64)
    day = np.floor(rng.random(n) * days).astype(np.int64)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    sec = rng.integers(0, 3600, size=n)
    return start + day * 86400 + hour * 3600 + sec


def _uuid_like(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    out = np.empty(n, dtype=object)
    for i, row in enumerate(raw):
        h = row.tobytes().hex()
        out[i] = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return out


def _user_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique 18-digit IDs starting with "1", ascending (snowflake-like: later users get larger IDs)."""
    lo, hi = 10**17, 2 * 10**17
    ids = np.unique(rng.integers(lo, hi, size=n + n // 100 + 16, dtype=np.int64))
    while len(ids) < n:  # practically never
        ids = np.unique(np.concatenate([ids, rng.integers(lo, hi, size=n, dtype=np.int64)]))
    ids = np.sort(rng.choice(ids, size=n, replace=False))
    return np.array([str(int(x)) for x in ids], dtype=object)


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华玲红梅飞鹏辉斌宇浩凯健俊帆琳晨阳欣怡婷雪晴峰波宁"
_TITLES = ("先生", "女士", "师傅", "总", "哥", "姐", "老师", "工")
_ADJ = ("快乐的", "安静的", "奔跑的", "迷路的", "会飞的", "爱笑的", "孤独的", "勇敢的", "温柔的", "努力的", "认真的",
        "佛系", "暴躁的", "慢吞吞的")
_NOUNS = ("小鱼", "蜗牛", "兔子", "猫咪", "大叔", "少年", "风", "云朵", "星星", "月亮", "土豆", "西瓜", "橙子",
          "老司机", "骑士", "仙人掌", "熊猫")
_PHRASES = (
    "一路向北", "风轻云淡", "岁月静好", "追风少年", "半糖主义", "锦鲤附体", "平安喜乐", "知足常乐", "随遇而安",
    "心如止水", "阳光总在风雨后", "且听风吟", "人间值得", "早睡早起", "周末去露营", "自驾游爱好者", "奶爸一枚",
    "二胎宝妈", "打工人", "干饭人", "说走就走", "在路上", "山海有归期", "开心,就好", "Tom \"大魔王\"",
)
_CAR_PHRASES = ("新能源车主", "SUV车主", "老司机带带我", "爱车如命", "洗车狂魔", "自驾川藏线", "通勤小能手", "露营车队",
                "充电桩守望者")
_ENGLISH = ("Jason", "Lucy", "Tony", "Kevin", "Amy", "Coco", "Leo", "Sunny", "Alex", "Mia", "Jack", "Vivian", "Eric",
            "Cindy")
_EMOJI = ("🚗", "🌸", "🍀", "☀️", "😊", "🐟", "🌙", "🔥", "🎈", "🐱", "⭐", "🌈", "🚙", "⚡")
_SENTINELS = ("NA", "null", "None", "N/A", "NULL", "nan")
_FORMULA_LIKE = ("=1+1", "+86车友", "=SUM(1,2)", "+1+1", "=A1")


def _english_nickname(x: int, y: int, d: int) -> str:
    e = _ENGLISH[x % len(_ENGLISH)]
    return (e + str(d % 100)) if y % 3 == 0 else (e + _SURNAMES[y % len(_SURNAMES)] if y % 3 == 1 else e)


#: One nickname style per kind, each from three random integers (x, y and four digits d).
_NICKNAME_STYLES: tuple[Callable[[int, int, int], str], ...] = (
    lambda x, y, d: f"用户1{3 + x % 7}{y % 10}****{d:04d}",  # the app's default nickname: masked phone number
    lambda x, y, d: f"车友{d:04d}" if x % 2 else f"车主_{x % 36**6:06x}",
    lambda x, y, d: _SURNAMES[x % len(_SURNAMES)] + _TITLES[y % len(_TITLES)],
    lambda x, y, d: ("阿" if x % 2 else "小") + _GIVEN[y % len(_GIVEN)],
    lambda x, y, d: (_SURNAMES[x % len(_SURNAMES)] + _GIVEN[y % len(_GIVEN)]
                     + (_GIVEN[(y >> 8) % len(_GIVEN)] if x % 3 else "")),
    lambda x, y, d: _ADJ[x % len(_ADJ)] + _NOUNS[y % len(_NOUNS)],
    lambda x, y, d: _PHRASES[x % len(_PHRASES)],
    _english_nickname,
    lambda x, y, d: _CAR_PHRASES[x % len(_CAR_PHRASES)],
    lambda x, y, d: _SURNAMES[x % len(_SURNAMES)] + "小" + _GIVEN[y % len(_GIVEN)] + "爱开车",
)
_NICKNAME_SHARES = [0.17, 0.07, 0.14, 0.10, 0.08, 0.12, 0.13, 0.08, 0.06, 0.05]  # of each style, in order


def _with_emoji(name: str, draw: float, x: int, y: int) -> str:
    """About 4 % of nicknames start with an emoji and 4 % end with one."""
    if draw < 0.04:
        return _EMOJI[y % len(_EMOJI)] + name
    if draw < 0.08:
        return name + _EMOJI[x % len(_EMOJI)]
    return name


def _nicknames(rng: np.random.Generator, n: int, eligible: int, params: Params) -> np.ndarray:
    """Realistic nicknames; a few sentinel-like and formula-like ones among the first ``eligible`` users."""
    kinds = rng.choice(len(_NICKNAME_STYLES), size=n, p=_NICKNAME_SHARES)
    a = rng.integers(0, 1 << 30, size=n)
    b = rng.integers(0, 1 << 30, size=n)
    digits = rng.integers(0, 10_000, size=n)
    emoji = rng.random(n)
    out = np.empty(n, dtype=object)
    for i in range(n):
        x, y = int(a[i]), int(b[i])
        out[i] = _with_emoji(_NICKNAME_STYLES[kinds[i]](x, y, int(digits[i])), emoji[i], x, y)
    # user data that must stay text: sentinel-like and formula-like nicknames, on users present in every export
    n_sent = min(eligible, max(4, int(round(n * params.sentinel_nickname_share))))
    n_form = min(eligible, params.n_formula_nicknames)
    chosen = rng.choice(eligible, size=min(eligible, n_sent + n_form), replace=False)
    for j, idx in enumerate(chosen[:n_form]):
        out[idx] = _FORMULA_LIKE[j % len(_FORMULA_LIKE)]
    for j, idx in enumerate(chosen[n_form:]):
        out[idx] = _SENTINELS[j % len(_SENTINELS)]
    return out


def _population(rng: np.random.Generator, n_users: int, timeline: pd.PeriodIndex, first_export: int,
                params: Params) -> _Population:
    T = len(timeline)
    t = np.arange(T)
    season = np.array([REGISTRATION_SEASON[p.month] for p in timeline])
    w = np.exp(params.growth * t) * season
    counts = rng.multinomial(n_users, w / w.sum())
    reg_month = np.repeat(t, counts)
    starts, ends = _month_bounds(timeline)
    reg_ts = _random_times(rng, starts[reg_month], (ends - starts)[reg_month])
    order = np.argsort(reg_ts, kind="stable")
    reg_ts, reg_month = reg_ts[order], reg_month[order]

    ids = _user_ids(rng, n_users)
    keys = _uuid_like(rng, n_users)
    eligible = int(np.searchsorted(reg_month, first_export))  # registered before the first export month
    nicknames = _nicknames(rng, n_users, max(eligible, min(n_users, 1)), params)

    propensity = rng.normal(0.0, params.propensity_sd, size=n_users)
    shares = np.array([p[1] for p in PROFILES])
    profile = rng.choice(len(PROFILES), size=n_users, p=shares / shares.sum())
    base_w = np.array([p[2] for p in PROFILES])[profile] * params.profile_concentration
    g = rng.gamma(base_w)  # Dirichlet, one row per user
    weights = g / g.sum(axis=1, keepdims=True)
    # more engaged users also use the app more often while active
    intensity = params.usage_median * np.exp(rng.normal(0.0, params.usage_sd, size=n_users) + 0.25 * propensity)
    shop_p = rng.beta(params.shopper_a, params.shopper_b, size=n_users)
    drive_u = rng.random(n_users)
    return _Population(n_users, reg_month, reg_ts, ids, keys, nicknames, propensity, profile, weights,
                       intensity, shop_p, drive_u)


def _multinomial_rows(rng: np.random.Generator, totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Vectorised multinomial with a probability row per draw (sequential binomials)."""
    out = np.zeros(weights.shape, dtype=np.int64)
    remaining = totals.astype(np.int64)
    rest = np.ones(len(totals))
    for f in range(weights.shape[1] - 1):
        p = np.clip(weights[:, f] / np.maximum(rest, 1e-12), 0.0, 1.0)
        out[:, f] = rng.binomial(remaining, p)
        remaining = remaining - out[:, f]
        rest = rest - weights[:, f]
    out[:, -1] = remaining
    return out


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _to_datetime(seconds: np.ndarray) -> np.ndarray:
    """Seconds since 1970 (-1 = missing) to datetime64[ns] with NaT."""
    out = seconds.astype("datetime64[s]").astype("datetime64[ns]")
    out[seconds < 0] = np.datetime64("NaT")
    return out


def simulate_with_truth(n_users: int, months: list[str], seed: int = 7, include_prev_active: bool = True,
                        params: Params = PARAMS) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Like :func:`simulate`, plus the hidden truth of each month for tests.

    The truth frame of month M is row-aligned with its export and has columns
    ``用户ID``, ``profile`` (preference profile name), ``active`` (logged in during M),
    ``new`` (registered in M), ``months_inactive_before`` (full calendar months without
    activity right before M; -1 for users registered in M) and ``drove``.
    """
    if n_users < 1:
        raise ValueError("n_users must be at least 1")
    wanted = sorted({str(pd.Period(m, freq="M")) for m in months})
    if not wanted:
        raise ValueError("give at least one month")
    periods = pd.PeriodIndex(wanted, freq="M")
    first, last = periods[0], periods[-1]
    timeline = pd.period_range(first - params.history_months, last, freq="M")
    T = len(timeline)
    first_export = T - 1 - (last - first).n
    export_at = {int(timeline.get_loc(p)): str(p) for p in periods}
    count_from = max(0, min(export_at) - 2)

    rng = np.random.default_rng(seed)
    pop = _population(rng, n_users, timeline, first_export, params)
    starts, ends = _month_bounds(timeline)
    n = pop.n
    n_registered = np.searchsorted(pop.reg_month, np.arange(T), side="right")

    last_ts = np.full(n, -1, dtype=np.int64)
    last_month = np.full(n, -1, dtype=np.int64)
    page = np.full(n, -1, dtype=np.int64)
    control = np.full(n, -1, dtype=np.int64)
    product = np.full(n, -1, dtype=np.int64)
    window: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=3)  # (uses (n,5), campaigns (n,)) per month

    lg_new, lg_keep, lg_wake = _logit(params.p_new_retained), _logit(params.p_retained), _logit(params.p_woken)
    lg_ret, lg_floor = _logit(params.p_returned), _logit(params.p_return_floor)
    drives_when_churned = pop.drive_u < params.churned_driver_cut
    is_activity_type = pop.profile == ACTIVITY_PROFILE
    page_probs = np.hstack([np.tile([0.30, 0.06, 0.06], (n, 1)), 0.58 * pop.weights])

    frames: dict[str, pd.DataFrame] = {}
    truth: dict[str, pd.DataFrame] = {}
    for ti in range(T):
        m = timeline[ti]
        k = int(n_registered[ti])
        is_new = pop.reg_month[:k] == ti
        old = ~is_new
        gap = ti - last_month[:k] - 1  # full months without activity before this one (old users)
        campaign = m.month in CAMPAIGN_MONTHS

        # --- who is active this month
        x = np.where(gap <= 0, lg_keep, np.where(gap == 1, lg_wake,
                     np.maximum(lg_ret - params.return_decay * (gap - 2), lg_floor)))
        x = np.where(pop.reg_month[:k] == ti - 1, lg_new, x)
        churned = gap >= 2
        x = x + np.where(churned & drives_when_churned[:k], params.drive_return_boost, 0.0)
        x = x - np.where(churned & ~drives_when_churned[:k], params.no_drive_return_drop, 0.0)
        x = x + pop.propensity[:k] * np.where(churned, params.return_propensity_scale, 1.0) + SEASON[m.month]
        x = x + np.where(is_activity_type[:k], params.campaign_boost if campaign else -params.no_campaign_drop, 0.0)
        active = is_new | (old & (rng.random(k) < _sigmoid(x)))

        prev_ts = last_ts[:k].copy()
        gap_before = np.where(is_new, -1, gap)

        # --- when: a random moment of the month (new users: between registering and month end)
        idx = np.flatnonzero(active)
        ts = _random_times(rng, np.full(len(idx), starts[ti]), np.full(len(idx), ends[ti] - starts[ti]))
        new_idx = np.flatnonzero(is_new)
        reg = pop.reg_ts[new_idx]
        later = reg + np.floor(rng.random(len(new_idx)) * (ends[ti] - reg)).astype(np.int64)
        register_only = rng.random(len(new_idx)) < params.p_register_only
        pos = np.searchsorted(idx, new_idx)
        ts[pos] = np.where(register_only, reg, later)
        last_ts[idx] = ts
        last_month[idx] = ti

        # --- what: feature uses, landing page, control function, purchases
        if ti >= count_from:
            lam = pop.intensity[idx]
            total = rng.poisson(lam)
            total = np.where(_register_only_mask(idx, new_idx, register_only), total, total + 1)
            uses_active = _multinomial_rows(rng, total, pop.weights[idx])
            joined_active = rng.binomial(uses_active[:, 4], 0.55 if campaign else 0.3)
            uses = np.zeros((n, 5), dtype=np.int64)
            joined = np.zeros(n, dtype=np.int64)
            uses[idx] = uses_active
            joined[idx] = joined_active
            window.append((uses, joined))
            used_control = uses_active[:, 0] > 0
        else:
            used_control = rng.random(len(idx)) < 1.0 - np.exp(-pop.intensity[idx] * pop.weights[idx, 0])
        page[idx] = _pick(rng, page_probs[idx])
        ctrl_w = np.array([3.0, 1.0, 2.5, 1.2, 0.8])
        if m.month in (6, 7, 8, 12, 1, 2):
            ctrl_w = ctrl_w * np.array([1.6, 3.5, 1.0, 1.0, 1.0 if m.month < 6 or m.month == 12 else 1.5])
        cidx = idx[used_control]
        control[cidx] = rng.choice(len(CONTROL_FUNCTIONS), size=len(cidx), p=ctrl_w / ctrl_w.sum())
        bought = idx[rng.random(len(idx)) < pop.shop_p[idx]]
        pw = np.array(PRODUCT_WEIGHTS, dtype=float)
        product[bought] = rng.choice(len(PRODUCTS), size=len(bought), p=pw / pw.sum())

        if ti not in export_at:
            continue

        # --- the export pulled at the end of this month
        uses3 = sum(w[0][:k] for w in window)
        joined3 = sum(w[1][:k] for w in window)
        dormant = ~active & (last_month[:k] == ti - 1)
        p_drove = np.where(active, params.p_drove_active,
                           np.where(dormant, params.p_drove_dormant, params.churned_driver_cut))
        drove = pop.drive_u[:k] < p_drove
        has_use = uses3.sum(axis=1) > 0
        top = np.where(has_use, np.argmax(uses3, axis=1), -1)

        data: dict[str, object] = {
            ID: _text(pop.ids[:k]),
            KEY: _text(pop.keys[:k]),
            NICK: _text(pop.nicknames[:k]),
            REGISTERED: _to_datetime(pop.reg_ts[:k]),
            LAST_ACTIVE: _to_datetime(last_ts[:k]),
        }
        if include_prev_active:
            data[PREV_ACTIVE] = _to_datetime(np.where(is_new, -1, prev_ts))
        data[DROVE] = np.where(drove, "是", "否").astype(object)
        data[LAST_PAGE] = _text(_labels(page[:k], PAGES_FIXED + PAGES_FEATURE))
        data[TOP_FEATURE] = _text(_labels(top, TOP_FEATURE_NAMES))
        data[LAST_CONTROL] = _text(_labels(control[:k], CONTROL_FUNCTIONS))
        data[LAST_PRODUCT] = _text(_labels(product[:k], PRODUCTS))
        data[CAMPAIGNS_3M] = joined3.astype(np.int64)
        for f, col in enumerate(FEATURE_COUNT_COLUMNS):
            data[col] = uses3[:, f].astype(np.int64)
        label = export_at[ti]
        frames[label] = pd.DataFrame(data)
        truth[label] = pd.DataFrame({
            ID: _text(pop.ids[:k]),
            "profile": _text(np.array([p[0] for p in PROFILES], dtype=object)[pop.profile[:k]]),
            "active": active,
            "new": is_new,
            "months_inactive_before": gap_before.astype(np.int64),
            "drove": drove,
        })
    return frames, truth


def _register_only_mask(idx: np.ndarray, new_idx: np.ndarray, register_only: np.ndarray) -> np.ndarray:
    """True for active users that did more than register (False only for register-only new users)."""
    mask = np.ones(len(idx), dtype=bool)
    mask[np.searchsorted(idx, new_idx[register_only])] = False
    return mask


def _text(values: np.ndarray) -> np.ndarray:
    """Object array of str: pandas 3 stores it as its ``str`` dtype, pandas 2 as object."""
    return np.asarray(values, dtype=object)


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    table = np.array(("",) + tuple(names), dtype=object)
    return table[codes + 1]


def simulate(n_users: int, months: list[str], seed: int = 7, include_prev_active: bool = True,
             params: Params = PARAMS) -> dict[str, pd.DataFrame]:
    """One export DataFrame per month ``"YYYY-MM"``, as pulled at the end of that month.

    ``n_users`` is the number of users registered by the end of the last month, i.e.
    the row count of the last export (earlier months have a few % fewer rows).
    IDs and text are ``str`` (blank text is ``""``), dates ``datetime64[ns]`` (a blank
    ``上次活跃时间`` is ``NaT``), counts ``int64``. ``include_prev_active=False`` drops
    the ``上次活跃时间`` column. The same arguments always give the same frames.
    """
    frames, _ = simulate_with_truth(n_users, months, seed=seed, include_prev_active=include_prev_active,
                                    params=params)
    return frames


# ---------------------------------------------------------------------------- writers

_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")


def _excel_serials(values: pd.Series) -> list[float | None]:
    arr = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[s]")
    secs = (arr - _EXCEL_EPOCH).astype(np.int64)
    serial = secs / 86400.0
    return [None if bad else float(s) for s, bad in zip(serial, np.isnat(arr), strict=True)]


def _blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def write_xlsx(frame: pd.DataFrame, path: str | Path, title: str | None = None) -> None:
    """Write one export like a BI tool: sheet "用户明细", header in row 1 (row 2 under a merged title).

    IDs and all text go through ``write_string`` (formula-like nicknames stay text),
    dates are numbers with the format ``yyyy-mm-dd hh:mm:ss``, counts are numbers.
    The file is deterministic: same frame, same bytes.
    """
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "constant_memory": True})
    try:
        wb.set_properties({"created": dt.datetime(2024, 1, 1), "author": "数据部"})
        ws = wb.add_worksheet(SHEET_NAME)
        head_fmt = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        text_fmt = wb.add_format({"num_format": "@"})
        date_fmt = wb.add_format({"num_format": DATE_FORMAT})
        columns = list(frame.columns)
        for c, name in enumerate(columns):
            fmt = text_fmt if name in (ID, KEY) else (date_fmt if name in DATE_COLUMNS else None)
            ws.set_column(c, c, _WIDTHS.get(name, 10), fmt)
        row = _write_header(ws, columns, title, title_fmt, head_fmt)
        text_columns = {c for c, name in enumerate(columns) if name in (ID, KEY)}
        prepared = [_prepared_column(frame[name], name) for name in columns]
        kinds = [p[0] for p in prepared]
        for values in zip(*(p[1] for p in prepared), strict=True):
            for c, (kind, v) in enumerate(zip(kinds, values, strict=True)):
                fmt = date_fmt if kind == "date" else (text_fmt if kind == "text" and c in text_columns else None)
                rc = _write_cell(ws, row, c, kind, v, fmt)
                if rc < 0:
                    raise ValueError(f"{path}: write_string failed ({rc}) at row {row + 1}, column {columns[c]}")
            row += 1
    finally:
        wb.close()


_WIDTHS = {ID: 21, KEY: 38, NICK: 18, REGISTERED: 20, LAST_ACTIVE: 20, PREV_ACTIVE: 20,
           LAST_PAGE: 12, TOP_FEATURE: 14, LAST_CONTROL: 12, LAST_PRODUCT: 14, CAMPAIGNS_3M: 10}


def _write_header(ws: Worksheet, columns: list[str], title: str | None, title_fmt: Format, head_fmt: Format) -> int:
    """The optional merged title row and the header row; returns the first data row."""
    row = 0
    if title is not None:
        if len(columns) > 1:
            ws.merge_range(0, 0, 0, len(columns) - 1, title, title_fmt)
        else:
            ws.write_string(0, 0, title, title_fmt)
        ws.set_row(0, 24)
        row = 1
    for c, name in enumerate(columns):
        ws.write_string(row, c, str(name), head_fmt)
    return row + 1


def _prepared_column(s: pd.Series, name: str) -> tuple[str, list[Any]]:
    """A column's kind (date, number or text) and its values as the writer takes them (blank: None or "")."""
    if name in DATE_COLUMNS or pd.api.types.is_datetime64_any_dtype(s):
        return "date", _excel_serials(s)
    if pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s):
        return "number", [None if _blank(v) else v for v in s.tolist()]
    return "text", ["" if _blank(v) else str(v) for v in s.tolist()]


def _write_cell(ws: Worksheet, row: int, c: int, kind: str, v: Any, fmt: Format | None) -> int:
    """One cell, blanks left unwritten; for text, xlsxwriter's return code (negative: the string was refused)."""
    if kind == "text":
        return ws.write_string(row, c, v, fmt) if v != "" else 0
    if v is not None:
        ws.write_number(row, c, v, fmt)
    return 0


def write_csv(frame: pd.DataFrame, path: str | Path, encoding: str = "utf-8-sig") -> None:
    """Write one export as CSV (UTF-8 with BOM by default, dates ``YYYY-MM-DD HH:MM:SS``, blanks empty)."""
    frame.to_csv(path, index=False, encoding=encoding, date_format="%Y-%m-%d %H:%M:%S", lineterminator="\n")


# ----------------------------------------------------------------------------- checks


def monthly_stats(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-month counts and the seed's four rates, computed from the exports alone.

    ``registered`` rows, ``new`` registered in M, ``active`` last active in M,
    ``active_rate`` = active / registered, and, against the previous month's export,
    ``retained`` (old users active in M-1), ``new_retained`` (registered in M-1),
    ``woken`` (last active in M-2) and ``returned`` (inactive ≥ 2 months at the end of M-1):
    each the share of that group active in M.
    """
    rows = []
    prev: pd.DataFrame | None = None
    prev_month: pd.Period | None = None
    for label in sorted(frames):
        f = frames[label]
        m = pd.Period(label, freq="M")
        reg_m = f[REGISTERED].dt.to_period("M")
        act_m = f[LAST_ACTIVE].dt.to_period("M")
        row = {"month": label, "registered": len(f), "new": int((reg_m == m).sum()),
               "active": int((act_m == m).sum())}
        row["active_rate"] = row["active"] / row["registered"]
        if prev is not None and prev_month == m - 1:
            p_reg = prev[REGISTERED].dt.to_period("M")
            p_act = prev[LAST_ACTIVE].dt.to_period("M")
            active_now = prev[ID].map(dict(zip(f[ID], act_m == m, strict=True))).fillna(False).astype(bool)
            groups = {
                "retained": (p_act == prev_month) & (p_reg != prev_month),
                "new_retained": p_reg == prev_month,
                "woken": p_act == prev_month - 1,
                "returned": p_act < prev_month - 1,
            }
            for name, mask in groups.items():
                row[name] = float(active_now[mask].mean()) if mask.any() else float("nan")
                row[name + "_n"] = int(mask.sum())
        rows.append(row)
        prev, prev_month = f, m
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------- CLI

HERE = Path(__file__).resolve().parent
SHIPPED_USERS = 2000
SHIPPED_MONTHS = ("2024-05", "2024-06", "2024-07")


def _title(label: str) -> str:
    p = pd.Period(label, freq="M")
    return f"{p.year}年{p.month}月用户明细"


def write_shipped(out: Path = HERE, seed: int = 7) -> list[Path]:
    """The files shipped in samples/: three xlsx (no 上次活跃时间; July under a merged title) and July's CSV."""
    frames = simulate(SHIPPED_USERS, list(SHIPPED_MONTHS), seed=seed, include_prev_active=True)
    written = []
    for label in SHIPPED_MONTHS:
        path = out / f"car_app_{label}.xlsx"
        write_xlsx(frames[label].drop(columns=[PREV_ACTIVE]), path,
                   title=_title(label) if label == "2024-07" else None)
        written.append(path)
    path = out / "car_app_2024-07.csv"
    write_csv(frames["2024-07"], path)
    written.append(path)
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make_samples.py",
        description="Generate seeded monthly user-detail exports (用户明细) of a car-owner app. "
                    "Without arguments it regenerates the files shipped in samples/.")
    parser.add_argument("--users", type=int, help=f"users registered by the end of the last month "
                                                  f"(default {SHIPPED_USERS})")
    parser.add_argument("--months", help='"2024-05:2024-07" or "2024-05,2024-07" (default 2024-05:2024-07)')
    parser.add_argument("--out", type=Path, help="output folder, created if missing (default: current folder)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--csv", action="store_true", help="also write one CSV (UTF-8 with BOM) per month")
    parser.add_argument("--no-xlsx", dest="xlsx", action="store_false", help="do not write xlsx files")
    prev = parser.add_mutually_exclusive_group()
    prev.add_argument("--prev-active", dest="prev_active", action="store_true", default=None,
                      help="include 上次活跃时间 in xlsx too (default: only in CSV, as in the shipped samples)")
    prev.add_argument("--no-prev-active", dest="prev_active", action="store_false",
                      help="leave 上次活跃时间 out of CSV too")
    parser.add_argument("--title", action="store_true",
                        help="put a merged title row (YYYY年M月用户明细) above the xlsx header")
    parser.add_argument("--prefix", default="car_app_", help='file name prefix (default "car_app_")')
    parser.add_argument("--stats", action="store_true", help="print per-month counts and the four rates")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    custom = (args.users is not None or args.months is not None or args.out is not None or args.csv
              or not args.xlsx or args.title or args.prev_active is not None or args.prefix != "car_app_")
    if custom:
        _write_custom(args, parser)
        return 0
    files = write_shipped(HERE, seed=args.seed)
    for f in files:
        print(f"wrote {f} ({f.stat().st_size:,} bytes)")
    if args.stats:
        frames = simulate(SHIPPED_USERS, list(SHIPPED_MONTHS), seed=args.seed)
        print(monthly_stats(frames).to_string(index=False))
    return 0


def _write_custom(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """The exports the flags ask for, into ``--out`` (the current folder by default)."""
    if args.users is not None and args.users < 1:
        parser.error("--users must be at least 1")
    if not args.xlsx and not args.csv:
        parser.error("--no-xlsx without --csv writes nothing")
    try:
        months = month_range(args.months) if args.months else list(SHIPPED_MONTHS)
    except ValueError as exc:
        parser.error(f"--months: {exc}")
    users = args.users if args.users is not None else SHIPPED_USERS
    out = args.out if args.out is not None else Path.cwd()
    out.mkdir(parents=True, exist_ok=True)
    frames = simulate(users, months, seed=args.seed, include_prev_active=True)
    for label, frame in frames.items():
        if args.xlsx:
            f = frame if args.prev_active else frame.drop(columns=[PREV_ACTIVE])
            path = out / f"{args.prefix}{label}.xlsx"
            write_xlsx(f, path, title=_title(label) if args.title else None)
            print(f"wrote {path} ({len(f):,} rows)")
        if args.csv:
            f = frame if args.prev_active is not False else frame.drop(columns=[PREV_ACTIVE])
            path = out / f"{args.prefix}{label}.csv"
            write_csv(f, path)
            print(f"wrote {path} ({len(f):,} rows)")
    if args.stats:
        print(monthly_stats(frames).to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
