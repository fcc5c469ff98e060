#!/usr/bin/env bash
# Runs the desktop end-to-end suite: the real app under Xvfb, in its own D-Bus session with a
# real Secret Service (gnome-keyring), driven through tauri-driver + WebKitWebDriver.
# Usage: tests/e2e/run.sh [pytest args…]; screenshots go to test-output/e2e/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$root/scripts/keyring-session.sh" "$here/session.sh" "$@"
