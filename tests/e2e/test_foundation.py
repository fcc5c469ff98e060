"""Issue 2: first-run setup, sign-out, wrong password, sign-in and the home screen."""

from conftest import ADMIN_PASSWORD


def test_first_run_setup_sign_out_and_sign_in(app_factory, home):
    app = app_factory()
    app.setup(org="Acme Corp", username="alice")
    assert (home / "instance.db").exists()

    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")
    assert "Admin" in app.find("home-role").text
    assert app.find("home-workspace").text == "Acme Corp"
    assert "Acme Corp" in app.find("home-org").text

    app.click("sign-out")
    app.wait("signin-form")

    app.sign_in("alice", "not the right password")
    error = app.wait("signin-error")
    assert "wrong password" in error.text
    assert app.find_all("home") == []

    app.sign_in("alice", ADMIN_PASSWORD)
    app.wait_text("home-username", "alice")
    assert app.find("home-role").text == "Admin"
    shot = app.screenshot("foundation-home")
    assert shot.stat().st_size > 10_000


def test_later_start_shows_sign_in_not_setup(app_factory, home):
    first = app_factory()
    first.setup(org="Beta Ltd", username="bob")
    first.quit()

    again = app_factory()
    again.wait("signin-form")
    assert again.find_all("setup-form") == []
    again.sign_in("bob", ADMIN_PASSWORD)
    again.wait_text("home-username", "bob")
