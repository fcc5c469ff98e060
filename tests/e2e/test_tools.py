"""Issue 6: an Admin enables a tool and stores a credential from the UI. The credential's value
never appears in the page — not after saving, not after the screen is read again, not after a
full reload, not in the tool configuration that refers to it — and is not on disk in clear; the
tool shows as enabled, and the CLI agrees."""

import json

from conftest import ADMIN_PASSWORD, cli

MARKER = "hunter2-marker-9d41c7e2"


def assert_marker_absent(app, where: str):
    assert MARKER not in app.driver.page_source, f"the credential value is in the page {where}"


def test_admin_enables_a_tool_and_stores_a_credential_whose_value_never_comes_back(app_factory, home):
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")

    # Tools: email.send is off until the Admin turns it on.
    app.click("nav-tools")
    row = app.wait_css('[data-testid="tool-row"][data-name="email.send"][data-enabled="false"]')
    assert "crosses" in row.find_element("css selector", '[data-testid="tool-boundary"]').text
    row.find_element("css selector", '[data-testid="tool-toggle"]').click()
    app.wait_css('[data-testid="tool-row"][data-name="email.send"][data-enabled="true"]')

    # Credentials: store one; the form forgets the value at once.
    app.click("nav-credentials")
    app.fill("credential-name", "smtp-password")
    app.fill("credential-value", MARKER)
    app.click("credential-save")
    app.wait_text("credential-saved", "Saved smtp-password")
    app.wait_css('[data-testid="credential-row"][data-name="smtp-password"]')
    assert app.find("credential-value").get_attribute("value") == ""
    assert_marker_absent(app, "after saving")
    app.screenshot("tools-credential-saved")

    # The screen read again, then the whole page reloaded: names only.
    app.click("nav-home")
    app.click("nav-credentials")
    app.wait_css('[data-testid="credential-row"][data-name="smtp-password"]')
    assert_marker_absent(app, "after reading the screen again")
    app.driver.refresh()
    app.wait_text("home-username", "alice")
    app.click("nav-credentials")
    app.wait_css('[data-testid="credential-row"][data-name="smtp-password"]')
    assert_marker_absent(app, "after a reload")

    # Email configured to use it: the form holds the reference, never the value.
    app.click("nav-tools")
    app.fill("email-host", "127.0.0.1")
    app.fill("email-port", "2525")
    app.select("email-tls", "none")
    app.fill("email-from", "agents@acme.test")
    app.fill("email-username", "agents")
    app.until(lambda: app.find("email-password-credential").find_elements("css selector", 'option[value="smtp-password"]'))
    app.select("email-password-credential", "smtp-password")
    app.click("email-save")
    app.wait("tool-config-email-saved")
    assert app.find_all("tool-config-email-error") == []
    assert "{{credential:smtp-password}}" in app.driver.page_source
    assert_marker_absent(app, "on the Tools screen")
    app.screenshot("tools-email-configured")

    # The CLI agrees: enabled, configured with the reference, the credential listed by name.
    tools = json.loads(cli(home, "--json", "tool", "list", user="alice", password=ADMIN_PASSWORD).stdout)
    email = next(a for a in tools["actions"] if a["name"] == "email.send")
    assert email["enabled"] is True
    assert tools["config"]["email"]["password"] == "{{credential:smtp-password}}"
    listed = cli(home, "--json", "credential", "list", user="alice", password=ADMIN_PASSWORD).stdout
    assert [c["name"] for c in json.loads(listed)] == ["smtp-password"]
    assert MARKER not in listed + json.dumps(tools)

    # Nothing under the data directory holds the value in clear.
    leaks = [p for p in home.rglob("*") if p.is_file() and MARKER.encode() in p.read_bytes()]
    assert leaks == [], leaks
