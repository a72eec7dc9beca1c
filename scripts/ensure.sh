#!/usr/bin/env bash
# Shared by `npm run demo` and `npm test`: install what is missing (npm deps,
# redis-server, postgresql, chromium from Debian) and start Postgres and Redis
# when they are not running. Idempotent and quiet when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[2m[ensure]\033[0m %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: install $* yourself"; return 1
  fi
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  log "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then need_apt+=(postgresql); fi
if [ "${FAULTLINE_SKIP_BROWSER:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ "${FAULTLINE_SKIP_PROMTOOL:-0}" != 1 ] && ! command -v promtool >/dev/null 2>&1; then need_apt+=(prometheus); fi
if [ "${#need_apt[@]}" -gt 0 ]; then apt_install "${need_apt[@]}"; fi

# npm dependencies: reinstall when package-lock.json changed since the last install.
stamp=node_modules/.faultline-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci"
  # Install exactly the committed lock; never `npm install`, which may rewrite
  # the tracked package-lock.json. A lock npm ci refuses is a bug to fix in git.
  if ! npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>/tmp/faultline-npm-ci.log; then
    log "npm ci refused package-lock.json:"; sed -n '1,15p' /tmp/faultline-npm-ci.log >&2; exit 1
  fi
  echo "$want" > "$stamp"
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
if ! pg_up; then
  log "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    if [ -z "$ver" ]; then $SUDO pg_createcluster --start "$(ls /usr/lib/postgresql | sort -V | tail -1)" main >/dev/null; ver=$(ls /etc/postgresql | sort -V | tail -1); fi
    # trust auth on loopback, as the embedded defaults expect (postgres@127.0.0.1, no password)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if [ -f "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO pg_ctlcluster "$ver" main start
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  pg_up || { log "PostgreSQL did not start"; exit 1; }
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /tmp/faultline-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/faultline-redis --logfile /tmp/faultline-redis/redis.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
