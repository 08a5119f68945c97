"""The 偏好分析 (Preferences) and 分群流转 (Transitions) sheets.

Preferences: the seed's two tables, overall feature preference and preference by group,
as ``COUNTIF``/``COUNTIFS`` over the Users sheet's 偏好标签 and 主偏好 columns, with a
chart each. A user may hold several tags, so a row's shares need not add up to 100 %.

Transitions: last month's group (from the history database) × this month's group. Rows
are what history stored for M-1; columns are this month's live 分群细分, so the counts are
``COUNTIFS`` over both columns. Users who left the export since last month are a constant
column: they are in history only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tagger import formulas as fx
from tagger.i18n import Catalog, get_language
from tagger.segments import GROUPS, UNSPLIT
from tagger.segments import label as segment_label
from tagger.vocabulary import word
from tagger.workbook.grid import Grid
from tagger.workbook.labels import SHEETS
from tagger.workbook.users import TEXT as USER_TEXT
from tagger.workbook.users import UsersPlan

if TYPE_CHECKING:
    from tagger.workbook.sheet import SheetContext, Tab

TEXT = Catalog(
    "analysis_sheets",
    {
        "prefs_title": {"zh": "{month} 用户偏好分析", "en": "Preferences, {month}"},
        "overall": {"zh": "整体用户功能偏好", "en": "Feature preference, all users"},
        "by_group": {"zh": "不同用户群体偏好（占该群人数）", "en": "Preference by group (share of the group)"},
        "feature": {"zh": "偏好", "en": "Preference"},
        "holders": {"zh": "有此偏好标签", "en": "Hold the tag"},
        "holder_share": word("share"),
        "primary": {"zh": "主偏好人数", "en": "Main preference"},
        "primary_share": {"zh": "主偏好占比", "en": "Main share"},
        "group": word("group"),
        "users": word("users"),
        "none": {"zh": "无偏好数据", "en": "No preference data"},
        "chart_overall": {"zh": "整体功能偏好（有标签的用户占比）", "en": "Feature preference (share holding the tag)"},
        "chart_groups": {"zh": "各分群偏好", "en": "Preference by group"},
        "trans_title": {"zh": "分群流转：{prev} → {month}", "en": "Transitions: {prev} → {month}"},
        "trans_help": {"zh": "行：上月分群（历史库）；列：本月分群（实时公式）", "en": "Rows: last month's group "
                       "(history); columns: this month's group (live formulas)"},
        "trans_none": {
            "zh": "历史库中没有 {prev} 月的用户数据，无法计算分群流转。按月份顺序导入（先 {prev}，再 {month}）即可。",
            "en": "History holds no users for {prev}, so transitions cannot be shown. Import the months in order "
                  "({prev}, then {month}).",
        },
        "from_to": {"zh": "上月 ↓ / 本月 →", "en": "Last month ↓ / this month →"},
        "gone": {"zh": "本月不在导出中", "en": "Gone from export"},
        "total": word("total"),
    },
)


def write_preferences(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the Preferences sheet."""
    workbook, styles, result, plan, groups = ctx.workbook, ctx.styles, ctx.result, ctx.users, ctx.groups
    count_cells, cum_cell = ctx.overview.groups, ctx.overview.cumulative
    lang = get_language()
    grid = Grid(ws, SHEETS("prefs"))
    features = result.config.features
    tags = result.tags
    text = tags["tags"].astype(str)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 12, 12)
    grid.text(0, 0, TEXT("prefs_title", month=result.month), styles["title"])

    top = 2
    grid.text(top, 0, TEXT("overall"), styles["section"])
    grid.row(top + 1, 0, [TEXT(k) for k in ("feature", "holders", "holder_share", "primary", "primary_share")],
             styles["header"])
    cum = cum_cell
    total = len(tags)
    # Who holds each preference, found once: the per-group table below reuses it (a million users
    # searched once per feature, not once per feature and group).
    holders = {feature.label(lang): text.str.contains(feature.label(lang), regex=False).to_numpy(bool)
               for feature in features}
    for i, feature in enumerate(features):
        row = top + 2 + i
        label = feature.label(lang)
        held = int(holders[label].sum())
        main = int((tags["primary"] == label).sum())
        grid.text(row, 0, label)
        grid.formula(row, 1, "=" + plan.countif("tags", fx.quote(f"*{label}*")), held, styles["int"])
        grid.formula(row, 2, f'=IF({cum}>0,{grid.ref(row, 1, sheet=False)}/{cum},"")', held / total if total else None,
                     styles["pct"])
        grid.formula(row, 3, "=" + plan.countif("primary", fx.quote(label)), main, styles["int"])
        grid.formula(row, 4, f'=IF({cum}>0,{grid.ref(row, 3, sheet=False)}/{cum},"")', main / total if total else None,
                     styles["pct"])
    overall_last = top + 1 + len(features)

    top = overall_last + 3
    grid.text(top, 0, TEXT("by_group"), styles["section"])
    grid.row(top + 1, 0, [TEXT("group"), TEXT("users"), *[f.label(lang) for f in features]], styles["header"])
    for i, key in enumerate(groups):
        row = top + 2 + i
        label = segment_label(key)
        members = (tags["group"] == key).to_numpy(bool)
        size = int(members.sum())
        grid.text(row, 0, label)
        grid.formula(row, 1, "=" + count_cells[key], size, styles["int"])
        size_ref = grid.ref(row, 1, sheet=False)
        for j, feature in enumerate(features):
            flabel = feature.label(lang)
            held = int((members & holders[flabel]).sum())
            holding = plan.countifs(("group", fx.quote(label)), ("tags", fx.quote(f"*{flabel}*")))
            grid.formula(row, 2 + j, f'=IF({size_ref}>0,({holding})/{size_ref},"")',
                         held / size if size else None, styles["pct"])
    group_last = top + 1 + len(groups)
    _preference_charts(workbook, ws, grid, features, top, group_last, overall_last)
    grid.flush()


