"""Issue 3: the Keys & security screen shows the real key state (read back from the database
files), and a rotation started from the UI completes with live progress, then retires the old
version; rotating the KEK from the UI keeps the instance openable through the real keychain."""

import re
import sqlite3
from collections import Counter

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_PASSWORD, ROOT

SEALED_REGISTRY = ROOT / "crates" / "headmaster-core" / "src" / "store" / "sealed.rs"


def instance_sealed_columns():
    """The instance database's data-sealed columns, read from the core's registry so that this
    test follows it when a sealed column is added."""
    source = SEALED_REGISTRY.read_text()
    block = re.search(r"INSTANCE_SEALED: &\[SealedColumn\] = &\[(.*?)\];", source, re.S)
    assert block, "INSTANCE_SEALED not found in the core's sealed-column registry"
    columns = re.findall(r'col\("(\w+)", "(\w+)"\)', block.group(1))
    assert columns, "no sealed columns parsed"
    return columns


def rows_by_version(db_path) -> Counter:
    """Rows sealed under each data-key version (format byte 1, version in bytes 2-5), counted
    straight from the file, the way the core's rotation selects them."""
    counts = Counter()
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        for table, column in instance_sealed_columns():
            query = (
                f"SELECT substr({column}, 2, 4), COUNT(*) FROM {table} "
                f"WHERE {column} IS NOT NULL AND substr({column}, 1, 1) = x'01' GROUP BY 1"
            )
            for version, count in db.execute(query):
                counts[int.from_bytes(version, "big")] += count
    return counts


def data_key_versions(db_path) -> list[int]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return [
            v
            for (v,) in db.execute(
                "SELECT version FROM wrapped_keys WHERE scope = 'instance' AND purpose = 'data' ORDER BY version"
            )
        ]


def versions_shown(card) -> dict:
    """{(purpose, version): (state, rows text)} of a key scope card's table."""
    shown = {}
    for tr in card.find_elements(By.CSS_SELECTOR, '[data-testid="key-version"]'):
        key = (tr.get_attribute("data-purpose"), int(tr.get_attribute("data-version")))
        rows = tr.find_element(By.CSS_SELECTOR, '[data-testid="key-version-rows"]').text
        shown[key] = (tr.get_attribute("data-state"), rows)
    return shown


def child(element, testid: str):
    return element.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def open_keys_screen(app):
    app.setup(org="Acme Corp", username="alice")
    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")
    # Start-up maintenance runs once after sign-in; on a fresh instance it has nothing to rotate.
    app.wait_css('[data-testid="key-maintenance"][data-state="done"]', timeout=60)
    assert app.find_all("key-maintenance-error") == []
    app.click("nav-keys")
    return app.wait("key-scope-instance")


