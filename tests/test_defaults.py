"""Out of the box: the presets' default rules, contacts and 预警 from the playbook, and 总览 numbers that add up."""

from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tagger.alerts import compute_alerts
from tagger.config import load_config
from tagger.i18n import set_language
from tagger.pipeline import TagOptions, TagResult, run
from tagger.project import ProjectSettings, render_config
from tagger.rules import load_rules
from tagger.workbook.reach import play_headline

from .workbook_cases import three_months


@pytest.fixture(scope="module")
def july(tmp_path_factory: pytest.TempPathFactory) -> TagResult:
    set_language("zh")
    return three_months(tmp_path_factory.mktemp("defaults"))


def fresh_project(tmp_path: Path, run_cli, samples: Path) -> tuple[Path, Path]:
    """``tagger init`` in an empty folder plus July's sample export."""
    code, _, err = run_cli("init", tmp_path, "--quiet")
    assert code == 0, err
    export = tmp_path / "用户明细_2024-07.xlsx"
    export.write_bytes((samples / "car_app_2024-07.xlsx").read_bytes())
    return export, tmp_path / "tagger.toml"


def list_ids(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path).active
    return [str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] is not None]


def test_contacts_on_a_fresh_project_writes_lists_from_the_default_rules(tmp_path: Path, run_cli,
                                                                         samples: Path) -> None:
    export, config = fresh_project(tmp_path, run_cli, samples)
    out = tmp_path / "lists"
    code, _, err = run_cli("contacts", export, "--config", config, "--out-dir", out, "--date", "2024-07-20",
                           "--no-history", "--lang", "zh")
    assert code == 0, err
    push, sms = out / "2024-07-20_push.xlsx", out / "2024-07-20_sms.xlsx"
    assert push.exists() and sms.exists()
    rules = {r.name for r in load_rules(load_config(config)).rules}
    sheet = openpyxl.load_workbook(sms).active
    headers = [c.value for c in sheet[1]]
    picked_by = {row[headers.index("规则")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert picked_by and picked_by <= rules
    assert len(list_ids(push)) > 0 and "[[playbook]]" not in err


def test_contacts_follow_the_playbook_when_the_config_names_no_rules(tmp_path: Path, run_cli,
                                                                     samples: Path) -> None:
    export, config = fresh_project(tmp_path, run_cli, samples)
    template = tmp_path / "car_app.toml"
    text = template.read_text(encoding="utf-8")
    before_rules = text[:text.index("[[rules]]")].rstrip()  # the copy's comments follow the project's language
    template.write_text(text[:before_rules.rindex("\n\n")], encoding="utf-8")  # an older copy, without rules
    out = tmp_path / "lists"
    code, _, err = run_cli("contacts", export, "--config", config, "--out-dir", out, "--date", "2024-07-20",
                           "--no-history", "--lang", "zh")
    assert code == 0, err
    assert "[[playbook]]" in err
    assert (out / "2024-07-20_community.xlsx").exists()  # 社区有奖话题 of the playbook's 活跃用户 rows
    assert len(list_ids(out / "2024-07-20_sms.xlsx")) > 0


def test_empty_rules_stop_contacts_with_one_line(tmp_path: Path, run_cli, samples: Path) -> None:
    export, config = fresh_project(tmp_path, run_cli, samples)
    config.write_text(config.read_text(encoding="utf-8").replace("[project]", "rules = []\n\n[project]", 1),
                      encoding="utf-8")
    code, _, err = run_cli("contacts", export, "--config", config, "--no-history", "--lang", "en")
    assert code == 2
    assert "rules = []" in err and "Traceback" not in err


def test_init_writes_the_default_rules_commented(tmp_path: Path) -> None:
    text = render_config(ProjectSettings.from_config(load_config(None, "ecommerce")))
    assert "# [[rules]]" in text and '# name = "休眠：降价提醒"' in text
    assert "rules" not in tomllib.loads(text)
    uncommented = "\n".join(line[2:] if line.startswith("# ") else line for line in
                            text[text.index("# [[rules]]"):].splitlines())
    assert len(tomllib.loads(uncommented)["rules"]) == len(load_rules(load_config(preset="ecommerce")).rules)


@pytest.mark.parametrize("rules", ["", "rules = []\n"])
def test_alerts_suggest_a_channel_for_every_user_at_risk(tmp_path: Path, samples: Path, rules: str) -> None:
    config = tmp_path / "tagger.toml"
    config.write_text(rules + '[project]\npreset = "car_app"\n', encoding="utf-8")
    result = run(TagOptions(export=samples / "car_app_2024-07.xlsx", config=config, use_history=False,
                            write=False, lang="zh"))
    alerts = compute_alerts(result)
    assert len(alerts.at_risk) > 0
    assert (alerts.at_risk["channel"] != "").all()
    assert set(alerts.at_risk["channel"]) <= {c.label("zh") for c in result.config.channels}
    assert "（无）" not in set(alerts.by_preference_channel["channel"])


def test_overview_history_rows_add_up_to_the_months_users(july: TagResult) -> None:
    sheet = openpyxl.load_workbook(july.output, data_only=True)["总览"]
    rows = list(sheet.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if row[0] == "月份")
    headers = list(rows[top])
    assert "老用户活跃(上月状态未知)" in headers
    last_group = headers.index("MAU")
    checked = 0
    for row in rows[top + 1:]:
        if not row[0] or not re.fullmatch(r"\d{4}-\d{2}", str(row[0])):
            break
        groups = [v or 0 for v in row[2:last_group]]
        assert sum(groups) == row[1], row[0]
        checked += 1
    assert checked == 3


def test_overview_bar_chart_labels_every_bar(july: TagResult) -> None:
    with zipfile.ZipFile(july.output) as zf:
        xml = zf.read("xl/charts/chart1.xml").decode("utf-8")
    assert "<c:barChart>" in xml
    category_axis = re.search(r"<c:catAx>.*?</c:catAx>", xml, re.S)
    assert category_axis is not None
    assert '<c:tickLblSkip val="1"/>' in category_axis.group(0)
    assert '<c:tickMarkSkip val="1"/>' in category_axis.group(0)
    with zipfile.ZipFile(july.output) as zf:
        drawing = zf.read("xl/drawings/drawing1.xml").decode("utf-8")
    anchors = [(int(a), int(b)) for a, b in re.findall(r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff>"
                                                    r"<xdr:row>(\d+)</xdr:row>.*?<xdr:to>.*?<xdr:row>(\d+)</xdr:row>",
                                                    drawing, re.S)]
    assert len(anchors) == 2 and anchors[0][1] <= anchors[1][0]  # the trend chart starts below the bars


def test_reach_rows_do_not_repeat_the_play_title(july: TagResult) -> None:
    sheet = openpyxl.load_workbook(july.output)["触达跟踪"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "：" in c.value]
    assert texts
    for text in texts:
        head, _, rest = text.partition("：")
        assert not rest.startswith(head), text


def test_play_headline() -> None:
    assert play_headline("流失召回活动", "流失召回活动：回归领福利") == "流失召回活动：回归领福利"
    assert play_headline("流失召回活动", "回归领福利") == "流失召回活动：回归领福利"
    assert play_headline("", "回归领福利") == "回归领福利"
