#!/usr/bin/env bash
# A short daily report built from `mt ... --json` with jq, sent through the configured alert targets
# ([alerts] urls) with `mt alerts test --message`. Needs the daemon running and jq installed.
set -euo pipefail
MT=${MT:-@MT@}

status=$($MT status --json)
# the most `mt alerts history` lists (the newest first); when every one is of the last 24 h there may be
# more, and the report says "at least"
limit=1000
alerts=$($MT alerts history --limit "$limit" --json)
# GNU date (Linux) or BSD date (macOS)
since=$(date -u -d '24 hours ago' +%FT%TZ 2>/dev/null || date -u -v-24H +%FT%TZ)

report=$(jq -r --argjson alerts "$alerts" --arg since "$since" --argjson limit "$limit" '
  "MasterTrade daily report (\(.venue.id), \(.mode) mode, up \((.uptime_s / 3600) | floor) h)",
  "",
  "Services:",
  (.services[] | "  \(.name): \(.state)" + (if .restarts > 0 then " (\(.restarts) restarts)" else "" end)),
  "",
  "Last prices:",
  (.symbols[] | "  \(.symbol): \(.price // "n/a")"),
  "",
  "Jobs:",
  (.jobs[] | select(.last_run != null) | "  \(.name): \(.last_run.outcome) at \(.last_run.started_at)"),
  "",
  ([$alerts[] | select(.created_at >= $since)] | length) as $recent
  | "Alerts in the last 24 h: " + (if $recent >= $limit then "at least " else "" end) + "\($recent)",
  ([$alerts[] | select(.created_at >= $since and .severity == "critical")][] | "  CRITICAL: \(.title)")
' <<<"$status")

$MT alerts test --message "$report" --json >/dev/null