def test_keys_screen_shows_real_state_and_rotation_completes_from_the_ui(app_factory, home):
    app = app_factory()
    card = open_keys_screen(app)
    db = home / "instance.db"

    assert app.find("keys-protection").text == "keychain"
    assert app.find("keys-keychain").text == "available"
    assert app.find("keys-kek").text.startswith("version 1,")
    assert "90 days" in app.find("keys-period").text

    before = rows_by_version(db)
    assert set(before) == {1} and before[1] > 0, before
    sealed = before[1]
    assert versions_shown(card) == {("data", 1): ("active", str(sealed)), ("audit", 1): ("active", "—")}
    assert child(card, "key-last-rotation").text == "—"
    assert card.find_elements(By.CSS_SELECTOR, '[data-testid="key-due"]') == []
    # The workspace created at setup has its own keys and shows up as a second scope.
    workspace_id = app.invoke("whoami")["ok"]["workspaces"][0]["id"]
    assert ("data", 1) in versions_shown(app.find(f"key-scope-{workspace_id}"))

    child(card, "key-rotate").click()
    app.wait_css('[data-testid="key-scope-instance"] [data-testid="rotation-progress"][data-complete="true"]', 60)
    progress = app.find("key-scope-instance").find_element(By.CSS_SELECTOR, '[data-testid="rotation-progress-text"]')
    assert progress.text == f"{sealed} / {sealed} rows re-encrypted"
    result = app.wait_text("rotation-result", "Now on data key v2")
    assert f"{sealed} rows re-encrypted" in result.text
    assert "awaiting retirement after the 15 s grace: v1" in result.text
    app.screenshot("keys-rotated")

    # The table is reloaded from the core: v2 is active with every row, v1 is retired and empty,
    # and the files agree.
    card = app.find("key-scope-instance")
    app.until(lambda: versions_shown(app.find("key-scope-instance")).get(("data", 2)) == ("active", str(sealed)))
    shown = versions_shown(app.find("key-scope-instance"))
    assert shown[("data", 1)] == ("retired", "0")
    assert shown[("audit", 2)][0] == "active"
    assert shown[("audit", 1)][0] == "retained"
    assert child(app.find("key-scope-instance"), "key-last-rotation").text != "—"
    assert rows_by_version(db) == Counter({2: sealed})

    # Retiring waits for the grace period, then destroys v1 for good.
    def retire_destroyed_v1():
        card = app.find("key-scope-instance")
        results = card.find_elements(By.CSS_SELECTOR, '[data-testid="retire-result"]')
        if results and results[0].text == "Destroyed v1.":
            return True
        button = child(card, "key-retire")
        if button.is_enabled():
            button.click()
        return False

    app.until(retire_destroyed_v1, timeout=60, message="v1 was never retired")
    app.until(lambda: ("data", 1) not in versions_shown(app.find("key-scope-instance")))
    assert data_key_versions(db) == [2]
    app.screenshot("keys-retired")


def test_kek_rotation_from_the_ui_survives_a_restart(app_factory, home):
    app = app_factory()
    open_keys_screen(app)
    app.click("kek-rotate")
    assert app.wait_text("kek-result", "KEK version 2")
    app.wait_text("keys-kek", "version 2,")
    assert app.find_all("kek-error") == []
    app.quit()

    # A new process unlocks with the new KEK, read from the real keychain.
    again = app_factory()
    again.sign_in("alice", ADMIN_PASSWORD)
    again.wait_text("home-username", "alice")
    again.wait_css('[data-testid="key-maintenance"][data-state="done"]', timeout=60)
    again.click("nav-keys")
    again.wait_text("keys-kek", "version 2,")
    assert again.find("keys-keychain").text == "available"


def test_an_aged_key_is_rotated_in_the_background_without_opening_the_keys_screen(app_factory, home):
    """Issue 12: maintenance is the app's, not a screen's. The data key is made 400 days old
    while the app is closed; the next start rotates it without anyone signing in or opening
    the Keys screen, and the sign-in that follows is told what was rotated."""
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    app.quit()
    db = home / "instance.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE wrapped_keys SET created_at = created_at - ? WHERE scope = 'instance' AND purpose = 'data'",
            (400 * 86_400_000,),
        )
    assert data_key_versions(db) == [1]

    again = app_factory()
    again.wait("signin-form")
    # Nobody signs in yet: the keychain unlocked the instance, and its maintenance worker runs.
    WebDriverWait(again.driver, 60, poll_frequency=0.2).until(
        lambda _: 2 in data_key_versions(db), message="the aged key was not rotated in the background"
    )
    assert rows_by_version(db).get(1, 0) == 0, rows_by_version(db)

    again.sign_in("alice", ADMIN_PASSWORD)
    again.wait_text("home-username", "alice")
    again.wait_css('[data-testid="key-maintenance"][data-state="done"]', timeout=60)
    report = again.wait("key-maintenance-report")
    assert "rotated to v2" in report.text, report.text
    assert again.find_all("key-scope-instance") == [], "the Keys screen was never opened"
    again.screenshot("keys-rotated-in-background")
