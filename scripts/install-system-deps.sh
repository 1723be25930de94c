#!/bin/sh
# Installs the Debian packages the test suite drives for real, when missing:
# Prometheus and Alertmanager (end-to-end tests), Chromium and its driver (console tests).
set -e
# Redmine for the ticket-sync end-to-end tests (its own idempotent install step).
if [ "$(id -u)" = 0 ]; then
  bash "$(dirname "$0")/../tests/e2e/redmine-test-server.sh" install >/dev/null 2>&1 ||
    echo "Redmine could not be installed; the ticket-sync tests will be skipped" >&2
fi
need=""
command -v prometheus-alertmanager >/dev/null 2>&1 || need="$need prometheus-alertmanager"
command -v prometheus >/dev/null 2>&1 || need="$need prometheus"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v chromedriver >/dev/null 2>&1 || need="$need chromium-driver"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$need (run as root: apt-get install --no-install-recommends$need)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need >/dev/null
# The packages enable services that listen on 0.0.0.0:9090/9093; tests start their own.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now prometheus prometheus-alertmanager >/dev/null 2>&1 || true
fi
