"""Workbooks the workbook tests read: the bundled samples through history, and a hand-built export
whose rows sit on every segment boundary, flag spelling, preference tie and threshold."""

from __future__ import annotations

from pathlib import Path

from tagger.pipeline import TagOptions, TagResult, run

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

EDGE_HEADER = ("用户ID,昵称,注册时间,最近一次活跃时间,上次活跃时间,是否开车,近三个月使用最多的功能,"
               "控车次数,内容次数,社区次数,售后次数,活动次数")
# id, nickname, registered, last active, prev active, drove, top feature, 5 counts — report month 2024-07.
EDGE_ROWS = [
    ("001", "新注册", "2024-07-03 10:00:00", "2024-07-05 10:00:00", "", "是", "", "3", "7", "0", "0", "0"),
    ("002", "八月才注册", "2024-08-02 10:00:00", "2024-08-02 10:00:00", "", "是", "", "5", "5", "0", "0", "0"),
    ("003", "上月新", "2024-06-10 10:00:00", "2024-07-01 00:00:00", "2024-06-10 10:00:00", "是", "远程控车",
     "0", "0", "0", "0", "0"),
    ("004", "上月新未活跃", "2024-06-10 10:00:00", "2024-06-20 10:00:00", "2024-06-20 10:00:00", "否", "社区话题",
     "0", "0", "0", "0", "0"),
    ("005", '=HYPERLINK("http://x")', "2023-01-01 10:00:00", "2024-07-31 23:59:59", "2024-06-30 23:59:59", "是", "",
     "1", "1", "1", "1", "1"),
    ("006", "+1", "2023-01-01 10:00:00", "2024-07-02 10:00:00", "2024-05-15 10:00:00", "是", "", "0.1", "0.2",
     "0", "0", "0"),
    ("007", "@SUM(A1)", "2023-01-01 10:00:00", "2024-07-10 10:00:00", "2024-04-30 10:00:00", "否", "",
     "12次", "3", "", "", ""),
    ("008", "-1", "2021-01-01 10:00:00", "2024-07-10 10:00:00", "2022-01-01 10:00:00", "是", "", "-5", "2", "2",
     "0", "0"),
    ("009", "NA", "2024-01-01 10:00:00", "2024-07-11 10:00:00", "", "是", "", "abc", "0", "1", "0", "0"),
    ("010", "休眠", "2023-05-01 10:00:00", "2024-06-01 10:00:00", "2024-06-01 10:00:00", "是", "", "0", "0", "4",
     "0", "0"),
    ("011", "流失开车", "2023-05-01 10:00:00", "2024-05-31 10:00:00", "2024-05-31 10:00:00", "是", "", "0", "0",
     "0", "0", "0"),
    ("012", "流失不开车", "2023-05-01 10:00:00", "2023-12-01 10:00:00", "2023-12-01 10:00:00", "否", "活动",
     "0", "0", "0", "0", "0"),
    ("013", "Y", "2023-05-01 10:00:00", "2024-04-01 10:00:00", "2024-04-01 10:00:00", "Y", "", "", "", "", "", ""),
    ("014", "n", "2023-05-01 10:00:00", "2024-04-01 10:00:00", "2024-04-01 10:00:00", "n", "", "", "", "", "", ""),
    ("015", "一", "2023-05-01 10:00:00", "2024-04-01 10:00:00", "2024-04-01 10:00:00", "1", "", "", "", "", "", ""),
    ("016", "空", "2023-05-01 10:00:00", "2024-04-01 10:00:00", "2024-04-01 10:00:00", "", "", "", "", "", "", ""),
    ("017", "也许", "2023-05-01 10:00:00", "2024-04-01 10:00:00", "2024-04-01 10:00:00", "也许", "", "", "", "",
     "", ""),
    ("018", "只注册", "2024-02-01 10:00:00", "", "", "是", "", "", "", "", "", ""),
    ("019", "活跃早于注册", "2024-03-05 10:00:00", "2024-02-01 10:00:00", "2024-02-01 10:00:00", "是", "", "0",
     "0", "0", "2", "2"),
    ("020", "八月活跃", "2022-03-05 10:00:00", "2024-08-03 10:00:00", "2024-06-03 10:00:00", "是", "", "0", "0",
     "0", "9", "1"),
    ("021", "上次晚于本月", "2022-03-05 10:00:00", "2024-07-20 10:00:00", "2024-07-05 10:00:00", "是", "", "0",
     "0", "1", "0", "0"),
    ("022", "两月前", "2022-03-05 10:00:00", "2024-05-01 00:00:00", "2024-05-01 00:00:00", "否", "", "0", "0",
     "0", "0", "0"),
    ("023", "三月回流", "2022-03-05 10:00:00", "2024-07-01 00:00:00", "2024-04-01 00:00:00", "是", "", "2", "2",
     "2", "2", "2"),
]


