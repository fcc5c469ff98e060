#!/usr/bin/env bash
# Inside a D-Bus session (dbus-run-session): start gnome-keyring's Secret Service, unlocked with a
# throwaway password and a throwaway keyring directory, wait until it owns its bus name, then
# run the given command. Tests that use the real OS keychain run under this.
set -euo pipefail
export XDG_DATA_HOME="$(mktemp -d)"
eval "$(printf 'test-keyring-password' | gnome-keyring-daemon --unlock --components=secrets)"
deadline=$((SECONDS + 20))
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
  if [ $SECONDS -ge $deadline ]; then echo "the Secret Service did not start" >&2; exit 1; fi
  sleep 0.1
done
status=0
"$@" || status=$?
# The daemon outlives the bus; stop the one that belongs to this session (same bus address).
for pid in $(pgrep -f "gnome-keyring-daemon" || true); do
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qxF "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"; then
    kill "$pid" 2>/dev/null || true
  fi
done
exit $status
