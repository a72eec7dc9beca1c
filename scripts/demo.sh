#!/usr/bin/env bash
# `npm run demo`: install what is missing, start Postgres/Redis, build the
# console once, start the whole stack with `faultline up` (fault proxy +
# supervised shop + worker + console), run a real experiment through the
# worker with `faultline run --use-running` (so the console shows it live),
# print where its report is; then keep the stack up for browsing until Ctrl-C
# when run from a terminal (DEMO_KEEP=0 stops at once).
#
# Steps are functions so the demo step can change without touching the rest:
#   ensure → build_console → start_stack → run_demo → keep_up → stop_stack (always, via trap)
#
# Ports: SHOP_GATEWAY_URL (8080, the shop's port block 8080..8149),
# SUPERVISOR_URL (8479), TOXIPROXY_URL (8474), CONSOLE_URL (3000).
# Override them to move the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

export SHOP_GATEWAY_URL="${SHOP_GATEWAY_URL:-http://127.0.0.1:8080}"
export SUPERVISOR_URL="${SUPERVISOR_URL:-http://127.0.0.1:8479}"
export TOXIPROXY_URL="${TOXIPROXY_URL:-http://127.0.0.1:8474}"
export CONSOLE_URL="${CONSOLE_URL:-http://127.0.0.1:3000}"
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

# The console is a Next.js production build; built once (about a minute),
# rebuilt only when it is missing. DEMO_CONSOLE=0 skips it.
build_console() {
  if [ "${DEMO_CONSOLE:-1}" = 0 ] || [ -f .next/BUILD_ID ]; then return 0; fi
  say "building the console (once, about a minute)"
  mkdir -p "$DEMO_DIR"
  if ! npm run build >"$DEMO_DIR/build.log" 2>&1; then
    echo "the console did not build (see $DEMO_DIR/build.log); the demo goes on without it"; tail -20 "$DEMO_DIR/build.log"
  fi
}

# `faultline up`: the fault proxy (embedded unless a Toxiproxy answers at
# TOXIPROXY_URL), the shop with two payments instances (one can be lost
# without losing checkouts), a worker, and the console when built.
start_stack() {
  say "starting the stack (fault proxy + shop + worker + console)"
  mkdir -p "$DEMO_DIR"
  local console_flag=""
  if [ "${DEMO_CONSOLE:-1}" = 0 ]; then console_flag="--no-console"; fi
  node --import tsx cli/main.ts up --instances payments=2 $console_flag >"$SHOP_LOG" 2>&1 &
  SHOP_PID=$!
  local deadline=$((SECONDS + 180))
  until grep -q '^faultline is up' "$SHOP_LOG"; do
    if ! kill -0 "$SHOP_PID" 2>/dev/null; then
      SHOP_PID=""
      echo "the stack did not start:"; cat "$SHOP_LOG"; return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the stack was not up within 180 s; its output so far:"; cat "$SHOP_LOG"; return 1
    fi
    sleep 0.5
  done
  sed -n '/^shop ready/,/^Ctrl-C/p' "$SHOP_LOG" | grep -v '^Ctrl-C' || true
  sed -n '/^faultline is up/,/^run an experiment/p' "$SHOP_LOG" | grep -v '^run an experiment' || true
  if [ "${DEMO_CONSOLE:-1}" != 0 ] && [ -f .next/BUILD_ID ]; then
    for _ in $(seq 1 60); do curl -s -o /dev/null "$CONSOLE_URL/login" && break; sleep 0.5; done
    say "console: $CONSOLE_URL  (sign in as operator / operator; viewer / viewer can look but not change)"
  fi
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
  # --use-running: the worker started by `faultline up` executes it, so the
  # console follows it live (the CLI prints the run's page).
  node --import tsx cli/main.ts run "$experiment" --use-running --report-dir "$report_dir" || status=$?
  # exit 1 is a verdict (the experiment failed or aborted), not a broken demo
  if [ "$status" -gt 1 ]; then echo "faultline run could not complete (exit $status)"; return "$status"; fi
  say "report: $(cd "$report_dir" && pwd)/report.html  (also report.json, junit.xml, summary.md)"
}

stop_stack() {
  if [ -n "$SHOP_PID" ] && kill -0 "$SHOP_PID" 2>/dev/null; then
    say "stopping the stack"
    kill -TERM "$SHOP_PID" 2>/dev/null || true
    # the supervisor stops its instances (SIGTERM, then SIGKILL after 5 s) and removes its proxies
    for _ in $(seq 1 80); do kill -0 "$SHOP_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$SHOP_PID" 2>/dev/null || true
  fi
  SHOP_PID=""
}

trap stop_stack EXIT
trap 'exit 130' INT TERM

# From a terminal the stack stays up so the run, its charts and logs can be
# browsed in the console; scripts and CI (no TTY, or DEMO_KEEP=0) stop at once.
keep_up() {
  if [ "${DEMO_KEEP:-1}" = 0 ] || [ ! -t 0 ] || [ ! -f .next/BUILD_ID ] || [ "${DEMO_CONSOLE:-1}" = 0 ]; then return 0; fi
  say "the stack stays up: browse $CONSOLE_URL (runs, experiments, schedules); Ctrl-C stops everything"
  while kill -0 "$SHOP_PID" 2>/dev/null; do sleep 1; done
}

ensure
build_console
start_stack
run_demo
say "done (instance logs: .faultline/logs/, stack output: $SHOP_LOG)"
keep_up
