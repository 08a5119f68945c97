"""The comments of the shipped presets, in Chinese for the copy ``tagger init`` puts beside ``tagger.toml``.

The presets are written once, with English comments; a project copies one to
edit features, channels and playbooks, and its people read Chinese. Each
comment block of a preset is a text here (``en`` exactly as in the preset),
so the copy is the same TOML with its comments in the project's language.
tests/test_init.py checks that every block of every preset has its entry.
"""

from __future__ import annotations

from tagger.i18n import Catalog

TEXT = Catalog(
    "preset_comments",
    {
        "car_app_intro": {
            "en": "tagger preset: car-owner app (the case of the source article).\n"
                  "Copy this file to your project as tagger.toml (or run `tagger init`) and edit any part;\n"
                  "a project's tagger.toml only needs the keys it changes.",
            "zh": "tagger 预设：车主 APP（原文的案例）。\n"
                  "把这个文件复制到项目中作为 tagger.toml（或运行 `tagger init`），任何部分都可以改；\n"
                  "项目的 tagger.toml 只需要写它要改的键。",
        },
        "target": {
            "en": "Monthly active rate the team is measured on (月活率 = 当月活跃用户 / 平台累计用户).",
            "zh": "团队考核的月活率目标（月活率 = 当月活跃用户 / 平台累计用户）。",
        },
        "churn": {
            "en": "A user who has not been active for this many calendar months is 流失 (churned);\n"
                  "fewer than that (but inactive this month) is 休眠 (dormant). The source article uses 2.",
            "zh": "连续这么多个自然月没有活跃的用户算流失；\n"
                  "不到这个月数（但本月不活跃）算休眠。原文用 2。",
        },
        "threshold": {
            "en": "A feature is a preference when it makes up at least this share of the user's\n"
                  "usage over the last three months.",
            "zh": "某个功能在该用户近三个月使用次数中的占比达到这个值，就算该用户的偏好。",
        },
        "keep_months": {
            "en": "How many months of per-user history to keep for trends and transitions.",
            "zh": "为趋势和状态转移保留多少个月的逐用户历史。",
        },
        "car_app_playbook": {
            "en": "The playbook: strategies per group (seed 三、策略制定). Each row names the group it serves, "
                  "the rate\n"
                  "it should move (goal: active_rate, old_retention, new_retention, awaken_rate, return_rate), the "
                  "channel\n"
                  "(a key from [[channels]]), what is sent, how often, who owns it and its status (planned, running, "
                  "done,\n"
                  "paused). `preference` (a feature key) narrows a row to users with that main preference; each user "
                  "on a\n"
                  "group sheet is suggested the most specific row. Texts are one string or { zh = \"…\", en = \"…\" }.",
            "zh": "策略表：每个分群的策略（原文 三、策略制定）。每行写明服务的分群、要拉动的比率\n"
                  "（goal：active_rate、old_retention、new_retention、awaken_rate、return_rate）、渠道\n"
                  "（[[channels]] 中的 key）、发送什么、频率、负责人和状态（planned、running、done、paused）。\n"
                  "`preference`（功能的 key）把一行限定给主偏好是该功能的用户；分群表上的每个用户\n"
                  "会被推荐最具体的那一行。文字写成一个字符串，或 { zh = \"…\", en = \"…\" }。",
        },
        "car_app_rules": {
            "en": "Default trigger rules (tagger.rules): the seed's scenes "
                  "\"用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容\",\n"
                  "one per play of the groups that have stopped using the app. `tagger contacts` writes one list per "
                  "channel\n"
                  "from them, and 预警 and the group sheets suggest their channel. A project's own [[rules]] in "
                  "tagger.toml\n"
                  "replace this whole list (they are never merged with it); `rules = []` there switches rules off.",
            "zh": "默认触发规则（tagger.rules）：原文的场景“用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容”，\n"
                  "已停止使用 APP 的分群每条策略对应一条。`tagger contacts` 按它们为每个渠道写出一份名单，\n"
                  "预警和分群表也按它们推荐渠道。项目 tagger.toml 中自己的 [[rules]] 会整体替换这个列表\n"
                  "（从不合并）；在那里写 `rules = []` 则关闭规则。",
        },
        "ecommerce_intro": {
            "en": "tagger preset: e-commerce app. Buyers come back on a longer cycle, so a user is\n"
                  "only 流失 (churned) after three calendar months without activity.",
            "zh": "tagger 预设：电商 APP。买家回购的周期更长，所以用户连续三个自然月没有活跃才算流失。",
        },
        "playbook_see_car_app": {
            "en": "The playbook: strategies per group; see car_app.toml for the fields.",
            "zh": "策略表：每个分群的策略；各字段的含义见 car_app.toml。",
        },
        "ecommerce_rules": {
            "en": "Default trigger rules (tagger.rules): the seed's scenes "
                  "\"用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容\",\n"
                  "one per play of the groups that have stopped buying. `tagger contacts` writes one list per channel "
                  "from\n"
                  "them, and 预警 and the group sheets suggest their channel. A project's own [[rules]] in "
                  "tagger.toml\n"
                  "replace this whole list (they are never merged with it); `rules = []` there switches rules off.",
            "zh": "默认触发规则（tagger.rules）：原文的场景“用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容”，\n"
                  "已停止购买的分群每条策略对应一条。`tagger contacts` 按它们为每个渠道写出一份名单，\n"
                  "预警和分群表也按它们推荐渠道。项目 tagger.toml 中自己的 [[rules]] 会整体替换这个列表\n"
                  "（从不合并）；在那里写 `rules = []` 则关闭规则。",
        },
        "social_intro": {
            "en": "tagger preset: social app. Attention moves fast: one calendar month without\n"
                  "activity already counts as 流失 (churned), so there is no 休眠 (dormant) stage\n"
                  "and every user who comes back after a silent month is 回流 (returned).",
            "zh": "tagger 预设：社交 APP。注意力转移得快：一个自然月没有活跃就算流失，\n"
                  "所以没有休眠阶段，沉寂一个月后回来的用户都是回流用户。",
        },
        "social_playbook": {
            "en": "The playbook: strategies per group; see car_app.toml for the fields. With churn after one month "
                  "there is\n"
                  "no 休眠 stage, so churned users get the wake-up plays.",
            "zh": "策略表：每个分群的策略；各字段的含义见 car_app.toml。一个月就算流失，\n"
                  "没有休眠阶段，所以流失用户使用唤醒类策略。",
        },
        "social_rules": {
            "en": "Default trigger rules (tagger.rules): the seed's scenes "
                  "\"用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容\".\n"
                  "With churn after one month, a user idle for a month is already 流失, so the recall goes to them.\n"
                  "`tagger contacts` writes one list per channel from these rules, and 预警 and the group sheets "
                  "suggest\n"
                  "their channel. A project's own [[rules]] in tagger.toml replace this whole list (they are never "
                  "merged\n"
                  "with it); `rules = []` there switches rules off.",
            "zh": "默认触发规则（tagger.rules）：原文的场景“用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容”。\n"
                  "一个月就算流失，所以闲置一个月的用户已是流失用户，召回发给他们。\n"
                  "`tagger contacts` 按这些规则为每个渠道写出一份名单，预警和分群表也按它们推荐渠道。\n"
                  "项目 tagger.toml 中自己的 [[rules]] 会整体替换这个列表（从不合并）；"
                  "在那里写 `rules = []` 则关闭规则。",
        },
        "share_of": {
            "en": "What a share is taken of: \"total\" (the user's summed counts; shares add up to 1) or \"sessions\"\n"
                  "(the user's active days, column 活跃天数; shares overlap, as the article's user A).",
            "zh": "份额的分母：\"total\"（用户各项次数之和；各份额相加为 1）或 \"sessions\"\n"
                  "（用户的活跃天数，列 活跃天数；各份额可以重叠，如原文的用户 A）。",
        },
        "window": {
            "en": "\"3m\": the export's counts are three-month totals; \"month\": monthly counts, summed with the\n"
                  "last two months kept in the history.",
            "zh": "\"3m\"：导出中的次数是近三个月合计；\"month\"：每月次数，与历史库中\n"
                  "前两个月的次数相加。",
        },
        "value_layers": {
            "en": "Optional value layers beside the lifecycle (高价值活跃 / 高价值沉睡 / 潜力 / 一般), see README:\n"
                  "[value_layers]\nvalue = \"近三个月消费金额\"\nfrequency = \"近三个月参与活动次数\"\n"
                  "method = \"quantile\"\nquantile = 0.8",
            "zh": "可选：生命周期之外的价值分层（高价值活跃 / 高价值沉睡 / 潜力 / 一般），见 README：\n"
                  "[value_layers]  # 价值分层\nvalue = \"近三个月消费金额\"\nfrequency = \"近三个月参与活动次数\"\n"
                  "method = \"quantile\"  # 按分位数切分（或 \"thresholds\"：按团队设定的阈值）\n"
                  "quantile = 0.8  # 前 20 % 为高",
        },
    },
)


def comment_blocks(text: str) -> list[tuple[int, int, str]]:
    """(first line, end line, text without ``# ``) of each run of whole-line comments in ``text``."""
    lines = text.split("\n")
    blocks: list[tuple[int, int, str]] = []
    start: int | None = None
    for index, line in enumerate([*lines, ""]):
        if line.startswith("#") and start is None:
            start = index
        elif not line.startswith("#") and start is not None:
            body = "\n".join(row[2:] if row.startswith("# ") else row[1:] for row in lines[start:index])
            blocks.append((start, index, body))
            start = None
    return blocks


def localize_comments(text: str, lang: str) -> str:
    """``text`` (a preset) with each known comment block in ``lang``; values and unknown comments unchanged."""
    by_english = {texts["en"]: key for key, texts in TEXT.texts.items()}
    lines = text.split("\n")
    for start, end, body in reversed(comment_blocks(text)):
        key = by_english.get(body)
        if key is not None:
            lines[start:end] = [f"# {row}" for row in TEXT(key, lang=lang).split("\n")]
    return "\n".join(lines)
