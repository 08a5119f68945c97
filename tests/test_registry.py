"""One home for each segment: every list, label, sheet name and rule is read from tagger.registry.

The first tests check that the modules' lists *are* the registry's (same keys, same order), so a
new entry reaches them all. The others add a segment (即将流失) to a copy of the registry and
show the three programs of the rule (numpy, Excel, SQL run in DuckDB) pick it up and agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tagger import config, forecast, formulas, metrics, playbook, segments, sql
from tagger.registry import INACTIVE, REGISTRY, Entry, Facts, Registry, Rule
from tagger.values import parse_month
from tagger.workbook import groups as group_sheets
from tagger.workbook import labels, overview, params

M = parse_month("2024-07")

AT_RISK = Entry(
    "at_risk", {"zh": "即将流失", "en": "At risk"}, "segment",
    sheet={"zh": "即将流失", "en": "At risk"},
    definition={"zh": "上月活跃、本月未活跃", "en": "Active last month, not this month"},
    rule=Rule(INACTIVE, lambda f: f.since_last == 1, "{idle}=1", "{month} - last_m = 1"), precedence=65,
    shown=True, borrows=("dormant",),
    why={"zh": "上月刚活跃 {month}，{n} 个月未活跃 → ", "en": "last active {month}, inactive months: {n} → "},
)


def test_the_segment_lists_are_the_registrys() -> None:
    assert segments.SEGMENTS == ("new", "last_month_new", "active", "awakened", "returned", "dormant", "churned")
    assert REGISTRY.segments == segments.SEGMENTS
    assert segments.GROUPS == REGISTRY.groups == params.PICKABLE_GROUPS
    assert segments.GROUPS[-3:] == ("churned_driving", "churned_not_driving", "churned")
    assert segments.UNSPLIT == REGISTRY.unsplit == "active_unsplit"
    assert segments.UNSPLIT_PARTS == REGISTRY.unsplit_parts == ("active", "awakened", "returned")
    assert REGISTRY.active_segments == segments.ACTIVE_SEGMENTS
    assert segments.PREV_GROUPS == REGISTRY.prev_groups == ("new", "old_active", "dormant", "churned")
    assert config.PLAY_GROUPS == REGISTRY.play_groups == (*REGISTRY.groups, REGISTRY.unsplit)
    assert ("active_rate", *REGISTRY.rates) == config.PLAY_GOALS
    assert REGISTRY.rates == forecast.RATES
    assert metrics.RATE_BASES == REGISTRY.rate_bases == {
        "old_retention": "old_active", "new_retention": "new", "awaken_rate": "dormant", "return_rate": "churned"}
    assert metrics.COMEBACK == ("new", "awakened", "returned") and metrics.QUICK_BASE == "dormant"
    assert REGISTRY.fallback == playbook.FALLBACK
    assert overview.SHOWN_GROUPS == REGISTRY.shown == REGISTRY.groups[:-1]


def test_every_text_of_a_segment_comes_from_its_entry() -> None:
    for entry in REGISTRY.entries:
        for lang in ("zh", "en"):
            assert segments.label(entry.key, lang) == entry.label[lang]
            if entry.sheet:
                assert labels.SHEETS(f"g_{entry.key}", lang) == entry.sheet[lang]
            if entry.definition:
                assert group_sheets.TEXT(f"def_{entry.key}", lang) == entry.definition[lang]
            if entry.why:
                assert formulas.TEXT(f"why_{entry.key}", lang) == entry.why[lang]
    assert group_sheets.sheet_name("churned_driving") == "流失-有开车"
    # Only the registry's entries have a strategy sheet name.
    assert {k[2:] for k in labels.SHEETS.texts if k.startswith("g_")} == set(REGISTRY.texts("sheet"))


def _facts(reg: list[int], last: list[int], prev: list[float], month: int = M, churn_after: int = 3) -> Facts:
    """The inputs of the rule for users whose months are already clamped (as assign_segments does)."""
    reg_a, last_a, prev_a = (np.array(v, dtype="float64") for v in (reg, last, prev))
    active = last_a == month
    prev_a = np.where(active, prev_a, last_a)
    return Facts(reg=reg_a, active=active, prev_known=~np.isnan(prev_a), gap_before=month - prev_a - 1,
                 since_last=month - last_a, month=month, churn_after=churn_after)


# One user per segment of the copy with 即将流失: (registered, last active, last active before M);
# the churn window is 3 months here, so 休眠 keeps the users idle for 2.
USERS = {
    "new": (M, M, np.nan),
    "last_month_new": (M - 1, M, M - 1),
    "active_unsplit": (M - 6, M, np.nan),
    "active": (M - 6, M, M - 1),
    "awakened": (M - 6, M, M - 2),
    "returned": (M - 6, M, M - 4),
    "at_risk": (M - 6, M - 1, np.nan),
    "dormant": (M - 6, M - 2, np.nan),
    "churned": (M - 6, M - 3, np.nan),
}


def test_a_new_segment_joins_every_list_in_its_place() -> None:
    bigger = REGISTRY.with_entries([AT_RISK])
    assert isinstance(bigger, Registry) and REGISTRY["new"] is bigger["new"]
    assert bigger.segments == (*REGISTRY.segments, "at_risk")
    assert bigger.groups == (*REGISTRY.groups, "at_risk")
    assert bigger.play_groups == (*REGISTRY.play_groups, "at_risk")
    assert bigger.shown == (*REGISTRY.shown, "at_risk")
    assert bigger.fallback["at_risk"] == ("dormant",)
    assert bigger.texts("sheet", "g_")["g_at_risk"] == {"zh": "即将流失", "en": "At risk"}
    assert [e.key for e in bigger.rules] == ["new", "last_month_new", "active_unsplit", "active", "awakened",
                                             "returned", "at_risk", "dormant", "churned"]
    assert REGISTRY.rate_bases == bigger.rate_bases  # not a base of any rate


def test_the_python_rule_of_a_new_segment() -> None:
    bigger = REGISTRY.with_entries([AT_RISK])
    reg, last, prev = zip(*USERS.values(), strict=True)
    assert bigger.classify(_facts(list(reg), list(last), list(prev))).tolist() == [
        "new", "last_month_new", "active_unsplit", "active", "awakened", "returned", "at_risk", "dormant", "churned"]
    # The registry the program runs gives the same users what assign_segments does.
    real = segments.assign_segments(pd.Series(reg, dtype="Int64"), pd.Series(last, dtype="Int64"), M,
                                    prev_active_month=pd.Series(prev).astype("Int64"), churn_after=3)["segment"]
    assert real.tolist() == REGISTRY.classify(_facts(list(reg), list(last), list(prev))).tolist()
    assert real.tolist()[6:] == ["dormant", "dormant", "churned"]  # without 即将流失, last month's drop-outs are 休眠


def test_the_excel_rule_of_a_new_segment() -> None:
    bigger = REGISTRY.with_entries([AT_RISK])
    results = {e.key: f'"{e.key}"' for e in bigger.rules}
    formula = bigger.excel(results, "G1=1", {"age": "F1", "idle": "H1", "churn": "ChurnAfter"})
    assert formula == ('IF(F1<=0,"new",IF(G1=1,IF(F1=1,"last_month_new",IF(H1="","active_unsplit",'
                       'IF(H1<=0,"active",IF(H1<ChurnAfter,"awakened","returned")))),'
                       'IF(H1=1,"at_risk",IF(H1<ChurnAfter,"dormant","churned"))))')
    # The workbook's own formula is this chain over the real registry, with the labels.
    cells = formulas.UserCells(register="A", last="B", prev="C", prev_kind="history", drove=None, counts=["D"],
                               top=None, age="F", active="G", idle="H", segment="I", group="J", prev_state="K",
                               total=None, primary="M", tags="N", why="O")
    text = formulas.fill(formulas.segment(cells, "en"), 2)
    assert text.startswith('=IF(F2<=0,"New",IF(G2="Yes",IF(F2=1,"Last month\'s new",')
    assert text.endswith('IF(H2<ChurnAfter,"Dormant","Churned")))')


def test_the_sql_rule_of_a_new_segment_runs_in_duckdb_and_agrees() -> None:
    duckdb = pytest.importorskip("duckdb")
    bigger = REGISTRY.with_entries([AT_RISK])
    case = bigger.sql_case({"month": M, "prev_month": M - 1, "k": 3})
    assert f"WHEN {M} - last_m = 1 THEN 'at_risk'" in case
    reg, last, prev = zip(*USERS.values(), strict=True)
    frame = pd.DataFrame({"reg": reg, "last_m": last, "prev_known": pd.Series(prev).astype("Int64")})
    con = duckdb.connect()
    con.register("src", frame)
    got = con.execute(
        f"SELECT {case} AS segment FROM (SELECT *, CASE WHEN active THEN prev_known ELSE last_m END AS prev "
        f"FROM (SELECT *, last_m = {M} AS active FROM src) AS a) AS p").fetchdf()["segment"].tolist()
    assert got == bigger.classify(_facts(list(reg), list(last), list(prev))).tolist()


def test_the_sql_of_the_registry_is_the_one_the_sql_command_writes() -> None:
    case = REGISTRY.sql_case({"month": M, "prev_month": M - 1, "k": 2})
    assert case.splitlines()[1:] == [
        f"      WHEN reg >= {M} THEN 'new'",
        f"      WHEN active AND reg = {M - 1} THEN 'last_month_new'",
        "      WHEN active AND prev IS NULL THEN 'active_unsplit'",
        f"      WHEN active AND {M} - prev - 1 <= 0 THEN 'active'",
        f"      WHEN active AND {M} - prev - 1 < 2 THEN 'awakened'",
        "      WHEN active THEN 'returned'",
        f"      WHEN {M} - last_m < 2 THEN 'dormant'",
        "      ELSE 'churned' END",
    ]
    assert case in sql._lifecycle_cte(config.load_config(None), M)
