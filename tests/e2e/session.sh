#!/usr/bin/env bash
# Inside Xvfb + dbus-run-session + keyring-session.sh: start the notification daemon, a bus monitor and
# tauri-driver, then run pytest. Everything started here is stopped on exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/test-output/e2e"
mkdir -p "$out"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for $what" >&2; return 1; fi
    sleep 0.1
  done
}

dunst >/dev/null 2>&1 & pids+=($!)
dbus-monitor --session "interface='org.freedesktop.Notifications'" > "$out/notifications.log" 2>&1 & pids+=($!)
export HEADMASTER_NOTIFICATIONS_LOG="$out/notifications.log"

tauri-driver --port 4444 --native-port 4445 > "$out/tauri-driver.log" 2>&1 & pids+=($!)
port_open() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", 4444), 0.2)'; }
wait_for 30 "tauri-driver on port 4444" port_open

cd "$root"
# The whole suite unless the arguments name test files or directories themselves.
targets=("$here")
for arg in "$@"; do
  case "$arg" in
    -*) ;;
    *) if [ -e "${arg%%::*}" ]; then targets=(); break; fi ;;
  esac
done
python3 -m pytest -p no:cacheprovider "${targets[@]}" "$@"
