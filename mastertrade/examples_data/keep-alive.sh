#!/bin/sh
# Start the MasterTrade daemon when it is not running; do nothing when it is. Exit status: 0 when the
# daemon runs afterwards, non-zero (with `mt: error: ...` on stderr) when it could not be started.
# Meant for cron (see the crontab beside it), so it relies on nothing but /bin/sh and `mt`.
# `mt daemon status` exits 0 when the daemon runs, 3 when it does not, 4 when it runs but does not
# answer (then starting a second one would not help: the status is this script's exit status).
set -u
MT=${MT:-@MT@}
code=0
$MT daemon status --json >/dev/null || code=$?
if [ "$code" -ne 3 ]; then
    exit "$code"
fi
exec $MT daemon start
