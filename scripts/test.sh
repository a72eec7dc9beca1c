#!/usr/bin/env bash
# `npm test`: install and start what is needed, then run every suite
# (vitest: unit + integration; Playwright: e2e in Debian's chromium) and end
# with one line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p .faultline/test
passed=0; failed=0; status=0

echo "== vitest (unit + integration)"
npx vitest run --reporter=default --reporter=json --outputFile.json=.faultline/test/vitest.json
vs=$?
if [ -f .faultline/test/vitest.json ]; then
  read -r p f < <(node -e 'const r=require("./.faultline/test/vitest.json");console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTests||0))')
  passed=$((passed + p)); failed=$((failed + f))
  # a suite that failed to load counts as a failure even when it holds no test
  if [ "$vs" != 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
else
  failed=$((failed + 1))
fi
[ "$vs" = 0 ] || status=1

if [ -f playwright.config.ts ] && [ "${FAULTLINE_SKIP_E2E:-0}" != 1 ]; then
  echo "== playwright (e2e)"
  rm -f .faultline/test/e2e.json
  PLAYWRIGHT_JSON_OUTPUT_NAME=.faultline/test/e2e.json npx playwright test --reporter=list,json
  es=$?
  if [ -f .faultline/test/e2e.json ]; then
    read -r p f < <(node -e 'const r=require("./.faultline/test/e2e.json");const s=r.stats||{};console.log(s.expected||0,(s.unexpected||0)+(s.flaky?0:0))')
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$es" != 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
  else
    failed=$((failed + 1))
  fi
  [ "$es" = 0 ] || status=1
fi

echo "$passed passed, $failed failed"
exit $status
