#!/usr/bin/env bash
# Weekly (or daily) refresh for cron: re-tag the newest export in a folder and carry forward
# every edit made in the newest tagged workbook there.
#
#   scripts/weekly_refresh.sh DIR [any `tagger refresh` option ...]
#
# crontab, every Monday at 07:00:
#   0 7 * * 1  /opt/tagger/scripts/weekly_refresh.sh /data/exports --config /data/exports/tagger.toml
#
# - picks the newest export in DIR (Excel's ~$ owner files and *_tagged.xlsx are skipped) and the
#   newest *_tagged.xlsx as the workbook whose edits are carried;
# - appends to DIR/tagger-refresh.log (or $TAGGER_LOG);
# - never runs twice at once: `tagger refresh --auto` holds an flock on DIR/.tagger-refresh.lock
#   for the whole run, and a second run exits with code 3 and one line saying so;
# - exits non-zero on any failure (2 bad input or config, 3 already running, 1 anything else).
#
# TAGGER names the command to run (default: `tagger` if it is on PATH, else `python3 -m tagger`).
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: $0 DIR [tagger refresh options...]" >&2
    exit 2
fi
dir=$1
shift
if [[ ! -d "$dir" ]]; then
    echo "weekly_refresh: folder not found: $dir" >&2
    exit 2
fi

if [[ -n "${TAGGER:-}" ]]; then
    read -r -a tagger <<<"$TAGGER"
elif command -v tagger >/dev/null 2>&1; then
    tagger=(tagger)
else
    tagger=(python3 -m tagger)
fi
log=${TAGGER_LOG:-$dir/tagger-refresh.log}

umask 077  # the workbooks and the log hold user data
exec "${tagger[@]}" refresh --auto "$dir" --log "$log" --quiet "$@"
