#!/usr/bin/env bash
# Installs what `make run` / `make test` need on a fresh Debian machine as root, skipping
# whatever is already present so that reruns take a second.
set -euo pipefail

APT_PACKAGES=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libxdo-dev libssl-dev build-essential pkg-config file
  webkit2gtk-driver xvfb xauth dbus dbus-x11 gnome-keyring libsecret-1-dev
  libsecret-tools dunst x11-utils keyutils openssh-client imagemagick
  postgresql openssl curl rsyslog rsyslog-gnutls
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
