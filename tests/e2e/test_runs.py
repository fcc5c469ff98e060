"""Issue 8: the example playbook runs end to end from the UI. An Admin installs it from the
Agents & runs screen; an Operator starts it; the run drafts the update and waits for approval;
an Approver approves in the inbox; the desktop app's runtime worker resumes the run, which sends
the email to a real SMTP server on loopback and completes; the draft is readable in the UI, and
the mailbox holds exactly one message."""

import mailbox
import socket
import subprocess
import sys
import time

import pytest
from selenium.webdriver.common.by import By

from conftest import ADMIN_PASSWORD, cli

OSCAR_PASSWORD = "oscar password 4242"
ANN_PASSWORD = "ann password 4242"
NOTES = "Shipped the v2 dashboard; fixed the login bug."


@pytest.fixture
def smtp(tmp_path):
    """A loopback SMTP server (aiosmtpd) delivering into a Maildir: (port, mailbox path)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    maildir = tmp_path / "mail"  # created by the server
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            assert server.poll() is None, "the SMTP server exited"
            assert time.monotonic() < deadline, "the SMTP server did not start"
            # Poll interval while the server starts; the deadline above bounds the wait.
            time.sleep(0.05)
    yield port, maildir
    server.terminate()
    server.wait(10)


def switch_user(app, username: str, password: str):
    app.click("sign-out")
    app.sign_in(username, password)
    app.wait_text("home-username", username)


def test_the_example_playbook_runs_from_the_ui_through_approval_to_one_email(app_factory, home, monkeypatch, smtp):
    port, maildir = smtp
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")
    monkeypatch.setenv("OSCAR_PASSWORD", OSCAR_PASSWORD)
    monkeypatch.setenv("ANN_PASSWORD", ANN_PASSWORD)
    admin = {"user": "alice", "password": ADMIN_PASSWORD}
    cli(home, "user", "add", "oscar", "--password-env", "OSCAR_PASSWORD", **admin)
    cli(home, "user", "add", "ann", "--password-env", "ANN_PASSWORD", **admin)
    cli(home, "member", "add", "oscar", "--role", "operator", **admin)
    cli(home, "member", "add", "ann", "--role", "approver", **admin)
    for tool in ("memory", "draft", "email"):
        cli(home, "tool", "enable", tool, **admin)
    cli(home, "tool", "config", "email", "host=127.0.0.1", f"port={port}", "tls=none", "from=agents@acme.test", **admin)
    cli(home, "memory", "set", "client-notes", NOTES, **admin)
    cli(home, "memory", "set", "client-email", "carol@client.test", **admin)

    # The Admin installs the example from the screen.
    app.click("nav-runs")
    app.wait_css('[data-testid="install-example"][data-name="weekly-client-update"]').click()
    app.wait_css('[data-testid="agent-row"][data-name="weekly-client-update"]')
    assert app.find_all("memory-row"), "the memory entries are listed"

    # The Operator starts it; the worker drives it to the approval it needs.
    switch_user(app, "oscar", OSCAR_PASSWORD)
    app.click("nav-runs")
    app.select("run-agent", "weekly-client-update")
    app.fill("run-task", "Client Co")
    app.click("run-start")
    detail = app.wait_css('[data-testid="run-detail"][data-status="waiting_approval"]', timeout=30)
    run_id = detail.get_attribute("data-id")
    kinds = [s.get_attribute("data-kind") for s in app.find_all("timeline-step")]
    assert kinds[:6] == ["tool_call", "result", "tool_call", "result", "tool_call", "result"], kinds
    assert kinds[-1] == "decision", kinds
    assert app.find("run-drafts").text.startswith("Weekly update: Client Co")
    app.screenshot("runs-waiting-for-approval")
    # Nobody approves their own run's request.
    app.click("nav-approvals")
    app.wait_css('[data-testid="approval-row"][data-can-decide="false"]')
    assert app.find_all("approvals-badge") == []

    # The Approver approves it in the inbox.
    switch_user(app, "ann", ANN_PASSWORD)
    app.wait_text("approvals-badge", "1")
    app.click("nav-approvals")
    row = app.wait_css('[data-testid="approval-row"][data-can-decide="true"]')
    row.find_element(By.CSS_SELECTOR, '[data-testid="approval-open"]').click()
    app.wait("approval-detail")
    assert "carol@client.test" in app.find("approval-recipients").text
    assert app.find("approval-subject").text == "Weekly update: Client Co"
    app.click("approval-approve")
    app.wait_text("approval-outcome", "approved")

    # The worker resumes the run: the email goes out once and the run completes.
    app.click("nav-runs")
    app.wait_css(f'[data-testid="run-row"][data-id="{run_id}"] [data-testid="run-open"]').click()
    app.wait_css(f'[data-testid="run-detail"][data-id="{run_id}"][data-status="completed"]', timeout=30)
    outcome = app.find("run-outcome").text
    assert "sent to carol@client.test" in outcome, outcome
    kinds = [s.get_attribute("data-kind") for s in app.find_all("timeline-step")]
    assert kinds[-1] == "finish", kinds
    app.wait_css('[data-testid="run-draft"][data-key="weekly-update"]').click()
    draft = app.wait("draft-body")
    assert NOTES in draft.text and "Client Co" in draft.text, draft.text
    app.driver.execute_script("arguments[0].scrollIntoView()", app.find("draft-view"))
    app.screenshot("runs-completed-with-draft")

    messages = list(mailbox.Maildir(maildir, create=False))
    assert len(messages) == 1, [m["Subject"] for m in messages]
    assert messages[0]["To"] == "carol@client.test"
    assert messages[0]["Subject"] == "Weekly update: Client Co"
    assert NOTES in messages[0].get_payload(decode=True).decode()
