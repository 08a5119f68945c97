"""The tagging rules as one SQL SELECT over a snapshot table, for DuckDB, Spark and other engines.

The query is generated from the same :class:`~tagger.config.Config` that ``tagger tag``
uses (features, labels, keywords, ``churn_after_months``, ``preferences.threshold``,
:data:`tagger.metrics.UNKNOWN_TOLERANCE`), so the two never drift apart. It is written
once in DuckDB's dialect and transpiled with sqlglot, raising on anything a target
cannot express. Two measured pitfalls are designed around: month differences come from
``EXTRACT`` month numbers (``year * 12 + month - 1``, as :func:`tagger.values.month_number`)
and never from ``DATE_DIFF``; tag texts use plain ``CONCAT`` of never-NULL parts and
never ``CONCAT_WS``.

The snapshot table has one row per user for month M: ``user_id``, ``register_date``,
``last_active``, ``prev_active``, ``drove``, ``usage_<feature key>`` and an optional
``top_feature``; ``[sql]`` in tagger.toml maps these names to a team's own columns. With
``[preferences] share_of = "sessions"`` it also has ``active_days``, and with ``[value_layers]``
the columns that table names (``value`` and the optional ``frequency``/``recency``), under those names.
"""

from __future__ import annotations

from tagger.config import LAYER_KEYS, Config, ValueLayers
from tagger.errors import ConfigError
from tagger.i18n import Catalog
from tagger.metrics import RATE_BASES, UNKNOWN_TOLERANCE
from tagger.registry import REGISTRY
from tagger.segments import SEGMENTS, UNSPLIT
from tagger.snapshot import default_table, snapshot_columns

DIALECTS: tuple[str, ...] = (
    "duckdb", "spark", "databricks", "hive", "trino", "clickhouse", "postgres", "mysql", "bigquery", "snowflake",
)
WHAT: tuple[str, ...] = ("users", "metrics")
# Functions whose transpiled meaning differs between engines (see the module docstring).
PITFALLS: tuple[str, ...] = ("DATE_DIFF", "DATEDIFF", "CONCAT_WS", "MONTHS_BETWEEN", "AGE(")

TEXT = Catalog(
    "sql",
    {
        "bad_dialect": {"zh": "不支持的 SQL 方言 '{name}'；可用：{available}",
                        "en": "unsupported SQL dialect '{name}'; available: {available}"},
        "bad_what": {"zh": "--what 只能是 users 或 metrics，而不是 '{name}'",
                     "en": "--what is users or metrics, not '{name}'"},
        "unsupported_window": {
            "zh": "tagger sql 不支持 [preferences] window = \"month\"："
                  "它要把本月次数加上 tagger 历史库中前两个月的次数，"
                  "而快照表只有一个月。请在快照表中写入近三个月的次数并用 window = \"3m\"，或用 tagger tag 计算偏好",
            "en": "tagger sql does not support [preferences] window = \"month\": it adds the two earlier months' "
                  "counts from tagger's history, and the snapshot table holds one month. Put three-month counts in "
                  "the snapshot and use window = \"3m\", or compute preferences with tagger tag",
        },
        "untranspilable": {"zh": "无法把查询转换为 {dialect} 方言：{reason}",
                           "en": "the query cannot be written in the {dialect} dialect: {reason}"},
    },
)


# sqlglot is imported where it is used: every ``tagger`` command start would otherwise pay ~0.15 s for it.


