"""One strategy sheet per group (新用户 … 流失-无开车): size and trend, preference mix,
the playbook rows for the group and the group's users with a suggested channel and content.

Counts are formulas over the Users sheet; months from history are constants. The user
list is a snapshot of this run (a formula cannot list rows without dynamic arrays), and
each user is suggested the group's most specific playbook row: the one for their main
preference, else the group's general row. The playbook table is an input: the status and
channel cells have dropdowns, and ``tagger refresh`` carries edited rows forward (:func:`read`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tagger import formulas as fx
from tagger.campaigns import group_key
from tagger.columns import normalize_header
from tagger.config import PLAY_TEXTS, Config, Play
from tagger.i18n import LANGUAGES, Catalog, get_language
from tagger.metrics import segment_count
from tagger.playbook import plays_for
from tagger.segments import GROUPS, SEGMENTS
from tagger.registry import REGISTRY
from tagger.segments import label as segment_label
from tagger.vocabulary import word
from tagger.workbook.grid import Grid
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.overview import shown_groups
from tagger.workbook.params import status_label
from tagger.workbook.readback import cell_text, find, header_row
from tagger.workbook.rowxml import ColumnCells, Lazy, SheetRows
from tagger.workbook.sheet import Published, Tab
from tagger.workbook.styles import Styles
import tagger.workbook.users as users_sheet

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext

TEXT = Catalog(
    "group_sheets",
    {
        "title": {"zh": "{group}：规模、偏好与策略", "en": "{group}: size, preferences and plays"},
        "size": {"zh": "规模与趋势", "en": "Size and trend"},
        "mix": {"zh": "偏好构成（可多选）", "en": "Preference mix (a user may hold several)"},
        "playbook": {"zh": "策略打法（可编辑，状态与渠道有下拉）",
                     "en": "Playbook (editable; status and channel have dropdowns)"},
        "users": {"zh": "本群用户（{n} 人，按生效分群，本次运行的快照）",
                  "en": "Users in this group ({n}, by effective group, as of this run)"},
        "effective_note": {"zh": "本表按“{column}”统计：人工标签优先，否则为自动分群；{sheet}的官方人数仍按自动分群",
                           "en": "This sheet counts by '{column}': the manual label if any, else the computed group; "
                                 "the official numbers on {sheet} stay computed"},
        "month": word("month"),
        "count": word("users"),
        "share": {"zh": "占累计用户", "en": "Share of all users"},
        "feature": {"zh": "偏好标签", "en": "Preference"},
        "holders": word("users"),
        "holder_share": {"zh": "占本群", "en": "Share of group"},
        "goal": {"zh": "目标指标", "en": "Goal metric"},
        "strategy": {"zh": "策略", "en": "Strategy"},
        "preference": {"zh": "适用偏好", "en": "For preference"},
        "channel": word("channel"),
        "content": word("content"),
        "cadence": {"zh": "频次", "en": "Cadence"},
        "owner": {"zh": "负责人", "en": "Owner"},
        "status": {"zh": "状态", "en": "Status"},
        "all": {"zh": "全部", "en": "All"},
        "users_cut": {"zh": "；本表只放得下前 {shown} 人，完整名单请在“{sheet}”按分群细分筛选",
                      "en": "; this sheet holds the first {shown}, filter {sheet} by group for everyone"},
        "user_id": word("user_id"),
        "nickname": {"zh": "昵称", "en": "Nickname"},
        "suggested_channel": word("suggested_channel"),
        "suggested_content": word("suggested_content"),
        "no_play": {"zh": "（模板中没有该群的策略，可在上表补充）",
                    "en": "(no play for this group in the template; add one above)"},
        **REGISTRY.texts("definition", "def_"),  # what each group is, under the sheet's title
    },
)

PLAY_COLUMNS: tuple[str, ...] = ("goal", "strategy", "preference", "channel", "content", "cadence", "owner", "status")


def sheet_name(group: str) -> str:
    return SHEETS(f"g_{group}")


def suggestion(plays: Sequence[Play], preference: str) -> Play | None:
    """The play for this preference, else the group's general play, else the first."""
    for play in plays:
        if play.preference and play.preference == preference:
            return play
    general = [p for p in plays if not p.preference]
    return general[0] if general else (plays[0] if plays else None)


