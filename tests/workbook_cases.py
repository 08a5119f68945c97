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
