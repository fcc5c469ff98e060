"""Issue 5: the Audit screen lists the events of this session (member changes in the workspace
chain, sign-ins in the organisation's chain), filters them by actor, verifies the chain and
exports a bundle that stock OpenSSH and sha256sum accept."""

import pathlib
import subprocess

from conftest import ADMIN_PASSWORD, cli

OSCAR_PASSWORD = "oscar password 4242"


def rows(app):
    """(actor, action) of every row shown."""
    return [(r.get_attribute("data-actor"), r.get_attribute("data-action")) for r in app.find_all("audit-row")]


def test_audit_screen_lists_filters_verifies_and_exports(app_factory, home, monkeypatch):
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")

    # Another person joins through the CLI and signs in there, so both chains hold two actors.
    monkeypatch.setenv("OSCAR_PASSWORD", OSCAR_PASSWORD)
    cli(home, "user", "add", "oscar", "--password-env", "OSCAR_PASSWORD", user="alice", password=ADMIN_PASSWORD)
    cli(home, "member", "add", "oscar", "--role", "operator", user="alice", password=ADMIN_PASSWORD)
    cli(home, "memory", "set", "client-notes", "Quarterly review", user="oscar", password=OSCAR_PASSWORD)

    # The workspace chain: the member change by alice and oscar's memory write.
    app.click("nav-audit")
    app.wait_css('[data-testid="audit-row"][data-action="member.added"][data-actor="alice"]')
    app.wait_css('[data-testid="audit-row"][data-action="memory.written"][data-actor="oscar"]')
    app.screenshot("audit-workspace-chain")

    # The organisation's chain: both sign-ins, then only oscar's rows once filtered.
    app.select("audit-scope", "instance")
    app.wait_css('[data-testid="audit-row"][data-action="auth.sign_in"][data-actor="alice"]')
    app.wait_css('[data-testid="audit-row"][data-action="auth.sign_in"][data-actor="oscar"]')
    assert ("alice", "user.created") in rows(app), rows(app)
    app.fill("audit-filter-actor", "oscar")
    app.click("audit-filter-apply")
    app.until(lambda: rows(app) and all(actor == "oscar" for actor, _ in rows(app)), message="rows of others remain")
    assert ("oscar", "auth.sign_in") in rows(app)

    # A row opens to show its source and payload.
    app.find_all("audit-expand")[0].click()
    assert "cli" in app.wait("audit-source").text
    app.screenshot("audit-filtered-by-actor")

    # Verify: progress to the end, then a valid chain.
    app.click("audit-verify")
    result = app.wait_css('[data-testid="audit-verify-result"][data-valid="true"]', timeout=60)
    assert "Valid:" in result.text
    progress = app.find("audit-verify-progress")
    assert progress.get_attribute("data-complete") == "true"
    assert app.find_all("audit-verify-first-break") == []

    # Export to the offered folder, a new one in the data directory: progress, then the bundle,
    # which OpenSSH and sha256sum accept.
    offered = app.until(lambda: app.find("audit-export-path").get_attribute("value"))
    bundle = pathlib.Path(offered)
    assert bundle.parent == home and bundle.name.startswith("audit-organisation-"), offered
    assert not bundle.exists()
    app.click("audit-export")
    app.wait_css('[data-testid="audit-export-progress"][data-complete="true"]', timeout=60)
    fingerprint = app.wait("audit-export-fingerprint").text
    assert fingerprint.startswith("SHA256:"), fingerprint
    result = app.find("audit-export-result-path")
    assert result.text == str(bundle)
    app.driver.execute_script("arguments[0].scrollIntoView()", result)
    app.screenshot("audit-exported")
    check_bundle(bundle, fingerprint)


def check_bundle(bundle: pathlib.Path, fingerprint: str):
    for name in ("events.jsonl", "manifest.json", "manifest.json.sig", "SHA256SUMS", "device.pub"):
        assert (bundle / name).is_file(), f"{name} missing"
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    signers = bundle.parent / "allowed_signers"
    signers.write_text("headmaster " + (bundle / "device.pub").read_text())
    with open(bundle / "manifest.json", "rb") as manifest:
        verified = subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "headmaster", "-n", "headmaster-audit",
             "-s", str(bundle / "manifest.json.sig")],
            stdin=manifest, capture_output=True, text=True,
        )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Good" in verified.stdout + verified.stderr
    keygen = subprocess.run(["ssh-keygen", "-l", "-f", str(bundle / "device.pub")], capture_output=True, text=True)
    assert fingerprint in keygen.stdout, keygen.stdout
