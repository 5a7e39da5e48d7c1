#!/bin/sh
# Start the MasterTrade daemon when it is not running; do nothing when it is. Exit status: 0 when the
# daemon runs afterwards, non-zero (with `mt: error: ...` on stderr) when it could not be started.
# Meant for cron (see the crontab beside it), so it relies on nothing but /bin/sh and `mt`.
set -u
MT=${MT:-@MT@}
if $MT daemon status --json | grep -q '"running": true'; then
    exit 0
fi
exec $MT daemon start