def _preference_charts(workbook: Any, ws: Any, grid: Grid, features: Any, group_top: int, group_last: int,
                       overall_last: int) -> None:
    name = grid.name
    overall = workbook.add_chart({"type": "bar"})
    overall.add_series({"name": TEXT("holder_share"), "categories": [name, 4, 0, overall_last, 0],
                        "values": [name, 4, 2, overall_last, 2], "fill": {"color": "#2E75B6"},
                        "data_labels": {"value": True, "num_format": "0%"}})
    overall.set_title({"name": TEXT("chart_overall"), "name_font": {"size": 12}})
    overall.set_legend({"none": True})
    overall.set_x_axis({"num_format": "0%", "min": 0})
    overall.set_y_axis({"reverse": True, "interval_unit": 1})
    overall.set_size({"width": 520, "height": 260})
    ws.insert_chart(1, 8, overall)

    by_group = workbook.add_chart({"type": "column"})
    palette = ["#2E75B6", "#ED7D31", "#A5A5A5", "#FFC000", "#70AD47", "#5B9BD5", "#264478", "#9E480E"]
    for j in range(len(features)):
        col = 2 + j
        by_group.add_series({"name": [name, group_top + 1, col], "categories": [name, group_top + 2, 0, group_last, 0],
                             "values": [name, group_top + 2, col, group_last, col],
                             "fill": {"color": palette[j % len(palette)]}})
    by_group.set_x_axis({"interval_unit": 1})
    by_group.set_title({"name": TEXT("chart_groups"), "name_font": {"size": 12}})
    by_group.set_y_axis({"num_format": "0%", "min": 0})
    by_group.set_legend({"position": "bottom"})
    by_group.set_size({"width": 900, "height": 320})
    ws.insert_chart(group_last + 2, 0, by_group)


def write_transitions(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the Transitions sheet (a note instead of the matrix when history lacks last month)."""
    styles, result, plan, groups = ctx.styles, ctx.result, ctx.users, ctx.groups
    grid = Grid(ws, SHEETS("transitions"))
    month = result.month
    year, mon = map(int, month.split("-"))
    prev = f"{year - (mon == 1):04d}-{12 if mon == 1 else mon - 1:02d}"
    ws.set_column(0, 0, 26)
    ws.set_column(1, 14, 12)
    grid.text(0, 0, TEXT("trans_title", prev=prev, month=month), styles["title"])
    if result.prev_tags is None or "prev_group_hist" not in plan.letters:
        grid.text(2, 0, TEXT("trans_none", prev=prev, month=month), styles["note"])
        grid.flush()
        return
    grid.text(1, 0, TEXT("trans_help"), styles["subtitle"])
    stored = result.prev_tags
    here = result.tags["group"].to_numpy()
    prev_labels = pd.Series(plan.columns[_index(plan, "prev_group_hist")].values)
    row_keys = [g for g in (*GROUPS, UNSPLIT) if (stored["group"] == g).any()]
    row_labels = [segment_label(g) for g in row_keys] + [USER_TEXT("not_in_prev")]
    gone_ids = ~stored["user_id"].isin(result.users.frame["user_id"].to_numpy())
    top = 3
    grid.row(top, 0, [TEXT("from_to"), *[segment_label(g) for g in groups], TEXT("gone"), TEXT("total")],
             styles["header"])
    ws.set_row(top, 32)
    for i, label in enumerate(row_labels):
        row = top + 1 + i
        grid.text(row, 0, label, styles["label"])
        mine = (prev_labels == label).to_numpy()
        for j, key in enumerate(groups):
            count = int((mine & (here == key)).sum())
            formula = plan.countifs(("prev_group_hist", fx.quote(label)), ("group", fx.quote(segment_label(key))))
            grid.formula(row, 1 + j, "=" + formula, count, styles["int"])
        from_key = row_keys[i] if i < len(row_keys) else None  # None: the 不在上月数据 row
        gone = int((gone_ids & (stored["group"] == from_key)).sum()) if from_key else 0
        grid.number(row, 1 + len(groups), gone, styles["int"])
        first, last = grid.ref(row, 1, sheet=False), grid.ref(row, 1 + len(groups), sheet=False)
        grid.formula(row, 2 + len(groups), f"=SUM({first}:{last})",
                     int(mine.sum()) - int((mine & ~np.isin(here, groups)).sum()) + gone, styles["total_int"])
    grid.flush()


def _index(plan: UsersPlan, key: str) -> int:
    return [c.key for c in plan.columns].index(key)