def edge_export(folder: Path) -> Path:
    """The hand-built July export as a csv."""
    lines = [EDGE_HEADER]
    for row in EDGE_ROWS:
        lines.append(",".join('"' + v.replace('"', '""') + '"' if ("," in v or '"' in v) else v for v in row))
    path = folder / "edge_2024-07.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def three_months(folder: Path, lang: str | None = None) -> TagResult:
    """May, June and July samples imported in order into one history; returns July's run."""
    history = folder / "history.sqlite"
    result = None
    for month in ("05", "06", "07"):
        result = run(TagOptions(export=SAMPLES / f"car_app_2024-{month}.xlsx", history=history, lang=lang,
                                output=folder / f"july_{month}.xlsx"))
    assert result is not None
    return result


def edge(folder: Path, *, config: Path | None = None, lang: str | None = None, name: str = "edge.xlsx") -> TagResult:
    return run(TagOptions(export=edge_export(folder), use_history=False, config=config, lang=lang,
                          output=folder / name))


def labelled(folder: Path) -> Path:
    """The edge export tagged, three users labelled by hand in the workbook, then refreshed.

    Labels move users between groups (one onto a group no one is computed in), so the group
    sheets' counts over 生效分群 are recalculated with manual labels in play.
    """
    import openpyxl

    from tagger.refresh import RefreshOptions, refresh

    history = folder / "labels.sqlite"
    export = edge_export(folder)
    first = folder / "labelled_first.xlsx"
    run(TagOptions(export=export, history=history, output=first))
    book = openpyxl.load_workbook(first)
    ws = book["用户明细"]
    column = [c.value for c in ws[1]].index("人工标签") + 1
    typed = {"005": "休眠用户", "010": "Returned", "012": "有开车无APP活跃"}
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, 1).value in typed:
            ws.cell(row, column).value = typed[ws.cell(row, 1).value]
    book.save(first)
    output = folder / "labelled.xlsx"
    refresh(RefreshOptions(TagOptions(export=export, history=history, output=output), workbook=first))
    return output


QUARTER_MONTHS = ("2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08")
QUARTER_CONFIG = ('[forecast]\ntarget_months = ["2024-07", "2024-08", "2024-09"]\nrate_basis = "best6"\n')


def _make_samples():  # noqa: ANN202 - the generator module, loaded by path as its README says
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec and spec.loader
    module = sys.modules.get("make_samples") or importlib.util.module_from_spec(spec)
    if not hasattr(module, "simulate"):
        sys.modules["make_samples"] = module
        spec.loader.exec_module(module)
    return module


def quarter(folder: Path, users: int = 600, config: str | None = QUARTER_CONFIG) -> dict[str, TagResult]:
    """Seven simulated months (Feb–Aug 2024) tagged in order into one history, planning Q3 2024.

    June's run is the seed's plan of Q3 from the first half year; August's is the same
    quarter with two months done and one to go. Returns each month's run.
    """
    samples = _make_samples()
    frames = samples.simulate(users, list(QUARTER_MONTHS), seed=11)
    toml = None
    if config is not None:
        toml = folder / "tagger.toml"
        toml.write_text(config, encoding="utf-8")
    out: dict[str, TagResult] = {}
    for month in QUARTER_MONTHS:
        export = folder / f"export_{month}.csv"
        samples.write_csv(frames[month], export)
        out[month] = run(TagOptions(export=export, history=folder / "quarter.sqlite", config=toml,
                                    output=folder / f"quarter_{month}.xlsx"))
    return out


