# Headmaster: `make run` starts the desktop app, `make test` runs every test suite.
# Both install what is missing first (Debian packages, npm packages, Python test packages,
# tauri-driver) and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# One cargo target dir, outside the clone so that CI reuses what a previous run compiled.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/headmaster/target
export HEADMASTER_DESKTOP_BIN := $(CARGO_TARGET_DIR)/debug/headmaster-desktop
export HEADMASTER_CLI_BIN := $(CARGO_TARGET_DIR)/debug/headmaster
export PATH := $(HOME)/.cargo/bin:$(PATH)

PYTHON ?= python3
RUST_TEST_PACKAGES := --workspace --exclude headmaster-bench

.PHONY: run server test deps system-deps ui-deps py-deps driver ui build test-rust test-ui test-e2e lint fmt bench clean

run: deps build
	$(HEADMASTER_DESKTOP_BIN)

# The shared server on its defaults: data under ~/.local/share/headmaster-server, SQLite,
# a self-signed certificate, https://127.0.0.1:8443.
server: system-deps
	cargo build -p headmaster-server
	$(CARGO_TARGET_DIR)/debug/headmaster-server serve

test: deps build
	@./scripts/test-all.sh

deps: system-deps ui-deps py-deps driver

system-deps:
	@./scripts/install-deps.sh

ui-deps:
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
		cd ui && npm ci --no-audit --no-fund; \
	fi

# Installs the pinned e2e packages unless exactly those versions are already there.
py-deps:
	@$(PYTHON) scripts/pinned.py tests/e2e/requirements.txt 2>/dev/null || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

driver:
	@tauri-driver --help >/dev/null 2>&1 || cargo install tauri-driver --locked --version '^2'

ui:
	cd ui && npm run build

build: ui
	cargo build -p headmaster-desktop -p headmaster-cli -p headmaster-server

# Rust tests run inside a private D-Bus session with a real Secret Service (gnome-keyring).
test-rust:
	dbus-run-session -- ./scripts/keyring-session.sh cargo test $(RUST_TEST_PACKAGES) --no-fail-fast

test-ui:
	cd ui && npx vitest run

test-e2e:
	./tests/e2e/run.sh

lint:
	cargo fmt --all -- --check
	cargo clippy $(RUST_TEST_PACKAGES) --all-targets -- -D warnings
	cd ui && npx tsc --noEmit

fmt:
	cargo fmt --all

clean:
	rm -rf ui/dist test-output
