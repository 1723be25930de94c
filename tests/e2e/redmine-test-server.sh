#!/bin/bash
# Throw-away Redmine (Debian 12 packages) on 127.0.0.1 for end-to-end tests. Needs root.
#   redmine-test-server.sh install            # apt install (idempotent), ~20 s on a bare machine
#   redmine-test-server.sh start RUN [PORT]   # new SQLite DB in RUN, seed, start; prints PID
#     TEMPLATE=file.sqlite3 ... start RUN     # copy a seeded DB instead (no seed step)
#   redmine-test-server.sh stop RUN           # SIGTERM the PID in RUN/pid, wait
set -euo pipefail
API_KEY=${REDMINE_TEST_API_KEY:-0123456789abcdef0123456789abcdef01234567}
HERE=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
install)
  if [ "$(dpkg-query -W -f='${Status}' redmine thin 2>/dev/null)" = "install ok installedinstall ok installed" ]; then exit 0; fi
  apt-get update -q
  debconf-set-selections <<'SEL'
redmine redmine/current-instances string default
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
SEL
  # bookworm's ruby3.1 update ships bundler 2.3.27, which breaks redmine's
  # install step (`bundle install --local`); use ruby-bundler's version there.
  BUNDLER_VERSION=$(apt-cache show --no-all-versions ruby-bundler | sed -n 's/^Version: \([0-9.]*\).*/\1/p') \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redmine redmine-sqlite thin
  ;;
start)
  RUN=${2:?run dir}; PORT=${3:-3300}
  mkdir -p "$RUN"; rm -f "$RUN/redmine.sqlite3"
  cd /usr/share/redmine
  export RAILS_ENV=production REDMINE_LANG=en DATABASE_URL="sqlite3:$RUN/redmine.sqlite3"
  if [ -n "${TEMPLATE:-}" ]; then   # a DB saved from an earlier, stopped run: already seeded
    cp "$TEMPLATE" "$RUN/redmine.sqlite3"
  else  # the package already migrated + loaded default data into its own DB: copy it, then seed
    cp /var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default "$RUN/redmine.sqlite3"
    REDMINE_TEST_API_KEY=$API_KEY bin/rails runner "$HERE/redmine-seed.rb" > "$RUN/seed.log" 2>&1
  fi
  setsid bin/rails server -u thin -b 127.0.0.1 -p "$PORT" -P "$RUN/server.pid" > "$RUN/server.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pid"
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/issues.json")" = 401 ] && { cat "$RUN/pid"; exit 0; }
    kill -0 "$(cat "$RUN/pid")" 2>/dev/null || { cat "$RUN/server.log" >&2; exit 1; }
    sleep 0.25
  done
  echo "redmine did not come up on :$PORT" >&2; exit 1
  ;;
stop)
  RUN=${2:?run dir}; PID=$(cat "$RUN/pid")
  kill -TERM "$PID" 2>/dev/null || exit 0
  for _ in $(seq 1 40); do kill -0 "$PID" 2>/dev/null || exit 0; sleep 0.25; done
  kill -KILL "$PID" 2>/dev/null || true
  ;;
*) sed -n 2,6p "$0"; exit 2 ;;
esac
