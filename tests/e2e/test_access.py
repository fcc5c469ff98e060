"""Issue 4: an Admin adds an Operator through the UI. Signed in as that Operator, the admin
screens are absent, and calling admin commands directly over IPC is refused, changes nothing
and lands in the audit log as `access.denied`."""

import sqlite3

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import ADMIN_PASSWORD

OPERATOR_PASSWORD = "operator password 42"


def row(app, testid: str, username: str, timeout: float = 20.0):
    """Waits for the table row of `username` (rows carry `data-username`)."""
    return app.wait_css(f'[data-testid="{testid}"][data-username="{username}"]', timeout)


def cell(element, testid: str) -> str:
    return element.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').text


def denied_events(db_path, actor_id: str):
    """(target, outcome) of every access.denied event of `actor_id` in one audit chain. The
    action, actor and outcome columns are stored in clear so they can be queried."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT target, outcome FROM audit_events WHERE action = 'access.denied' AND actor_id = ?",
            (actor_id,),
        ).fetchall()


def test_admin_adds_an_operator_who_gets_no_admin_screens_and_is_refused_over_ipc(app_factory, home):
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")

    # Users: add oscar with the organisation role Operator.
    app.click("nav-users")
    row(app, "user-row", "alice")
    app.fill("user-add-username", "oscar")
    app.fill("user-add-password", OPERATOR_PASSWORD)
    app.select("user-add-role", "operator")
    app.click("user-add-submit")
    oscar = row(app, "user-row", "oscar")
    assert cell(oscar, "user-role") == "Operator"
    assert cell(oscar, "user-status") == "active"
    assert app.find_all("users-error") == []

    # Members & roles: make oscar an Operator of the workspace.
    app.click("nav-members")
    assert cell(row(app, "member-row", "alice"), "member-role") == "Admin"
    app.fill("member-add-username", "oscar")
    app.select("member-add-role", "operator")
    app.click("member-add-submit")
    assert cell(row(app, "member-row", "oscar"), "member-role") == "Operator"
    assert app.find_all("members-error") == []
    app.screenshot("access-admin-added-operator")

    # Signed in as oscar: an Operator of Acme Corp, without any admin screen or control.
    app.click("sign-out")
    app.sign_in("oscar", OPERATOR_PASSWORD)
    app.wait_text("home-username", "oscar")
    assert app.find("home-role").text == "Operator"
    assert app.find("home-workspace").text == "Acme Corp"
    for absent in ("nav-users", "nav-keys", "nav-workspaces"):
        assert app.find_all(absent) == [], f"{absent} is offered to an Operator"
    app.click("nav-members")
    row(app, "member-row", "oscar")
    assert cell(row(app, "member-row", "alice"), "member-role") == "Admin"
    for absent in ("member-add-form", "member-role-select", "member-remove", "custom-roles"):
        assert app.find_all(absent) == [], f"{absent} is shown to an Operator"
    app.screenshot("access-operator-members")

    # A page script calling admin commands directly is refused by the core.
    me = app.invoke("whoami")["ok"]
    workspace_id = me["workspaces"][0]["id"]
    attempts = {
        "list_users": app.invoke("list_users"),
        "add_user": app.invoke("add_user", {"username": "mallory", "password": OPERATOR_PASSWORD, "orgRole": "admin"}),
        "set_member_role": app.invoke(
            "set_member_role", {"workspaceId": workspace_id, "username": "oscar", "role": "admin"}
        ),
        "rotate_keys": app.invoke("rotate_keys", {"scope": "instance"}),
    }
    for command, answer in attempts.items():
        assert "ok" not in answer, f"{command} succeeded for an Operator: {answer}"
        assert answer["err"]["code"] == "forbidden", f"{command}: {answer}"
        assert "permission denied" in answer["err"]["message"]

    # Nothing changed: oscar is still an Operator, mallory does not exist.
    members = app.invoke("list_members", {"workspaceId": workspace_id})["ok"]
    assert {m["username"]: m["role"] for m in members} == {"alice": "Admin", "oscar": "Operator"}
    assert app.invoke("whoami")["ok"]["workspaces"][0]["role"] == "Operator"

    # Every refusal is in the audit log: organisation operations in the instance chain, the
    # workspace operation in the workspace's own chain.
    instance_denials = denied_events(home / "instance.db", me["user_id"])
    for target in ("user.list", "user.add", "keys.rotate"):
        assert (target, "denied") in instance_denials, instance_denials
    workspace_denials = denied_events(home / "workspaces" / f"{workspace_id}.db", me["user_id"])
    assert ("member.set_role", "denied") in workspace_denials, workspace_denials

    # The session survived the refusals: the Operator keeps working.
    app.click("nav-home")
    app.wait_text("home-username", "oscar")


def test_admin_manages_roles_and_workspaces_with_errors_shown(app_factory, home):
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")

    # The last Admin cannot demote herself; the core's words are shown.
    app.click("nav-members")
    alice = row(app, "member-row", "alice")
    Select(alice.find_element(By.CSS_SELECTOR, '[data-testid="member-role-select"]')).select_by_value("viewer")
    error = app.wait("members-error")
    assert "last Admin" in error.text
    assert cell(row(app, "member-row", "alice"), "member-role") == "Admin"

    # A custom role, created with two capabilities, is offered when adding members.
    app.fill("role-create-name", "Auditor")
    app.click("role-cap-workspace.read")
    app.click("role-cap-audit.read")
    app.click("role-create-submit")
    auditor = app.wait_css('[data-testid="role-row"][data-name="Auditor"]')
    assert "workspace.read, audit.read" in auditor.text
    app.until(lambda: app.find_all("member-add-role")[0].find_elements(By.CSS_SELECTOR, 'option[value="Auditor"]'))

    # A second workspace, renamed, then deleted after typing its name.
    app.click("nav-workspaces")
    app.fill("workspace-create-name", "Research")
    app.click("workspace-create-submit")
    app.wait_text("workspace-manage", "This workspace: Research")
    research_id = app.find("workspace-switcher").get_attribute("value")
    assert (home / "workspaces" / f"{research_id}.db").exists()
    app.fill("workspace-rename-name", "Research Lab")
    app.click("workspace-rename-submit")
    app.wait_text("workspace-manage", "This workspace: Research Lab")
    app.click("workspace-delete-start")
    app.fill("workspace-delete-confirm", "Research")
    assert not app.find("workspace-delete-submit").is_enabled()
    app.fill("workspace-delete-confirm", "Research Lab")
    app.click("workspace-delete-submit")
    app.wait_text("workspace-manage", "This workspace: Acme Corp")
    names = [o.text for o in app.find("workspace-switcher").find_elements(By.TAG_NAME, "option")]
    assert names == ["Acme Corp"]
    app.until(lambda: not (home / "workspaces" / f"{research_id}.db").exists(), message="workspace file still there")
    app.screenshot("access-workspaces")