def play_row(play: Play, config: Config, lang: str) -> dict[str, str]:
    """A play as the texts shown in the playbook table."""
    channels = {c.key: c.label(lang) for c in config.channels}
    features = {f.key: f.label(lang) for f in config.features}
    return {
        "goal": HEADINGS(play.goal) if play.goal != "active_rate" else HEADINGS("active_rate"),
        "preference": features.get(play.preference, TEXT("all")),
        "channel": channels.get(play.channel, play.channel),
        "status": status_label(play.status),
        **{name: play.text(name, lang) for name in PLAY_TEXTS},
    }


def carried_row(row: Mapping[str, object]) -> dict[str, str]:
    """A playbook row carried from an edited workbook, keyed by field name or by heading."""
    by_heading = {TEXT(k): k for k in PLAY_COLUMNS}
    out: dict[str, str] = {}
    for key, value in row.items():
        name = key if key in PLAY_COLUMNS else by_heading.get(str(key))
        if name and value is not None:
            out[name] = str(value)
    return out


def tabs(result: TagResult) -> list[Tab]:
    """One strategy sheet per group shown on 总览."""
    return [Tab(sheet_name(group), group) for group in shown_groups(result)]


def write_group_sheet(ctx: SheetContext, ws: Any, tab: Tab) -> Published:
    """Fill one group's strategy sheet; publishes its member rows, streamed in at the end."""
    styles, result, plan, group = ctx.styles, ctx.result, ctx.users, tab.part
    lang = get_language()
    name = sheet_name(group)
    grid = Grid(ws, name)
    label = segment_label(group)
    qlabel = fx.quote(label)
    tags = result.tags
    # Membership follows the effective group (a manual label moves the user here), live
    # from 用户明细's 生效分群 column; 总览's counts stay computed.
    effective = tags["effective_group"] if "effective_group" in tags else tags["group"]
    members = np.flatnonzero((effective == group).to_numpy(bool))
    config = result.config

    for col, width in enumerate((22, 22, 14, 16, 40, 20, 14, 10)):
        ws.set_column(col, col, width)
    grid.text(0, 0, TEXT("title", group=label), styles["title"])
    grid.text(1, 0, TEXT(f"def_{group}"), styles["subtitle"])
    grid.text(2, 0, TEXT("effective_note", column=HEADINGS("effective_group"), sheet=SHEETS("overview")),
              styles["subtitle"])

    top = 3
    grid.text(top, 0, TEXT("size"), styles["section"])
    grid.row(top + 1, 0, [TEXT("month"), TEXT("count"), TEXT("share")], styles["header"])
    months = [t for t in result.trend if t.month < result.month][-11:]
    for i, t in enumerate(months):
        count = segment_count(t, group)
        grid.text(top + 2 + i, 0, t.month)
        grid.value(top + 2 + i, 1, count, styles["int"])
        grid.value(top + 2 + i, 2, count / t.cumulative if count is not None and t.cumulative else None,
                   styles["pct"])
    row = top + 2 + len(months)
    m = result.metrics
    grid.text(row, 0, m.month, styles["label"])
    grid.formula(row, 1, "=" + plan.countif("effective_group", qlabel), len(members), styles["int"])
    cum = plan.counta("user_id")
    grid.formula(row, 2, f'=IF(({cum})>0,{grid.ref(row, 1, sheet=False)}/({cum}),"")',
                 len(members) / m.cumulative if m.cumulative else None, styles["pct"])
    size_rows = len(months) + 1

    grid.text(top, 4, TEXT("mix"), styles["section"])
    grid.row(top + 1, 4, [TEXT("feature"), TEXT("holders"), TEXT("holder_share")], styles["header"])
    member_tags = tags["tags"].take(members).astype(str)
    count_ref = grid.ref(row, 1, sheet=False)
    for i, feature in enumerate(config.features):
        text = feature.label(lang)
        held = int(member_tags.str.contains(text, regex=False).sum())
        r = top + 2 + i
        grid.text(r, 4, text)
        grid.formula(r, 5, "=" + plan.countifs(("effective_group", qlabel), ("tags", fx.quote(f"*{text}*"))), held,
                     styles["int"])
        grid.formula(r, 6, f'=IF({count_ref}>0,{grid.ref(r, 5, sheet=False)}/{count_ref},"")',
                     held / len(members) if len(members) else None, styles["pct"])
    row = top + 2 + max(size_rows, len(config.features)) + 1

    row = _write_playbook(grid, ws, styles, result, group, row, lang)
    row += 1
    plays = plays_for(config, group)
    header_row = row + 1
    room = users_sheet.EXCEL_MAX_ROWS - header_row - 1
    title = TEXT("users", n=f"{len(members):,}")
    if len(members) > room:  # a sheet holds 1,048,576 rows; 用户明细 (filter 分群细分) has everyone
        title += TEXT("users_cut", shown=f"{room:,}", sheet=SHEETS("users"))
        members = members[:room]
    grid.text(row, 0, title, styles["section"])
    heads = ["user_id", "nickname", "primary", "suggested_channel", "suggested_content", "feature"]
    grid.row(header_row, 0, [TEXT(h) if h != "primary" else HEADINGS("primary") for h in heads], styles["header"])
    grid.flush()
    ws.autofilter(header_row, 0, header_row + max(len(members), 1), len(heads) - 1)
    return Published(rows=[_members(styles, result, name, members, plays, header_row + 1, lang)])


