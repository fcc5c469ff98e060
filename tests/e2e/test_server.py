"""Issue 15: the desktop joins a real headmaster-server through its Server screen (URL, pin,
one-time token), its audit events arrive (the status turns online and nothing is pending, and
the server's own status holds the same last seq), the shell shows an offline badge while the
server is stopped, and sync recovers by itself when the server is back on the same port."""

import json
import os
import pathlib
import socket
import subprocess
import tempfile

from conftest import ADMIN_PASSWORD, TARGET

SERVER = pathlib.Path(os.environ.get("HEADMASTER_SERVER_BIN", TARGET / "debug" / "headmaster-server"))


class Server:
    """headmaster-server on its own data dir (SQLite) on a fixed loopback port."""

    def __init__(self, data: pathlib.Path):
        self.data = data
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = None
        self.pin = None

    def admin(self, *args: str) -> str:
        result = subprocess.run(
            [str(SERVER), "--data", str(self.data), *args], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"headmaster-server {args}: {result.stderr}"
        return result.stdout

    def up(self):
        self.process = subprocess.Popen(
            [str(SERVER), "--data", str(self.data), "serve", "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in self.process.stdout:
            if line.startswith("pin "):
                self.pin = line.split(" ", 1)[1].strip()
            if line.startswith("backend "):
                break
        assert self.pin, "the server printed no pin"

    def down(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def held(self) -> dict:
        status = json.loads(self.admin("status", "--json"))
        return {c["scope"]: c["last_seq"] for d in status["devices"] for c in d["chains"]}


def test_join_through_the_server_screen_then_offline_and_back(app_factory):
    with tempfile.TemporaryDirectory(prefix="hm-e2e-server-") as tmp:
        server = Server(pathlib.Path(tmp) / "server")
        server.up()
        try:
            token = server.admin("enroll", "create").strip()
            app = app_factory()
            app.setup()
            app.sign_in("alice", ADMIN_PASSWORD)
            app.click("nav-server")
            app.wait("server-join")
            app.fill("join-url", f"https://127.0.0.1:{server.port}")
            app.fill("join-pin", server.pin)
            app.fill("join-token", token)
            app.click("join-submit")
            app.wait("server-device-fingerprint", timeout=30)
            fingerprint = app.find("server-device-fingerprint").text
            devices = json.loads(server.admin("device", "list", "--json"))
            assert [d["fingerprint"] for d in devices] == [fingerprint]

            # The background sync uploads every chain: online, nothing pending, and the
            # server holds what the screen says was receipted.
            app.wait("online-badge", timeout=60)
            app.wait_text("server-pending", "0 events", timeout=60)
            app.screenshot("server-online")
            held = server.held()
            assert held.get("instance", 0) > 0, held

            # The server goes away: the shell shows the offline badge, local work goes on.
            server.down()
            app.wait("shell-offline-badge", timeout=60)
            app.wait("offline-badge")
            app.screenshot("server-offline")

            # Back on the same port: sync recovers without anyone asking.
            server.up()
            app.wait("online-badge", timeout=120)
            app.wait_gone("shell-offline-badge", timeout=30)
            app.wait_text("server-pending", "0 events", timeout=60)
            app.screenshot("server-recovered")
        finally:
            server.down()
