"""Every lifecycle segment and group, defined once: what it is called, where it shows, how it is decided.

A segment used to live in a dozen places (the ``np.select`` in ``segments``, the nested IF in
``formulas``, the CASE in ``sql``, sheet names, definitions, the overview's list, the playbook's
borrowing, the rate bases...). Each now reads :data:`REGISTRY`, so adding a segment (say 即将流失)
is one :class:`Entry` here plus its texts; CONTRIBUTING.md walks through it.

The lifecycle rule is kept side by side in three languages: each segment's :class:`Rule` holds the
Python test (over :class:`Facts`, numpy arrays), the Excel test (over the Users row's 注册月数 and
间隔月数 cells) and the SQL test. Rules are tried in ``precedence`` order; a rule in the ``active``
branch only sees users active in M, one in the ``inactive`` branch only the others, and the last
rule of a branch (no test) takes whoever is left. :meth:`Registry.classify`,
:meth:`Registry.excel` and :meth:`Registry.sql_case` turn that one table into the three programs.

This module imports no other tagger module (it sits at the bottom of the import graph), so
``config`` can read it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

Texts = Mapping[str, str]  # {"zh": ..., "en": ...}

# The four rates of the "6 groups + 4 rates" decomposition, in display order.
RATES: tuple[str, ...] = ("old_retention", "new_retention", "awaken_rate", "return_rate")

# Which users a rule looks at.
ANY, ACTIVE, INACTIVE = "any", "active", "inactive"


@dataclass(frozen=True)
class Facts:
    """What the Python rules read, one array element per user (see ``segments.assign_segments``).

    ``gap_before``: inactive months between the last activity before M and M; ``since_last``:
    months since the last activity; ``prev_known``: that last activity before M is known.
    """

    reg: np.ndarray
    active: np.ndarray
    prev_known: np.ndarray
    gap_before: np.ndarray
    since_last: np.ndarray
    month: int
    churn_after: int


@dataclass(frozen=True)
class Rule:
    """One branch of the lifecycle rule: the same test in Python, Excel and SQL.

    ``excel`` may name ``{age}`` (注册月数 cell), ``{idle}`` (间隔月数 cell) and ``{churn}`` (the
    ChurnAfter name); ``sql`` may name ``{month}``, ``{prev_month}`` (M-1) and ``{k}`` (churn
    window). ``None`` everywhere means "everyone left in this branch" (the branch's last rule).
    """

    branch: str
    python: Callable[[Facts], np.ndarray] | None = None
    excel: str | None = None
    sql: str | None = None


@dataclass(frozen=True)
class Entry:
    """One segment or group key and everything the program says about it.

    ``kind``: ``segment`` (a value of ``assign_segments``' segment), ``split`` (a group that
    splits a segment by a flag: ``split_of``/``split_flag``), ``unsplit`` (active, last month
    unknown) or ``prev`` (a last-month state only). ``shown``: on 总览 and with its own strategy
    sheet even when empty. ``rate``: the rate this key (as last month's state) is the base of.
    ``borrows``: groups whose plays it borrows when it has none. ``comeback``: counted above the
    line of the quick ratio; ``quick_base``: the line below it. ``why``: the head of the 分群说明
    text; ``{month}`` and ``{n}`` there are the last activity and the idle months. ``sheet``: the
    strategy sheet's name when it differs from the label (every kind but ``prev`` has a sheet).
    """

    key: str
    label: Texts
    kind: str
    sheet: Texts | None = None
    definition: Texts | None = None
    rule: Rule | None = None
    precedence: int = 0
    active: bool = False
    shown: bool = False
    unsplit_part: bool = False
    prev_state: bool = False
    rate: str | None = None
    borrows: tuple[str, ...] = ()
    comeback: bool = False
    quick_base: bool = False
    split_of: str | None = None
    split_flag: bool | None = None
    why: Texts | None = None

    def __post_init__(self) -> None:
        # A strategy sheet named like its segment holds the label itself: the name is written once.
        if self.sheet is None and self.kind != "prev":
            object.__setattr__(self, "sheet", self.label)


def _nest(pairs: list[tuple[str, str]], last: str) -> str:
    """``IF(t1,r1,IF(t2,r2,…last))``; a test whose result equals what follows is dropped."""
    out = last
    for test, result in reversed(pairs):
        if result != out:
            out = f"IF({test},{result},{out})"
    return out


@dataclass(frozen=True)
class Registry:
    """The ordered entries, and every list the rest of tagger derives from them."""

    entries: tuple[Entry, ...]
    rates: tuple[str, ...] = RATES
    by_key: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {e.key: e for e in self.entries})

    def __getitem__(self, key: str) -> Entry:
        return self.by_key[key]

    def keys(self, test: Callable[[Entry], bool]) -> tuple[str, ...]:
        return tuple(e.key for e in self.entries if test(e))

    # -- the lists -------------------------------------------------------------------------
    @property
    def segments(self) -> tuple[str, ...]:
        """Values of the ``segment`` column (without the unsplit one)."""
        return self.keys(lambda e: e.kind == "segment")

    @property
    def groups(self) -> tuple[str, ...]:
        """Values of the ``group`` column a person may pick (segments with their splits)."""
        return self.keys(lambda e: e.kind in ("segment", "split"))

    @property
    def unsplit(self) -> str:
        return self.keys(lambda e: e.kind == "unsplit")[0]

    @property
    def play_groups(self) -> tuple[str, ...]:
        """Keys a playbook row may name: every group, the unsplit one too."""
        return self.keys(lambda e: e.kind != "prev")

    @property
    def active_segments(self) -> tuple[str, ...]:
        return self.keys(lambda e: e.active and e.kind in ("segment", "unsplit"))

    @property
    def unsplit_parts(self) -> tuple[str, ...]:
        return self.keys(lambda e: e.unsplit_part)

    @property
    def shown(self) -> tuple[str, ...]:
        return self.keys(lambda e: e.shown)

    @property
    def prev_groups(self) -> tuple[str, ...]:
        return self.keys(lambda e: e.prev_state)

    @property
    def rate_bases(self) -> dict[str, str]:
        """Rate -> the last-month state that is its base, in :data:`RATES` order."""
        return {rate: self._rate_base(rate) for rate in self.rates}

    def _rate_base(self, rate: str) -> str:
        return self.keys(lambda e: e.rate == rate)[0]

    @property
    def comeback(self) -> tuple[str, ...]:
        return self.keys(lambda e: e.comeback)

    @property
    def quick_base(self) -> str:
        return self.keys(lambda e: e.quick_base)[0]

    @property
    def fallback(self) -> dict[str, tuple[str, ...]]:
        return {e.key: e.borrows for e in self.entries if e.borrows}

    def splits(self, key: str) -> dict[bool, str]:
        """The groups that split segment ``key``, by flag value."""
        return {bool(e.split_flag): e.key for e in self.entries if e.split_of == key}

    def texts(self, attribute: str, prefix: str = "") -> dict[str, Texts]:
        """A catalog's texts: ``label``, ``sheet`` or ``definition`` of every entry that has one."""
        # The entries' own mappings, not copies: a text shared by two entries stays one definition.
        return {prefix + e.key: getattr(e, attribute) for e in self.entries if getattr(e, attribute)}

    # -- the rule --------------------------------------------------------------------------
    @property
    def rules(self) -> tuple[Entry, ...]:
        """Entries with a rule, in the order they are tried."""
        return tuple(sorted((e for e in self.entries if e.rule), key=lambda e: e.precedence))

    def _branch(self, branch: str) -> list[Entry]:
        return [e for e in self.rules if e.rule and e.rule.branch == branch]

    def classify(self, facts: Facts) -> np.ndarray:
        """The segment key of every user (the ``np.select`` of ``assign_segments``)."""
        *tried, last = self.rules
        conditions = []
        for entry in tried:
            rule = entry.rule
            assert rule is not None
            test = rule.python(facts) if rule.python else True
            conditions.append(facts.active & test if rule.branch == ACTIVE else test)
        return np.select(conditions, [e.key for e in tried], default=last.key)

    def excel(self, results: Mapping[str, str], active: str, cells: Mapping[str, str]) -> str:
        """The nested IF (without ``=``) that returns ``results[key]`` for the segment ``key``.

        ``active`` is the test "active in M"; ``cells`` fills the rules' ``{age}``, ``{idle}``,
        ``{churn}``. Two neighbouring results that are the same text collapse into one.
        """
        def chain(entries: list[Entry], last: str | None = None) -> str:
            pairs = [(e.rule.excel.format(**cells), results[e.key]) for e in entries if e.rule and e.rule.excel]
            tail = last if last is not None else results[entries[-1].key]
            return _nest(pairs, tail)

        split = f"IF({active},{chain(self._branch(ACTIVE))},{chain(self._branch(INACTIVE))})"
        return chain(self._branch(ANY), split)

    def sql_case(self, values: Mapping[str, object], indent: str = "      ") -> str:
        """The ``CASE … END`` lines of the segment column, one ``WHEN`` per rule."""
        *tried, last = self.rules
        lines = ["CASE"]
        for entry in tried:
            rule = entry.rule
            assert rule is not None
            test = rule.sql.format(**values) if rule.sql else ""
            if rule.branch == ACTIVE:
                test = f"active AND {test}" if test else "active"
            lines.append(f"{indent}WHEN {test} THEN '{entry.key}'")
        lines.append(f"{indent}ELSE '{last.key}' END")
        return "\n".join(lines)

    def with_entries(self, extra: Iterable[Entry]) -> Registry:
        """A copy with more entries (a new segment goes in one call)."""
        return Registry((*self.entries, *extra), self.rates)


UNSPLIT = "active_unsplit"

# The 分群说明 heads that two segments share (told apart by the segment name that follows).
_WHY_BACK: Texts = {"zh": "上次活跃 {month}，间隔 {n} 个月 → ", "en": "last active {month}, idle months: {n} → "}
_WHY_GONE: Texts = {"zh": "最近活跃 {month}，{n} 个月未活跃 → ", "en": "last active {month}, inactive months: {n} → "}

ENTRIES: tuple[Entry, ...] = (
    Entry("new", {"zh": "新用户", "en": "New"}, "segment",
          definition={"zh": "当月新注册的用户", "en": "Registered this month"},
          rule=Rule(ANY, lambda f: f.reg >= f.month, "{age}<=0", "reg >= {month}"), precedence=10,
          active=True, shown=True, prev_state=True, rate="new_retention", comeback=True,
          why={"zh": "本月注册 → ", "en": "registered this month → "}),
    Entry("old_active", {"zh": "上月活跃老用户", "en": "Last month's active (not new)"}, "prev",
          prev_state=True, rate="old_retention"),
    Entry("last_month_new", {"zh": "上月新用户", "en": "Last month's new"}, "segment",
          sheet={"zh": "上月新用户", "en": "New last month"},
          definition={"zh": "上月注册、本月仍活跃的用户（考核新用户黏性）",
                      "en": "Registered last month and active this month (new-user stickiness)"},
          rule=Rule(ACTIVE, lambda f: f.reg == f.month - 1, "{age}=1", "reg = {prev_month}"), precedence=20,
          active=True, shown=True,
          why={"zh": "上月注册，本月活跃 → ", "en": "registered last month, active now → "}),
    Entry("active", {"zh": "活跃用户", "en": "Active"}, "segment",
          definition={"zh": "上月和本月都活跃的老用户", "en": "Existing users active last month and this month"},
          rule=Rule(ACTIVE, lambda f: f.gap_before <= 0, "{idle}<=0", "{month} - prev - 1 <= 0"), precedence=40,
          active=True, shown=True, unsplit_part=True,
          why={"zh": "上月、本月均活跃 → ", "en": "active last month and this month → "}),
    Entry("awakened", {"zh": "唤醒用户", "en": "Awakened"}, "segment",
          definition={"zh": "休眠后（未满流失判定月数）本月重新活跃", "en": "Back this month after a dormant spell"},
          rule=Rule(ACTIVE, lambda f: f.gap_before < f.churn_after, "{idle}<{churn}", "{month} - prev - 1 < {k}"),
          precedence=50, active=True, shown=True, unsplit_part=True, borrows=("returned",), comeback=True,
          why=_WHY_BACK),
    Entry("returned", {"zh": "回流用户", "en": "Returned"}, "segment",
          definition={"zh": "流失后（≥ 流失判定月数未活跃）本月重新活跃", "en": "Back this month after being churned"},
          rule=Rule(ACTIVE), precedence=60,
          active=True, shown=True, unsplit_part=True, borrows=("awakened",), comeback=True,
          why=_WHY_BACK),
    Entry("dormant", {"zh": "休眠用户", "en": "Dormant"}, "segment",
          definition={"zh": "上月活跃（或未满流失判定月数）但本月未活跃",
                      "en": "Not active this month, inactive for less than the churn window"},
          rule=Rule(INACTIVE, lambda f: f.since_last < f.churn_after, "{idle}<{churn}", "{month} - last_m < {k}"),
          precedence=70, shown=True, prev_state=True, rate="awaken_rate", quick_base=True,
          why=_WHY_GONE),
    Entry("churned_driving", {"zh": "有开车无APP活跃", "en": "Churned, still driving"}, "split",
          sheet={"zh": "流失-有开车", "en": "Churned-driving"},
          definition={"zh": "已流失，但仍在开车（可用行车报告、车辆状态、福利活动唤醒）",
                      "en": "Churned but still driving (driving reports, vehicle status, perks)"},
          shown=True, borrows=("churned",), split_of="churned", split_flag=True),
    Entry("churned_not_driving", {"zh": "无开车无APP活跃", "en": "Churned, not driving"}, "split",
          sheet={"zh": "流失-无开车", "en": "Churned-not driving"},
          definition={"zh": "已流失且不再开车（重点做用户调研）", "en": "Churned and no longer driving (research why)"},
          shown=True, borrows=("churned",), split_of="churned", split_flag=False),
    Entry("churned", {"zh": "流失用户", "en": "Churned"}, "segment",
          definition={"zh": "已流失（是否开车未知）", "en": "Churned (driving unknown)"},
          rule=Rule(INACTIVE), precedence=80,
          prev_state=True, rate="return_rate", borrows=("churned_driving", "churned_not_driving"),
          why=_WHY_GONE),
    Entry(UNSPLIT, {"zh": "老用户活跃(上月状态未知)", "en": "Active (last month unknown)"}, "unsplit",
          sheet={"zh": "老用户活跃(未知)", "en": "Active-unknown"},
          definition={"zh": "本月活跃的老用户，缺少上月状态无法细分",
                      "en": "Active existing users whose last month is unknown"},
          rule=Rule(ACTIVE, lambda f: ~f.prev_known, '{idle}=""', "prev IS NULL"), precedence=30,
          active=True, borrows=("active",),
          why={"zh": "本月活跃，上月状态未知 → ", "en": "active, last month unknown → "}),
)

REGISTRY = Registry(ENTRIES)

__all__ = ["ACTIVE", "ANY", "ENTRIES", "INACTIVE", "RATES", "REGISTRY", "UNSPLIT", "Entry", "Facts", "Registry",
           "Rule"]