def _write_playbook(grid: Grid, ws: Any, styles: Styles, result: TagResult, group: str, row: int,
                    lang: str) -> int:
    """The playbook table with dropdowns; returns the next free row."""
    config = result.config
    grid.text(row, 0, TEXT("playbook"), styles["section"])
    grid.row(row + 1, 0, [TEXT(k) for k in PLAY_COLUMNS], styles["header_input"])
    carried = (result.carried.strategy_rows.get(group) if result.carried is not None else None) or []
    rows = [carried_row(r) for r in carried] or [play_row(p, config, lang) for p in plays_for(config, group)]
    first = row + 2
    blank_rows = 3
    for i, values in enumerate(rows):
        for col, key in enumerate(PLAY_COLUMNS):
            grid.text(first + i, col, values.get(key, ""), styles["input_text"])
    for i in range(len(rows), len(rows) + blank_rows):
        for col in range(len(PLAY_COLUMNS)):
            grid.blank(first + i, col, styles["input_text"])
    last = first + len(rows) + blank_rows - 1
    status_col, channel_col = PLAY_COLUMNS.index("status"), PLAY_COLUMNS.index("channel")
    ws.data_validation(first, status_col, last, status_col, {"validate": "list", "source": "=StatusList"})
    ws.data_validation(first, channel_col, last, channel_col, {"validate": "list", "source": "=ChannelList"})
    if not rows:
        grid.text(last + 1, 0, TEXT("no_play"), styles["subtitle"])
        return last + 2
    return last + 1


def _members(styles: Styles, result: TagResult, name: str, members: np.ndarray, plays: Sequence[Play],
             first_row: int, lang: str) -> SheetRows:
    """The group's users below the summary, as rows streamed in by :func:`rowxml.splice`.

    Only the members' row numbers are kept; each block's texts are taken from the frames
    when its XML is built, so the group sheets hold no per-user strings while waiting.
    """
    frame, tags = result.users.frame, result.tags
    channels = {c.key: c.label(lang) for c in result.config.channels}
    picks = {key: suggestion(plays, key) for key in set(tags["primary_key"].take(members).tolist())}
    played = {key: (channels.get(p.channel, p.channel), p.text("content", lang)) if p is not None else ("", "")
              for key, p in picks.items()}

    def ids(rows: np.ndarray) -> list[str]:
        return [str(v) for v in frame["user_id"].take(rows).tolist()]

    def nicknames(rows: np.ndarray) -> list[str]:
        return _texts(frame["nickname"].take(rows).tolist()) if "nickname" in frame else [""] * len(rows)

    # Trigger rules (tagger.rules, applied by refresh) name a channel and content per user; they win.
    def channel(rows: np.ndarray) -> list[str]:
        keys = tags["primary_key"].take(rows).tolist()
        return [ruled or played[key][0] for ruled, key in zip(_column(result, "channel", rows), keys, strict=True)]

    def content(rows: np.ndarray) -> list[str]:
        keys = tags["primary_key"].take(rows).tolist()
        ruled = zip(_column(result, "channel", rows), _column(result, "content", rows), keys, strict=True)
        return [text if by_rule else played[key][1] for by_rule, text, key in ruled]

    def column_of(name: str) -> Callable[[np.ndarray], list[str]]:
        return lambda rows: _texts(tags[name].take(rows).tolist())

    text = styles["text"]._get_xf_index()
    makers = [ids, nicknames, column_of("primary"), channel, content, column_of("tags")]
    cells = [ColumnCells(col, "text", _of_members(members, make), text) for col, make in enumerate(makers)]
    return SheetRows(name, first_row, len(members), cells)