SESSIONS_TOML = '[preferences]\nshare_of = "sessions"\nwindow = "month"\nthreshold = 0.3\n'
SESSIONS_HEADER = "用户ID,注册时间,最近一次活跃时间,活跃天数,控车次数,社区次数,活动次数"
# Monthly counts over May-July (report month July). A is the article's user A: over the window
# control is 27 of 30 active days (90 %), community 12 (40 %), campaigns 15 (50 %): all three tags.
# B has no active days in July (the window still has 10 from history): control 5/10. C is new in July,
# 1 of 4 days each (25 %): no tag. D has counts but no active days anywhere: shares of the total.
SESSIONS_MONTHS = {
    "2024-05": ["A,2024-01-01,2024-05-20,10,9,4,5", "B,2024-01-01,2024-05-03,5,1,0,0", "D,2024-01-01,2024-05-09,,1,,"],
    "2024-06": ["A,2024-01-01,2024-06-20,10,9,4,5", "B,2024-01-01,2024-06-03,5,1,0,0"],
    "2024-07": ["A,2024-01-01,2024-07-20,10,9,4,5", "B,2024-01-01,2024-07-03,,3,,", "C,2024-07-01,2024-07-02,4,1,1,",
                "D,2024-01-01,2024-07-09,,2,1,"],
}
SESSIONS_EXPECTED = {"A": "控车偏好、社区偏好、活动偏好", "B": "控车偏好", "C": "", "D": "控车偏好"}


def sessions(folder: Path, *, months: tuple[str, ...] = ("2024-05", "2024-06", "2024-07"),
             toml: str = SESSIONS_TOML) -> TagResult:
    """Monthly exports with active days imported in order under share_of = "sessions"; returns the last run."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "tagger.toml"
    config.write_text(toml, encoding="utf-8")
    result = None
    for month in months:
        export = folder / f"monthly_{month}.csv"
        export.write_text(SESSIONS_HEADER + "\n" + "\n".join(SESSIONS_MONTHS[month]) + "\n", encoding="utf-8")
        result = run(TagOptions(export=export, config=config, history=folder / "history.sqlite",
                                output=folder / f"sessions_{month}.xlsx"))
    assert result is not None
    return result


LAYERS_TOML = '''[value_layers]
value = "近三个月消费金额"
frequency = "近三个月订单数"
recency = "距上次消费天数"
method = "thresholds"
value_min = 1000
frequency_min = 3
recency_max_days = 30

[[rules]]
name = "沉睡高价值召回"
value_layer = "高价值沉睡"
channel = "sms"
content = "专属权益"
'''
LAYERS_HEADER = "用户ID,注册时间,最近一次活跃时间,近三个月消费金额,近三个月订单数,距上次消费天数,近三个月参与活动次数"
# July export, thresholds 1000 / 3 orders / 30 days. A: high and recent. B: exactly 1000, 45 days: high,
# sleeping. C: 200 but 3 orders: potential. D: nothing filled: general. E: 999.5 (just under), 2 orders,
# recency blank: general. F: 1,234 spend as text with a thousands separator, recency exactly 30: high active.
# G: high spend, recency unreadable: sleeping.
LAYERS_ROWS = [
    "A,2024-01-01,2024-07-20,1500,5,10,0", "B,2024-01-01,2024-05-03,1000,1,45,1",
    "C,2024-01-01,2024-07-03,200,3,5,6", "D,2024-01-01,2024-07-09,,,,", "E,2024-01-01,2024-07-09,999.5,2,,4",
    'F,2024-03-01,2024-07-01,"1,234",0,30,2', "G,2023-01-01,2024-06-01,5000,9,很久,9",
]
# The quantile case: the 0.5 quantile ("lower") of spend is 1000 (of 200, 999.5, 1000, 1234, 1500, 5000) and of
# 近三个月参与活动次数 — a column tagger already reads as activity_count_3m, shared here — 2 (of 0,1,2,4,6,9);
# no recency column, so recent = active this month (A, C, D, E, F).
LAYERS_QUANTILE_TOML = ('[value_layers]\nvalue = "近三个月消费金额"\nfrequency = "近三个月参与活动次数"\n'
                        'quantile = 0.5\n')
LAYERS_QUANTILE_EXPECTED = {"A": "high_active", "B": "high_sleeping", "C": "potential", "D": "general",
                            "E": "potential", "F": "high_active", "G": "high_sleeping"}
LAYERS_EXPECTED = {"A": "high_active", "B": "high_sleeping", "C": "potential", "D": "general", "E": "general",
                   "F": "high_active", "G": "high_sleeping"}


def layers(folder: Path, *, toml: str = LAYERS_TOML, lang: str | None = None,
           name: str = "layers.xlsx") -> TagResult:
    """The value-layer export tagged without history under ``toml``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "tagger.toml"
    config.write_text(toml, encoding="utf-8")
    export = folder / "layers_2024-07.csv"
    export.write_text(LAYERS_HEADER + "\n" + "\n".join(LAYERS_ROWS) + "\n", encoding="utf-8")
    return run(TagOptions(export=export, config=config, use_history=False, lang=lang, output=folder / name))