def _column(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _text(value: str) -> str:
    from sqlglot import exp

    return exp.Literal.string(value).sql("duckdb")


def _double(value: float) -> str:
    return f"CAST({value!r} AS DOUBLE)"


def _table(name: str) -> str:
    """A possibly qualified table name (``db.schema.users``), each part quoted."""
    return ".".join(_column(part) for part in name.split("."))


def _month(column: str) -> str:
    """Month number ``year * 12 + month - 1`` of a DATE column (NULL stays NULL)."""
    return f"(EXTRACT(YEAR FROM {column}) * 12 + EXTRACT(MONTH FROM {column}) - 1)"


def _source_cte(config: Config, table: str, month: int) -> str:
    """Month numbers, clamped as :func:`tagger.segments.assign_segments` clamps them; usage NULL -> 0."""
    cols = snapshot_columns(config)
    reg = _month(_column(cols["register_date"]))
    top = f"COALESCE(CAST({_column(cols['top_feature'])} AS VARCHAR), '')" if cols["top_feature"] else "''"
    usage = ",\n    ".join(
        f"GREATEST(COALESCE(CAST({_column(cols[f.field])} AS BIGINT), 0), 0) AS c_{f.key}" for f in config.features)
    extra = "".join(f",\n    {column}" for column in _extra_columns(config, cols))
    return (
        f"src AS (\n  SELECT\n    CAST({_column(cols['user_id'])} AS VARCHAR) AS user_id,\n"
        f"    {reg} AS reg,\n"
        f"    {_month(_column(cols['last_active']))} AS last_raw,\n"
        f"    {_month(_column(cols['prev_active']))} AS prev_raw,\n"
        f"    CAST({_column(cols['drove'])} AS BOOLEAN) AS drove,\n"
        f"    LOWER({top}) AS top_text,\n    {usage}{extra}\n"
        f"  FROM {_table(table)}\n  WHERE {reg} <= {month}\n)"
    )


def _number(column: str) -> str:
    """A count-like column as :func:`tagger.values.parse_counts` reads it: a negative value is unknown (NULL)."""
    value = f"CAST({_column(column)} AS DOUBLE)"
    return f"CASE WHEN {value} >= 0 THEN {value} END"


def _extra_columns(config: Config, cols: dict[str, str]) -> list[str]:
    """``days`` (share_of = "sessions") and ``lv``/``lf``/``lr`` (the ``[value_layers]`` columns), if configured."""
    out = []
    if config.preference_share_of == "sessions":
        out.append(f"COALESCE({_number(cols['active_days'])}, {_double(0.0)}) AS days")
    layers = config.value_layers
    if layers is not None:
        named = {"lv": layers.value, "lf": layers.frequency, "lr": layers.recency}
        out.extend(f"{_number(header)} AS {alias}" for alias, header in named.items() if header)
    return out


def _clamped_cte(month: int) -> str:
    """Registration counts as activity; a date after M still means active in M; prev outside [reg, M) is unknown."""
    return (
        "clamped AS (\n  SELECT *,\n"
        f"    LEAST(GREATEST(COALESCE(last_raw, reg), reg), {month}) AS last_m,\n"
        f"    CASE WHEN GREATEST(COALESCE(prev_raw, reg), reg) < {month}\n"
        f"      THEN GREATEST(COALESCE(prev_raw, reg), reg) END AS prev_known\n"
        "  FROM src\n)"
    )


def _lifecycle_cte(config: Config, month: int) -> str:
    """``segment``, ``user_group``, ``active``, ``idle_months``, ``prev_group``: the rules of tagger.segments."""
    k = config.churn_after_months
    return (
        "life AS (\n  SELECT *,\n"
        f"    {REGISTRY.sql_case({'month': month, 'prev_month': month - 1, 'k': k})} AS segment,\n"
        f"    CASE\n      WHEN reg >= {month} THEN ''\n      WHEN reg = {month - 1} THEN 'new'\n"
        "      WHEN prev IS NULL THEN 'unknown'\n"
        f"      WHEN {month - 1} - prev <= 0 THEN 'old_active'\n"
        f"      WHEN {month - 1} - prev < {k} THEN 'dormant'\n"
        "      ELSE 'churned' END AS prev_group\n"
        "  FROM (\n    SELECT *, CASE WHEN active THEN prev_known ELSE last_m END AS prev\n"
        f"    FROM (SELECT *, last_m = {month} AS active FROM clamped) AS a\n  ) AS p\n)"
    )


def _labels(config: Config, lang: str) -> list[str]:
    return [f.label(lang) for f in config.features]


def _preferences_cte(config: Config) -> str:
    """Shares, ``chosen_<key>`` at the threshold, and the primary key (ties to the first feature)."""
    keys = [f.key for f in config.features]
    total = " + ".join(f"c_{key}" for key in keys)
    shares = ",\n    ".join(
        f"CASE WHEN total > 0 THEN CAST(c_{key} AS DOUBLE) / CAST(total AS DOUBLE) ELSE {_double(0.0)} END "
        f"AS s_{key}" for key in keys)
    if config.preference_share_of == "sessions":
        # tagger.preferences.share_base: the user's active days when there are some, else the summed counts.
        shares = ",\n    ".join(
            f"CASE WHEN base > 0 THEN CAST(c_{key} AS DOUBLE) / base ELSE {_double(0.0)} END AS s_{key}"
            for key in keys)
        return (
            f"totals AS (\n  SELECT *, {total} AS total FROM life\n),\n"
            "based AS (\n  SELECT *, CASE WHEN days > 0 THEN days ELSE CAST(total AS DOUBLE) END AS base\n"
            "  FROM totals\n),\n"
            f"shares AS (\n  SELECT *,\n    {shares}\n  FROM based\n)"
        )
    return (
        f"totals AS (\n  SELECT *, {total} AS total FROM life\n),\n"
        f"shares AS (\n  SELECT *,\n    {shares}\n  FROM totals\n)"
    )


def _fallback_key(config: Config) -> str:
    """The first feature whose label or keyword occurs in ``top_feature`` (as :func:`match_feature`)."""
    whens = []
    for feature in config.features:
        words = [w.casefold() for w in (*feature.keywords, *feature.labels.values()) if w]
        if words:
            test = " OR ".join(f"STRPOS(top_text, {_text(w)}) > 0" for w in words)
            whens.append(f"WHEN {test} THEN {_text(feature.key)}")
    return f"CASE {' '.join(whens)} ELSE '' END" if whens else "''"


def _primary_cte(config: Config) -> str:
    keys = [f.key for f in config.features]
    chosen = ",\n    ".join(f"s_{key} >= {_double(config.preference_threshold)} AS chosen_{key}" for key in keys)
    best = f"GREATEST({', '.join(f's_{key}' for key in keys)})" if len(keys) > 1 else f"s_{keys[0]}"
    argmax = " ".join(f"WHEN s_{key} = {best} THEN {_text(key)}" for key in keys)
    return (
        "picked AS (\n  SELECT *,\n"
        f"    {chosen},\n"
        f"    CASE WHEN total > 0 THEN CASE {argmax} END ELSE {_fallback_key(config)} END AS primary_key\n"
        "  FROM shares\n)"
    )


def _quantile_cut(alias: str, q: float) -> str:
    """The ``q`` quantile of ``alias``'s known values as one of them (numpy's ``method="lower"``), 0 without any.

    :func:`tagger.value_layers.layer_cuts` takes the value at 0-based position ``floor((n - 1) * q)`` of the
    sorted values; the same double product is computed here, so the two pick the same user's value.
    """
    return (f"COALESCE(MAX(CASE WHEN {alias}_rn = FLOOR(CAST({alias}_n - 1 AS DOUBLE) * {_double(q)}) + 1 "
            f"THEN {alias} END), {_double(0.0)})")


def _layers_ctes(layers: ValueLayers) -> list[str]:
    """``value_layer`` (a key of LAYER_KEYS), the rule of :func:`tagger.value_layers.assign_layers`."""
    frequency = layers.frequency is not None
    if layers.method == "thresholds":
        value_cut, freq_cut = _double(float(layers.value_min)), _double(float(layers.frequency_min))
        ctes, source = [], "picked"
    else:
        ranked = [f"SELECT {a}, ROW_NUMBER() OVER (ORDER BY {a}) AS {a}_rn, COUNT(*) OVER () AS {a}_n "
                  f"FROM src WHERE {a} IS NOT NULL" for a in ("lv", *(["lf"] if frequency else []))]
        cuts = [f"(SELECT {_quantile_cut('lv', layers.quantile)} AS value_cut FROM ({ranked[0]}) AS rv) AS cv"]
        if frequency:
            cuts.append(f"(SELECT {_quantile_cut('lf', layers.quantile)} AS freq_cut FROM ({ranked[1]}) AS rf) AS cf")
        ctes = ["cuts AS (\n  SELECT *\n  FROM " + "\n  CROSS JOIN ".join(cuts) + "\n)"]
        value_cut, freq_cut, source = "value_cut", "freq_cut", "picked CROSS JOIN cuts"
    recent = (f"(lr IS NOT NULL AND lr <= {_double(float(layers.recency_max_days))})"
              if layers.recency is not None else "active")
    frequent = f"COALESCE(lf, {_double(0.0)}) >= {freq_cut}" if frequency else recent
    high = f"COALESCE(lv, {_double(0.0)}) >= {value_cut}"
    high_active, high_sleeping, potential, general = LAYER_KEYS
    ctes.append(
        "layered AS (\n  SELECT *,\n"
        f"    CASE WHEN {high} AND {recent} THEN '{high_active}'\n"
        f"      WHEN {high} THEN '{high_sleeping}'\n"
        f"      WHEN {frequent} THEN '{potential}'\n"
        f"      ELSE '{general}' END AS value_layer\n"
        f"  FROM {source}\n)")
    return ctes


def _tag_text(config: Config, lang: str) -> str:
    """Chosen labels joined by ``、`` with CONCAT only: a separator before a label when an earlier one was chosen."""
    keys = [f.key for f in config.features]
    labels = _labels(config, lang)
    parts = []
    for j, (key, lab) in enumerate(zip(keys, labels, strict=True)):
        if j == 0:
            parts.append(f"CASE WHEN chosen_{key} THEN {_text(lab)} ELSE '' END")
            continue
        earlier = " OR ".join(f"chosen_{k}" for k in keys[:j])
        parts.append(f"CASE WHEN chosen_{key} THEN CASE WHEN {earlier} THEN {_text('、' + lab)} "
                     f"ELSE {_text(lab)} END ELSE '' END")
    counted = f"CONCAT({', '.join(parts)})" if len(parts) > 1 else parts[0]
    fallback = " ".join(f"WHEN primary_key = {_text(k)} THEN {_text(lab)}" for k, lab in zip(keys, labels, strict=True))
    return f"CASE WHEN total > 0 THEN {counted} ELSE CASE {fallback} ELSE '' END END"


def _users_select(config: Config, lang: str, month: int) -> str:
    keys = [f.key for f in config.features]
    prefs = ",\n  ".join(
        f"CASE WHEN total > 0 THEN chosen_{key} ELSE primary_key = {_text(key)} END AS pref_{key}" for key in keys)
    primary = " ".join(f"WHEN primary_key = {_text(k)} THEN {_text(lab)}"
                       for k, lab in zip(keys, _labels(config, lang), strict=True))
    splits = REGISTRY.splits("churned")  # 是否开车 splits the churned
    return (
        "SELECT\n  user_id,\n  segment,\n"
        f"  CASE WHEN segment = 'churned' AND drove THEN '{splits[True]}'\n"
        f"    WHEN segment = 'churned' AND NOT drove THEN '{splits[False]}'\n"
        "    ELSE segment END AS user_group,\n"
        "  active,\n"
        f"  CASE WHEN segment IN ('new', '{UNSPLIT}') THEN NULL WHEN segment = 'last_month_new' THEN 0\n"
        f"    WHEN active THEN {month} - prev - 1 ELSE {month} - last_m END AS idle_months,\n"
        "  prev_group,\n"
        f"  {prefs},\n"
        f"  {_tag_text(config, lang)} AS tags,\n"
        "  primary_key,\n"
        f"  CASE {primary} ELSE '' END AS primary_label"
        + (",\n  value_layer\nFROM layered" if config.value_layers is not None else "\nFROM picked")
    )


def _metrics_select(users: str) -> str:
    """One row: segment counts, the churned split, MAU, cumulative users and the four rates (shares 0..1).

    Counts are named ``n_<name>`` inside ``counted`` and renamed at the end: ClickHouse resolves a
    name to a SELECT alias before a column, so a count called ``active`` would hide the column.
    """
    conditions = {key: f"segment = '{key}'" for key in (*SEGMENTS, UNSPLIT)}
    conditions.update({key: f"user_group = '{key}'" for key in REGISTRY.splits("churned").values()})
    conditions.update({"mau": "active", "cumulative": "TRUE", "unknown_prev": "prev_group = 'unknown'",
                       "existing": "prev_group <> ''"})
    for rate, base in RATE_BASES.items():
        conditions[f"base_{rate}"] = f"prev_group = '{base}'"
        conditions[f"kept_{rate}"] = f"prev_group = '{base}' AND active"
    counts = [f"COUNT(CASE WHEN {cond} THEN 1 END) AS n_{name}" for name, cond in conditions.items()]
    shown = [f"n_{name} AS {name}" for name in conditions if name != "existing"]
    rates = [
        f"CASE WHEN n_unknown_prev > {_double(UNKNOWN_TOLERANCE)} * n_existing OR n_base_{rate} = 0 THEN NULL\n"
        f"    ELSE CAST(n_kept_{rate} AS DOUBLE) / CAST(n_base_{rate} AS DOUBLE) END AS {rate}"
        for rate in RATE_BASES
    ]
    comma = ",\n    "
    return (
        f"counted AS (\n  SELECT\n    {comma.join(counts)}\n  FROM ({users}) AS u\n)\n"
        f"SELECT\n    {comma.join(shown)},\n"
        "    CASE WHEN n_cumulative > 0\n"
        "      THEN CAST(n_mau AS DOUBLE) / CAST(n_cumulative AS DOUBLE) END AS active_rate,\n"
        f"    {comma.join(rates)}\nFROM counted"
    )


def duckdb_sql(config: Config, month: int, *, what: str = "users", table: str | None = None,
               lang: str | None = None) -> str:
    """The query in DuckDB's dialect, the one every other dialect is transpiled from."""
    if what not in WHAT:
        raise ConfigError(TEXT("bad_what", name=what))
    if config.preference_window != "3m":
        # The monthly window sums counts from tagger's history, which a one-month snapshot table does not
        # have: refuse rather than return tags that differ from ``tagger tag``'s.
        raise ConfigError(TEXT("unsupported_window"))
    lang = lang or config.language
    ctes = [_source_cte(config, table or default_table(config), month), _clamped_cte(month),
            _lifecycle_cte(config, month), _preferences_cte(config), _primary_cte(config)]
    if config.value_layers is not None:
        ctes.extend(_layers_ctes(config.value_layers))
    users = _users_select(config, lang, month)
    if what == "users":
        return "WITH " + ",\n".join(ctes) + "\n" + users
    return "WITH " + ",\n".join(ctes) + ",\n" + _metrics_select(users)


def build_sql(config: Config, month: int, dialect: str = "duckdb", *, what: str = "users",
              table: str | None = None, lang: str | None = None, pretty: bool = True) -> str:
    """One SELECT for ``dialect``; raises :class:`ConfigError` if sqlglot cannot express it there."""
    if dialect not in DIALECTS:
        raise ConfigError(TEXT("bad_dialect", name=dialect, available=", ".join(DIALECTS)))
    import sqlglot
    from sqlglot.errors import ErrorLevel, SqlglotError

    source = duckdb_sql(config, month, what=what, table=table, lang=lang)
    try:
        tree = sqlglot.parse_one(source, read="duckdb")
        return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise ConfigError(TEXT("untranspilable", dialect=dialect, reason=str(exc).splitlines()[0])) from None


def pitfalls_in(sql: str) -> list[str]:
    """Pitfall functions that occur in ``sql`` (should be none)."""
    upper = sql.upper()
    return [name for name in PITFALLS if name in upper]