def _of_members(members: np.ndarray, make: Callable[[np.ndarray], list[str]]) -> Lazy:
    """A member column made a block at a time: ``make`` is given the block's rows of the frames."""
    return Lazy(len(members), lambda start, stop: make(members[start:stop]))


def _texts(values: Sequence[object]) -> list[str]:
    return [v if isinstance(v, str) else "" for v in values]


def _column(result: TagResult, name: str, rows: np.ndarray) -> list[str]:
    """A text column of the tags for ``rows`` ("" where absent)."""
    if name not in result.tags:
        return [""] * len(rows)
    return _texts(result.tags[name].take(rows).tolist())


# --------------------------------------------------------------------------- reading it back (tagger refresh)

PLAYBOOK_SCAN_ROWS = 120
PLAYBOOK_MAX_ROWS = 500


def _sheet_group(ws: Any) -> str:
    """The group a strategy sheet is for: by its tab name, else (renamed tab) by its title cell."""
    keys = (*GROUPS, *SEGMENTS, "active_unsplit")
    by_tab = {normalize_header(SHEETS(f"g_{k}", lang)): k for k in keys for lang in LANGUAGES
              if f"g_{k}" in SHEETS.texts}
    found = by_tab.get(normalize_header(ws.title))
    if found:
        return found
    first = next(ws.iter_rows(min_row=1, max_row=1, max_col=1), ())
    title = cell_text(first[0]) if first else ""
    for sep in ("：", ":"):
        if sep in title:
            key = group_key(title.split(sep, 1)[0])
            return key if key in keys else ""
    return ""


def read(ws: Any) -> tuple[str, list[dict[str, str]]]:
    """(group, playbook rows keyed by field) of a strategy sheet; ("", []) for any other sheet.

    The playbook table is found by its headings (either language), so rows and
    columns around it may move; its rows run until the group's user list starts.
    """
    head = list(ws.iter_rows(min_row=1, max_row=PLAYBOOK_SCAN_ROWS))
    header = header_row(head, [{normalize_header(TEXT(k, lang)) for lang in LANGUAGES} for k in PLAY_COLUMNS])
    if header is None:
        return "", []
    group = _sheet_group(ws)
    if not group:
        return "", []
    index, names = header
    cols = {k: find(names, {normalize_header(TEXT(k, lang)) for lang in LANGUAGES}) for k in PLAY_COLUMNS}
    stops = {normalize_header(TEXT("users", lang, n="")).split("（")[0].split("(")[0] for lang in LANGUAGES}
    stops |= {normalize_header(TEXT("no_play", lang)) for lang in LANGUAGES}
    plays = []
    for row in ws.iter_rows(min_row=index + 2, max_row=index + 1 + PLAYBOOK_MAX_ROWS):
        first = normalize_header(getattr(row[0], "value", None)) if row else ""
        if first and any(first.startswith(stop) for stop in stops if stop):
            break
        values = {k: cell_text(row[c]) for k, c in cols.items() if c is not None and c < len(row)}
        if any(values.values()):
            plays.append(values)
    return group, plays
