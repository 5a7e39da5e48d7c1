#!/usr/bin/env bash
# The morning report (`mt report`): equity and its change since the last report, realised and unrealised
# P&L, the open positions with their value, the fills since the last report, drawdown against the risk
# limits, the last prices, services, jobs and alerts; sent through the configured alert targets
# ([alerts] urls). Needs the daemon running. `mt report` alone prints it without sending.
set -euo pipefail
MT=${MT:-@MT@}

$MT report --send
