#!/bin/sh
# Installs the Debian packages the test suite drives for real, when missing:
# Prometheus and Alertmanager (end-to-end tests), Chromium and its driver (console tests).
set -e
need=""
command -v prometheus-alertmanager >/dev/null 2>&1 || need="$need prometheus-alertmanager"
command -v prometheus >/dev/null 2>&1 || need="$need prometheus"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
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
