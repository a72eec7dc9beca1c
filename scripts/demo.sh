#!/usr/bin/env bash
# `npm run demo`: install what is missing, start Postgres/Redis, start the
# stack (fault proxy + supervised shop), run a real experiment with
# `faultline run` and print where its report is, stop everything.
#
# Steps are functions so the demo step can change without touching the rest:
#   ensure → start_stack → run_demo → stop_stack (always, via trap)
#
# Ports: SHOP_GATEWAY_URL (8080, the shop's port block 8080..8149),
# SUPERVISOR_URL (8479), TOXIPROXY_URL (8474). Override them to move the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

export SHOP_GATEWAY_URL="${SHOP_GATEWAY_URL:-http://127.0.0.1:8080}"
export SUPERVISOR_URL="${SUPERVISOR_URL:-http://127.0.0.1:8479}"
export TOXIPROXY_URL="${TOXIPROXY_URL:-http://127.0.0.1:8474}"
DEMO_DIR=.faultline/demo
SHOP_LOG="$DEMO_DIR/shop.log"
SHOP_PID=""

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

ensure() {
  # FAULTLINE_SKIP_ENSURE=1: everything is known to be installed and running (CI images, repeated runs)
  if [ "${FAULTLINE_SKIP_ENSURE:-0}" = 1 ]; then return 0; fi
  say "checking dependencies (npm, PostgreSQL, Redis)"
  FAULTLINE_SKIP_BROWSER="${FAULTLINE_SKIP_BROWSER:-1}" FAULTLINE_SKIP_PROMTOOL="${FAULTLINE_SKIP_PROMTOOL:-1}" bash scripts/ensure.sh
}

# The fault proxy (embedded unless a Toxiproxy answers at TOXIPROXY_URL) and
# the shop: two payments instances, so one can be lost without losing checkouts.
start_stack() {
  say "starting the stack (fault proxy + shop)"
  mkdir -p "$DEMO_DIR"
  node --import tsx cli/main.ts shop up --instances payments=2 >"$SHOP_LOG" 2>&1 &
  SHOP_PID=$!
  local deadline=$((SECONDS + 180))
  until grep -q '^shop ready' "$SHOP_LOG"; do
    if ! kill -0 "$SHOP_PID" 2>/dev/null; then
      SHOP_PID=""
      echo "the shop did not start:"; cat "$SHOP_LOG"; return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the shop was not ready within 180 s; its output so far:"; cat "$SHOP_LOG"; return 1
    fi
    sleep 0.5
  done
  sed -n '/^shop ready/,/^Ctrl-C/p' "$SHOP_LOG" | sed '$d'
}

# The demo itself: a real experiment (payments latency: load, a timed fault
# on orders->payments, breaker and consistency checks) through `faultline
# run`, against the shop started above, and where its report is.
# DEMO_EXPERIMENT picks another experiment file.
run_demo() {
  local experiment="${DEMO_EXPERIMENT:-experiments/payments-latency.yaml}"
  local report_dir="$DEMO_DIR/report"
  say "running the experiment $experiment"
  local status=0
  node --import tsx cli/main.ts run "$experiment" --report-dir "$report_dir" || status=$?
  # exit 1 is a verdict (the experiment failed or aborted), not a broken demo
  if [ "$status" -gt 1 ]; then echo "faultline run could not complete (exit $status)"; return "$status"; fi
  say "report: $(cd "$report_dir" && pwd)/report.html  (also report.json, junit.xml, summary.md)"
}

stop_stack() {
  if [ -n "$SHOP_PID" ] && kill -0 "$SHOP_PID" 2>/dev/null; then
    say "stopping the stack"
    kill -TERM "$SHOP_PID" 2>/dev/null || true
    # the supervisor stops its instances (SIGTERM, then SIGKILL after 5 s) and removes its proxies
    for _ in $(seq 1 60); do kill -0 "$SHOP_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$SHOP_PID" 2>/dev/null || true
  fi
  SHOP_PID=""
}

trap stop_stack EXIT
trap 'exit 130' INT TERM

ensure
start_stack
run_demo
say "done (instance logs: .faultline/logs/, shop output: $SHOP_LOG)"
