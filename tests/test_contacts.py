"""``tagger contacts``: lists per channel, the csv injection guard, holdouts, and campaigns in history."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from tagger.contacts import ContactOptions, assign_holdout, csv_safe, make_contacts, write_csv, write_xlsx
from tagger.history import HistoryStore
from tagger.pipeline import TagOptions

RULES = """
[[rules]]
name = "休眠召回"
segment = "dormant"
channel = "push"
content = "车辆状态提醒"

[[rules]]
name = "流失开车"
group = "churned_driving"
channel = "短信"
content = "=HYPERLINK(\\"http://x\\",\\"行车报告\\")"
"""


@pytest.fixture
def project(tmp_path: Path, samples: Path) -> tuple[Path, Path]:
    export = tmp_path / "用户明细_2024-07.csv"
    export.write_bytes((samples / "car_app_2024-07.csv").read_bytes())
    config = tmp_path / "tagger.toml"
    config.write_text(RULES, encoding="utf-8")
    return export, config


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"])
def test_csv_guard_prefixes_dangerous_text(value: str) -> None:
    assert csv_safe(value) == "'" + value


def test_csv_and_xlsx_lists_never_hold_formulas(tmp_path: Path) -> None:
    import pandas as pd

    table = pd.DataFrame({"用户ID": ["001", "=1+1"], "昵称": ["@SUM(A1)", "普通"], "备注": ["-2", None]})
    path = write_csv(table, tmp_path / "list.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert rows == [["用户ID", "昵称", "备注"], ["001", "'@SUM(A1)", "'-2"], ["'=1+1", "普通", ""]]
    book = openpyxl.load_workbook(write_xlsx(table, tmp_path / "list.xlsx"))
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells)
    assert book.active["A3"].value == "=1+1" and book.active["A2"].value == "001"


def test_holdout_is_seeded_and_per_rule() -> None:
    import pandas as pd

    picked = pd.DataFrame({"user_id": [str(i) for i in range(200)], "rule": ["a"] * 100 + ["b"] * 100})
    first = assign_holdout(picked, 0.1, seed=7)
    again = assign_holdout(picked.sample(frac=1, random_state=1), 0.1, seed=7).sort_index()
    assert first.groupby(picked["rule"]).sum().tolist() == [10, 10]
    assert first.equals(again)  # same seed, same users, whatever the row order
    assert not first.equals(assign_holdout(picked, 0.1, seed=8))


def test_contacts_end_to_end(tmp_path: Path, project: tuple[Path, Path]) -> None:
    export, config = project
    history = tmp_path / "h.sqlite"
    done = make_contacts(ContactOptions(
        tag=TagOptions(export=export, config=config, history=history), out_dir=tmp_path / "lists",
        holdout=10, seed=3, date="2024-07-20"))
    tags = done.result.tags
    dormant = int((tags["segment"] == "dormant").sum())
    driving = int((tags["group"] == "churned_driving").sum())
    by_channel = {c.channel: c for c in done.lists}
    assert by_channel["push"].users == dormant - round(dormant * 0.1)
    assert by_channel["sms"].users == driving - round(driving * 0.1)
    assert sorted(p.name for p in by_channel["push"].files) == ["2024-07-20_push.csv", "2024-07-20_push.xlsx"]

    sms_csv = next(p for p in by_channel["sms"].files if p.suffix == ".csv")
    rows = list(csv.DictReader(sms_csv.open(encoding="utf-8-sig", newline="")))
    assert {r["活动/内容"] for r in rows} == {"'=HYPERLINK(\"http://x\",\"行车报告\")"}
    assert all(r["用户ID"].isdigit() and len(r["用户ID"]) == 18 for r in rows)  # IDs keep every digit

    with HistoryStore(history) as store:
        campaigns = store.campaigns()
        assert set(campaigns["rule"]) == {"休眠召回", "流失开车"}
        assert set(campaigns["date"]) == {"2024-07-20"}
        members = store.campaign_users()
        assert int(members["holdout"].sum()) == round(dormant * 0.1) + round(driving * 0.1)
        tracking = {r["content"]: r for r in store.tracking_rows()}
        assert tracking["车辆状态提醒"]["targeted"] == by_channel["push"].users
        assert tracking["车辆状态提醒"]["group"] == "休眠用户"

    # Running again for the same day replaces that day's record instead of doubling it.
    make_contacts(ContactOptions(tag=TagOptions(export=export, config=config, history=history),
                                 out_dir=tmp_path / "lists", holdout=10, seed=3, date="2024-07-20"))
    with HistoryStore(history) as store:
        assert len(store.campaigns()) == 2


def test_contacts_cli(tmp_path: Path, project: tuple[Path, Path], run_cli) -> None:
    export, config = project
    code, out, err = run_cli("contacts", export, "--config", config, "--history", tmp_path / "h.sqlite",
                             "--out-dir", tmp_path / "lists", "--date", "2024-07-20", "--json")
    assert code == 0, err
    import json

    data = json.loads(out)
    assert {item["channel"] for item in data["lists"]} == {"push", "sms"}
    code, out, err = run_cli("contacts", export, "--no-history", "--holdout", "95")
    assert code == 2 and "--holdout" in err
