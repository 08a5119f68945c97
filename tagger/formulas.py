"""Excel twins of the per-user rules, written next to the Python values they must reproduce.

The Users sheet carries every computed cell as a formula *and* the value Python computed
(``write_formula(..., value=)``): a person editing a date in Excel or WPS sees the segment
change, and a reader that never recalculates (pandas, previews) still sees the right value.
So each formula here mirrors one rule, step for step:

==================  ===========================================  ====================================
column              Python rule                                  formula below
==================  ===========================================  ====================================
注册月数 age        ``M - month_number(register)``               :func:`age`
本月活跃 active     ``segments.assign_segments`` ``active``      :func:`active`
间隔月数 idle       ``assign_segments`` ``idle_months``          :func:`idle`
用户分群 segment    ``assign_segments`` ``np.select`` order      :func:`segment`
分群细分 group      churned split by ``values.parse_flags``      :func:`group`
上月状态 prev       ``assign_segments`` ``prev_group``           :func:`prev_state`
使用次数 total      ``preferences.usage_shares`` row total       :func:`total`
近三月次数 window   ``pipeline.window_usage`` (monthly counts)    :func:`window`
偏好基数 base       ``preferences.share_base`` (sessions)         :func:`share_base`
主偏好 primary      ``tag_preferences`` argmax / fallback        :func:`primary`
偏好标签 tags       ``tag_preferences`` ``、``-joined tags        :func:`tags`
分群说明 why        :func:`explain` (below)                      :func:`why`
价值分层 layer      ``value_layers.assign_layers``               :func:`value_layer`
==================  ===========================================  ====================================

Months are ``YEAR*12+MONTH-1`` exactly as :func:`tagger.values.month_number`; the report
month, churn window and threshold are named cells on the 参数 sheet. Formulas use only
functions Excel 2010, WPS and LibreOffice share (nested IF, SUMPRODUCT over array
constants, no IFS/TEXTJOIN/dynamic arrays) and never format dates with TEXT(), whose
codes depend on the locale. ``tests/test_recalc.py`` recalculates them in LibreOffice.

Templates hold :data:`ROW` where the row number goes; :func:`fill` puts it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from tagger.config import Feature
from tagger.i18n import Catalog
from tagger.preferences import SEPARATOR
from tagger.registry import ACTIVE, REGISTRY, Entry
from tagger.segments import label as segment_label
from tagger.values import FALSE_WORDS, TRUE_WORDS
from tagger.vocabulary import word

# Named cells on the 参数 sheet.
REPORT_MONTH = "ReportMonth"
MONTH_NO = "MonthNo"
CHURN_AFTER = "ChurnAfter"
THRESHOLD = "Threshold"
TARGET = "Target"
# [value_layers] cuts on the 参数 sheet (tagger.value_layers).
VALUE_CUT = "ValueCut"
FREQ_CUT = "FreqCut"
RECENCY_CUT = "RecencyCut"
# Lists on the 参数 sheet (kept out of the per-row formulas, which are written a million times).
KW_ALL = "KwAll"  # every feature keyword, features in template order
KW_LABEL = "KwLabel"  # the label of each keyword's feature, row for row
YES_WORDS = "YesWords"  # values.TRUE_WORDS
NO_WORDS = "NoWords"  # values.FALSE_WORDS

ROW = "\x00"  # never occurs in a formula or a label

TEXT = Catalog(
    "formulas",
    {
        "yes": {"zh": "是", "en": "Yes"},
        "no": {"zh": "否", "en": "No"},
        "unknown": word("unknown"),
        **REGISTRY.texts("why", "why_"),  # the 分群说明 heads, one per segment
    },
)


def quote(text: str) -> str:
    """An Excel string literal (``"`` doubled)."""
    return '"' + text.replace('"', '""') + '"'


def fill(template: str, row: int) -> str:
    """The formula of one row (1-based Excel row number)."""
    return template.replace(ROW, str(row))


def month_no(cell: str) -> str:
    """``values.month_number`` in Excel: months since year 0."""
    return f"(YEAR({cell})*12+MONTH({cell})-1)"


def month_text(number: str) -> str:
    """``values.month_key`` in Excel (``2024-05``) from a month number, without locale-bound TEXT()."""
    return f'INT(({number})/12)&"-"&RIGHT("0"&(MOD({number},12)+1),2)'


def month_key_of(number: int) -> str:
    year, month0 = divmod(int(number), 12)
    return f"{year:04d}-{month0 + 1:02d}"


@dataclass
class UserCells:
    """Column letters of one Users row: the inputs the rules read and the columns they fill.

    ``prev_kind`` says where the last activity before M comes from, as the pipeline
    decided: ``export`` (a blank cell means "only registered"), ``history`` (a blank cell
    means unknown) or ``none`` (unknown for everyone).
    """

    register: str
    last: str
    prev: str | None
    prev_kind: str
    drove: str | None
    counts: list[str]
    top: str | None
    age: str
    active: str
    idle: str
    segment: str
    group: str
    prev_state: str
    total: str | None
    primary: str
    tags: str
    why: str
    features: Sequence[Feature] = field(default_factory=tuple)
    count_features: Sequence[Feature] = field(default_factory=tuple)
    # share_of = "sessions": the column of each user's share base (active days, else the total).
    base: str | None = None

    def at(self, letter: str) -> str:
        return f"{letter}{ROW}"

    def total_cell(self) -> str:
        """The row's usage total cell, the base of the shares; only a sheet with usage counts has one."""
        if self.total is None:
            raise ValueError("no usage counts, so no usage total column")
        return self.at(self.total)


# -- lifecycle --------------------------------------------------------------------------


def age(c: UserCells) -> str:
    """Months since registration (≤ 0: registered in M, i.e. ``reg_a >= month``)."""
    return f"={MONTH_NO}-{month_no(c.at(c.register))}"


def active(c: UserCells, lang: str) -> str:
    """Active in M: registered in M, or the last activity (clipped to M) falls in M."""
    yes, no = quote(TEXT("yes", lang)), quote(TEXT("no", lang))
    last = c.at(c.last)
    return (f"=IF({c.at(c.age)}<=0,{yes},IF({last}=\"\",{no},"
            f"IF({month_no(last)}>={MONTH_NO},{yes},{no})))")


def _gap_before(c: UserCells) -> str:
    """Inactive months between the last activity before M and M (``gap_before``); "" if unknown."""
    if c.prev_kind == "none" or c.prev is None:
        return '""'
    prev, age_ = c.at(c.prev), c.at(c.age)
    blank = f"{age_}-1" if c.prev_kind == "export" else '""'
    since = f"{MONTH_NO}-{month_no(prev)}"
    return f'IF({prev}="",{blank},IF({since}<1,"",MIN({since},{age_})-1))'


def idle(c: UserCells, lang: str) -> str:
    """``idle_months``: gap before M for an active user, months since the last activity otherwise."""
    yes = quote(TEXT("yes", lang))
    age_, last = c.at(c.age), c.at(c.last)
    return (f'=IF({age_}<=0,"",IF({c.at(c.active)}={yes},IF({age_}=1,0,{_gap_before(c)}),'
            f'IF({last}="",{age_},MIN({age_},{MONTH_NO}-{month_no(last)}))))')


def segment(c: UserCells, lang: str) -> str:
    """The ``np.select`` of :func:`tagger.segments.assign_segments`, branch for branch (both read the registry)."""
    labels = {entry.key: quote(segment_label(entry.key, lang)) for entry in REGISTRY.rules}
    return "=" + REGISTRY.excel(labels, _active_test(c, lang), _rule_cells(c))


def _active_test(c: UserCells, lang: str) -> str:
    """本月活跃 is yes: the split between the rules' active and inactive branches."""
    return f"{c.at(c.active)}={quote(TEXT('yes', lang))}"


def _rule_cells(c: UserCells) -> dict[str, str]:
    """What a registry rule's Excel test names: the row's 注册月数 and 间隔月数 cells, the churn window."""
    return {"age": c.at(c.age), "idle": c.at(c.idle), "churn": CHURN_AFTER}


def flag_words() -> dict[str, list[str]]:
    """The yes/no spellings of ``values.parse_flags``, as the 参数 sheet lists them."""
    return {YES_WORDS: sorted(TRUE_WORDS), NO_WORDS: sorted(FALSE_WORDS)}


def _flag_in(cell: str, name: str) -> str:
    """``values.parse_flags`` membership: trimmed text equal (case-insensitively) to a listed word."""
    return f'SUMPRODUCT(--(TRIM({cell}&"")={name}))>0'


def group(c: UserCells, lang: str) -> str:
    """Churned users split by 是否开车 (unknown stays 流失用户), everyone else keeps the segment."""
    seg = c.at(c.segment)
    if c.drove is None:
        return f"={seg}"
    drove = c.at(c.drove)
    churned = quote(segment_label("churned", lang))
    split = {flag: quote(segment_label(key, lang)) for flag, key in REGISTRY.splits("churned").items()}
    return (f"=IF({seg}={churned},IF({_flag_in(drove, YES_WORDS)},{split[True]},"
            f"IF({_flag_in(drove, NO_WORDS)},{split[False]},{seg})),{seg})")


def effective_group(override: str, group: str) -> str:
    """The group that acts: the 人工标签 typed in the row, else the computed 分群细分.

    A live formula, so a label edited in Excel moves the user on the group sheets at once.
    """
    label = f"{override}{ROW}"
    return f'=IF({label}<>"",{label},{group}{ROW})'


def prev_state(c: UserCells, lang: str) -> str:
    """``prev_group``, the base of the four rates: the user's state in M-1."""
    yes = quote(TEXT("yes", lang))
    age_, idle_ = c.at(c.age), c.at(c.idle)
    gap = f"({idle_}-({c.at(c.active)}<>{yes}))"
    return (f"=IF({age_}<=0,\"\",IF({age_}=1,{quote(segment_label('new', lang))},"
            f"IF({idle_}=\"\",{quote(TEXT('unknown', lang))},IF({gap}<=0,{quote(segment_label('old_active', lang))},"
            f"IF({gap}<{CHURN_AFTER},{quote(segment_label('dormant', lang))},"
            f"{quote(segment_label('churned', lang))})))))")


def prev_state_label(key: str, lang: str) -> str:
    """Display text of a ``prev_group`` key, as :func:`prev_state` writes it."""
    if key == "":
        return ""
    if key == "unknown":
        return TEXT("unknown", lang)
    return segment_label(key, lang)


# -- preferences -------------------------------------------------------------------------


def total(c: UserCells) -> str:
    """Row total of the usage counts (text and blanks count 0, as NaN does in pandas)."""
    return "=" + "+".join(f"N({c.at(col)})" for col in c.counts)


def window(own: str, earlier: str) -> str:
    """A count over the three-month window: the month's own count plus the two earlier months' (history)."""
    return f"=N({own}{ROW})+N({earlier}{ROW})"


def share_base(days: str, c: UserCells) -> str:
    """``share_of = "sessions"``: shares are of the active days, or of the total when there are none."""
    cell = f"N({days}{ROW})"
    return f"=IF({cell}>0,{cell},{c.total_cell()})"


def keyword_table(features: Sequence[Feature], lang: str) -> list[tuple[str, str]]:
    """(keyword, feature label) in ``match_feature``'s order: the first keyword found names the feature."""
    return [(word, feature.label(lang)) for feature in features
            for word in (*feature.keywords, *feature.labels.values()) if word]


def _fallback(c: UserCells, lang: str) -> str:
    """``preferences.match_feature`` on 近三个月使用最多的功能: the feature of the first keyword in the text.

    ``INDEX(…,0)`` makes Excel 2010 evaluate the array without Ctrl+Shift+Enter.
    """
    if c.top is None or not keyword_table(c.features, lang):
        return '""'
    return f'IFERROR(INDEX({KW_LABEL},MATCH(1,INDEX(--ISNUMBER(SEARCH({KW_ALL},{c.at(c.top)})),0),0)),"")'


def primary(c: UserCells, lang: str) -> str:
    """Largest share (first feature on ties) when there are counts, else the top-feature fallback."""
    if not c.counts:
        return "=" + _fallback(c, lang)
    cells = [f"N({c.at(col)})" for col in c.counts]
    biggest = f"MAX({','.join(cells)})"
    labels = [quote(f.label(lang)) for f in c.count_features]
    pick = labels[-1]
    for cell, lab in zip(reversed(cells[:-1]), reversed(labels[:-1]), strict=True):
        pick = f"IF({cell}={biggest},{lab},{pick})"
    return f"=IF({c.total_cell()}>0,{pick},{_fallback(c, lang)})"


def tags(c: UserCells, lang: str) -> str:
    """Every feature whose share (of the total, or of :func:`share_base`) reaches the threshold, ``、``-joined.

    With a share base, a user with counts always has a base > 0 (active days, else the total).
    """
    if not c.counts:
        return f"={c.at(c.primary)}"
    tot = c.total_cell()
    base = c.at(c.base) if c.base else tot
    parts = "&".join(f'IF(N({c.at(col)})/{base}>={THRESHOLD},{quote(SEPARATOR + f.label(lang))},"")'
                     for col, f in zip(c.counts, c.count_features, strict=True))
    return f"=IF({tot}>0,MID({parts},2,999),{c.at(c.primary)})"


# -- the "why" column ---------------------------------------------------------------------


def why(c: UserCells, lang: str) -> str:
    """The segment in words; the Python twin is :func:`explain`.

    The same registry chain as :func:`segment`, with each segment's ``why`` text for its label;
    segments that share a text (唤醒/回流, 休眠/流失) collapse into one branch.
    """
    idle_, grp = c.at(c.idle), c.at(c.group)

    def words(entry: Entry) -> str:
        text = TEXT(f"why_{entry.key}", lang)
        if "{month}" not in text:
            return quote(text)
        offset = "-1" if entry.rule is not None and entry.rule.branch == ACTIVE else ""  # last activity before M
        head, rest = text.split("{month}")
        middle, tail = rest.split("{n}")
        return f"{quote(head)}&{month_text(f'{MONTH_NO}-{idle_}{offset}')}&{quote(middle)}&{idle_}&{quote(tail)}"

    heads = {entry.key: words(entry) for entry in REGISTRY.rules}
    return f"={REGISTRY.excel(heads, _active_test(c, lang), _rule_cells(c))}&{grp}"


def explain(tags_frame: pd.DataFrame, month: int, group_labels: pd.Series, lang: str) -> list[str]:
    """Python twin of :func:`why`: e.g. ``上次活跃 2024-05，间隔 1 个月 → 唤醒用户``.

    Each user's segment (``tags_frame["segment"]``) picks its registry ``why`` text; ``{month}`` is
    the last activity: before M for the active branch (``idle_months`` is the gap before M), else the
    last one. ``group_labels`` is the 分群细分 text.
    """
    heads = {entry.key: (TEXT(f"why_{entry.key}", lang), 1 if entry.rule.branch == ACTIVE else 0)
             for entry in REGISTRY.rules if entry.rule}
    out: list[str] = []
    for key, n, grp in zip(tags_frame["segment"].to_numpy(), tags_frame["idle_months"].to_numpy(dtype=object),
                           group_labels.to_numpy(), strict=True):
        text, before = heads[key]
        head = text.format(month=month_key_of(month - n - before), n=n) if "{month}" in text else text
        out.append(head + str(grp))
    return out


# -- value layers ------------------------------------------------------------------------


def value_layer(value: str, frequency: str | None, recency: str | None, active: str, names: Sequence[str],
                lang: str) -> str:
    """``value_layers.assign_layers``: high value × recent, else frequent, over the 参数 cuts.

    ``names`` are the four layer names in ``LAYER_KEYS`` order; a recency cell that is not a
    number (blank, text) is not recent, as NaN is not in Python.
    """
    yes = quote(TEXT("yes", lang))
    recent = (f"AND(ISNUMBER({recency}{ROW}),N({recency}{ROW})<={RECENCY_CUT})" if recency
              else f"{active}{ROW}={yes}")
    frequent = f"N({frequency}{ROW})>={FREQ_CUT}" if frequency else recent
    high_active, high_sleeping, potential, general = (quote(n) for n in names)
    return (f"=IF(N({value}{ROW})>={VALUE_CUT},IF({recent},{high_active},{high_sleeping}),"
            f"IF({frequent},{potential},{general}))")
