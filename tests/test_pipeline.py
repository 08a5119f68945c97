"""End to end on the bundled sample months: read -> tag -> record -> write, then read the workbook back."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tagger.errors import InputError
from tagger.metrics import identity_residual
from tagger.pipeline import TagOptions, month_from_name, run
from tagger.segments import UNSPLIT


def tag(path: Path, tmp_path: Path, **kw) -> object:
    kw.setdefault("history", tmp_path / "h.sqlite")
    kw.setdefault("output", tmp_path / f"{path.stem}_out.xlsx")
    return run(TagOptions(export=path, **kw))


def test_three_months_in_sequence_fill_in_every_segment(samples: Path, tmp_path: Path) -> None:
    may = tag(samples / "car_app_2024-05.xlsx", tmp_path)
    assert may.prev_source == "none"
    assert may.metrics.unsplit > 0 and all(v is None for v in may.metrics.rates.values())

    june = tag(samples / "car_app_2024-06.xlsx", tmp_path)
    july = tag(samples / "car_app_2024-07.xlsx", tmp_path)
    for result in (june, july):
        assert result.prev_source == "history"
        assert result.metrics.unsplit == 0
        assert all(v is not None for v in result.metrics.rates.values())
        assert identity_residual(result.metrics) == 0
    assert [m.month for m in july.trend] == ["2024-05", "2024-06", "2024-07"]
    # the sample population is built around an ~80 % monthly active rate
    assert 0.75 < july.metrics.active_rate < 0.85


def test_prev_active_column_and_history_agree(samples: Path, tmp_path: Path) -> None:
    """The csv carries 上次活跃时间; the xlsx path learns the same from the June import."""
    tag(samples / "car_app_2024-06.xlsx", tmp_path)
    from_history = tag(samples / "car_app_2024-07.xlsx", tmp_path)
    from_column = tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False)
    assert from_column.prev_source == "export"
    assert from_column.metrics.segments == from_history.metrics.segments
    assert from_column.metrics.rates == from_history.metrics.rates
    joined = from_history.tags["segment"].to_numpy() == from_column.tags["segment"].to_numpy()
    assert joined.all()


def test_written_workbook_round_trip(samples: Path, tmp_path: Path) -> None:
    result = tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False)
    book = openpyxl.load_workbook(result.output, data_only=True)  # computed cells are formulas with cached values
    assert book.sheetnames == ["总览", "目标拆解", "用户明细", "新用户", "上月新用户", "活跃用户", "唤醒用户",
                               "回流用户", "休眠用户", "流失-有开车", "流失-无开车", "偏好分析", "分群流转", "触达跟踪",
                               "参数", "说明"]
    users = book["用户明细"]
    header = [c.value for c in users[1]]
    source = pd.read_csv(samples / "car_app_2024-07.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert header[: len(source.columns)] == list(source.columns)
    assert header[len(source.columns): len(source.columns) + 4] == ["用户分群", "分群细分", "偏好标签", "主偏好"]
    assert users.max_row == len(source) + 1
    assert users.freeze_panes == "B2"
    assert users.auto_filter.ref.startswith("A1:")
    ids = [row[0].value for row in users.iter_rows(min_row=2, max_row=6)]
    assert ids == source["用户ID"].head(5).tolist()
    assert all(isinstance(i, str) and len(i) == 18 for i in ids)
    assert users.cell(2, header.index("注册时间") + 1).is_date
    segments = [row[0].value for row in users.iter_rows(min_row=2, min_col=len(source.columns) + 1,
                                                          max_col=len(source.columns) + 1)]
    assert pd.Series(segments).value_counts()["活跃用户"] == result.metrics.segments["active"]
    # nicknames that look like formulas stay text
    nick_col = header.index("昵称") + 1
    risky = [c.value for (c,) in users.iter_rows(min_row=2, min_col=nick_col, max_col=nick_col)
             if isinstance(c.value, str) and c.value.startswith("=")]
    assert risky and all(c for c in risky)
    overview = book["总览"]
    labels = {row[0].value: row for row in overview.iter_rows() if row[0].value}
    assert labels["当月活跃用户 (MAU)"][1].value == result.metrics.mau
    assert labels["老用户次月留存率"][3].value == pytest.approx(result.metrics.rates["old_retention"])


def test_english_labels(samples: Path, tmp_path: Path) -> None:
    result = tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False, lang="en")
    book = openpyxl.load_workbook(result.output, read_only=True)
    assert book.sheetnames[:3] == ["Overview", "Forecast", "Users"]
    assert book.sheetnames[-3:] == ["Channel reach", "Parameters", "Notes"]
    assert "Segment" in [c.value for c in next(book["Users"].iter_rows(max_row=1))]


def test_month_from_file_name_and_flag(samples: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "export.csv"
    shutil.copy(samples / "car_app_2024-07.csv", renamed)
    assert tag(renamed, tmp_path, use_history=False).month == "2024-07"  # latest activity
    assert tag(renamed, tmp_path, use_history=False, month="2024-08").month == "2024-08"
    with pytest.raises(InputError, match="--month"):
        month_from_name(Path("users_2024-06_vs_2024-07.xlsx"))


def test_existing_output_is_backed_up_not_lost(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"someone's edits")
    tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False, output=out)
    backups = list((tmp_path / "backups").glob("out.*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == b"someone's edits"
    assert openpyxl.load_workbook(out).sheetnames


def test_output_never_replaces_the_input(samples: Path, tmp_path: Path) -> None:
    copy = tmp_path / "car_app_2024-07.xlsx"
    shutil.copy(samples / "car_app_2024-07.xlsx", copy)
    before = copy.read_bytes()
    with pytest.raises(Exception, match="输入文件"):
        tag(copy, tmp_path, use_history=False, output=copy)
    assert copy.read_bytes() == before


def test_unsplit_users_are_labelled_as_unknown(samples: Path, tmp_path: Path) -> None:
    result = tag(samples / "car_app_2024-06.xlsx", tmp_path, use_history=False)
    assert (result.tags["segment"] == UNSPLIT).sum() == result.metrics.unsplit > 0
    assert any("上月状态" in note for note in result.notes)


def counted_history(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often a run opens a history store and checks it (``PRAGMA quick_check``), counted on the real class."""
    from tagger.history import HistoryStore

    counts = {"opened": 0, "checked": 0}
    real_init, real_verify = HistoryStore.__init__, HistoryStore.verify

    def opening(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counts["opened"] += 1
        real_init(self, *args, **kwargs)

    def checking(self):  # type: ignore[no-untyped-def]
        counts["checked"] += 1
        real_verify(self)

    monkeypatch.setattr(HistoryStore, "__init__", opening)
    monkeypatch.setattr(HistoryStore, "verify", checking)
    return counts


def test_a_run_opens_its_history_once(samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tagger.history import HistoryStore

    tag(samples / "car_app_2024-06.xlsx", tmp_path)  # an existing history, so opening it runs quick_check
    counts = counted_history(monkeypatch)
    july = tag(samples / "car_app_2024-07.xlsx", tmp_path)
    assert counts == {"opened": 1, "checked": 1}  # stored, labels applied and the workbook remembered on one
    with HistoryStore(tmp_path / "h.sqlite") as store:
        assert [r.month for r in store.imports()] == ["2024-06", "2024-07"]
        newest = store.newest_workbook()
    assert newest is not None and newest["run"] == july.run_id and newest["written"] == july.written_at
    props = {p.name: p.value for p in openpyxl.load_workbook(july.output, read_only=True).custom_doc_props.props}
    assert props["tagger_run"] == july.run_id and props["tagger_written"] == july.written_at


def test_a_run_speaks_its_language_and_gives_the_callers_back(samples: Path, tmp_path: Path) -> None:
    from tagger.check import check_export
    from tagger.i18n import get_language, set_language

    set_language("zh")
    english = tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False, lang="en")
    assert english.lang == "en" and get_language() == "zh"
    assert openpyxl.load_workbook(english.output, read_only=True).sheetnames[0] == "Overview"
    assert english.notes[0] == "last month's state comes from the export's '上次活跃时间' column"

    (tmp_path / "tagger.toml").write_text('[project]\nlanguage = "en"\n', encoding="utf-8")  # the cwd's config
    from_config = tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False, write=False)
    assert from_config.lang == "en" and from_config.output is None and get_language() == "zh"
    report = check_export(TagOptions(export=samples / "car_app_2024-07.csv", use_history=False))
    assert report.ok and report.prev_state == "the export's '上次活跃时间' column"
    assert get_language() == "zh"
    chinese = tag(samples / "car_app_2024-07.csv", tmp_path, use_history=False, write=False, lang="zh")
    assert chinese.lang == "zh" and chinese.notes[0] == "上月状态取自导出中的“上次活跃时间”列"
