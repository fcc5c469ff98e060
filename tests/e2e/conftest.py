"""Fixtures for the desktop end-to-end suite.

The app under test is the real debug binary (HEADMASTER_DESKTOP_BIN), started by tauri-driver
with `--home <fresh dir>` so every test owns its data directory. Waiting is always on a
condition with a timeout, never a fixed sleep.
"""

import os
import pathlib
import subprocess
import tempfile

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
APP = pathlib.Path(os.environ.get("HEADMASTER_DESKTOP_BIN", TARGET / "debug" / "headmaster-desktop"))
CLI = pathlib.Path(os.environ.get("HEADMASTER_CLI_BIN", TARGET / "debug" / "headmaster"))
OUT = ROOT / "test-output" / "e2e"
ADMIN_PASSWORD = "correct horse battery staple"


class TauriOptions(ArgOptions):
    """Selenium options for tauri-driver: no browser defaults, only tauri:options."""

    @property
    def default_capabilities(self):
        return {}


class App:
    """One running desktop app and the WebDriver session driving it."""

    def __init__(self, home: pathlib.Path):
        self.home = home
        options = TauriOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": str(APP), "args": ["--home", str(home)]})
        self.driver = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=options)

    def wait(self, testid: str, timeout: float = 20.0):
        return WebDriverWait(self.driver, timeout).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="{testid}"]'))
        )

    def wait_gone(self, testid: str, timeout: float = 20.0):
        WebDriverWait(self.driver, timeout).until(
            ec.invisibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="{testid}"]'))
        )

    def wait_text(self, testid: str, text: str, timeout: float = 20.0):
        WebDriverWait(self.driver, timeout).until(
            ec.text_to_be_present_in_element((By.CSS_SELECTOR, f'[data-testid="{testid}"]'), text)
        )
        return self.find(testid)

    def wait_css(self, selector: str, timeout: float = 20.0):
        """Waits until an element matching a CSS selector is visible (for data-* attributes)."""
        return WebDriverWait(self.driver, timeout).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, selector))
        )

    def until(self, condition, timeout: float = 20.0, message: str = ""):
        """Waits until `condition()` returns something truthy and returns it. Elements the UI
        re-renders meanwhile (stale or briefly missing) count as "not yet"."""
        wait = WebDriverWait(
            self.driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
        )
        return wait.until(lambda _driver: condition(), message)

    def find(self, testid: str):
        return self.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def find_all(self, testid: str):
        return self.driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def fill(self, testid: str, value: str):
        element = self.wait(testid)
        element.clear()
        # React keeps its own copy of a controlled input's value and may not see clear(); erase
        # what is left the way a person would.
        if element.get_attribute("value"):
            element.send_keys(Keys.CONTROL, "a")
            element.send_keys(Keys.BACKSPACE)
        element.send_keys(value)

    def click(self, testid: str):
        self.wait(testid).click()

    def select(self, testid: str, value: str):
        Select(self.wait(testid)).select_by_value(value)

    def invoke(self, command: str, args: dict | None = None):
        """Calls a Tauri command directly over IPC, as a malicious page script could."""
        script = """
            const [command, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(command, args)
              .then((value) => done({ ok: value === undefined ? null : value }))
              .catch((error) => done({ err: error }));
        """
        return self.driver.execute_async_script(script, command, args or {})

    def screenshot(self, name: str):
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def setup(self, org="Acme Corp", username="alice", password=ADMIN_PASSWORD):
        self.wait("setup-form")
        self.fill("setup-org", org)
        self.fill("setup-username", username)
        self.fill("setup-password", password)
        self.fill("setup-password-confirm", password)
        self.click("setup-keychain")
        self.click("setup-submit")
        self.wait("signin-form", timeout=60)

    def sign_in(self, username: str, password: str):
        self.wait("signin-form")
        self.fill("signin-username", username)
        self.fill("signin-password", password)
        self.click("signin-submit")

    def quit(self):
        try:
            self.driver.quit()
        except WebDriverException:
            pass


@pytest.fixture
def home():
    with tempfile.TemporaryDirectory(prefix="hm-e2e-") as tmp:
        yield pathlib.Path(tmp)


@pytest.fixture
def app_factory(home):
    apps = []

    def start(data_home: pathlib.Path | None = None) -> App:
        app = App(data_home or home)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.quit()


def cli(home: pathlib.Path, *args: str, user: str | None = None, password: str | None = None, check=True):
    """Runs the headmaster CLI against the same data directory (and the same keychain)."""
    env = dict(os.environ)
    env.pop("HEADMASTER_USER", None)
    env.pop("HEADMASTER_PASSWORD", None)
    if user:
        env["HEADMASTER_USER"] = user
    if password:
        env["HEADMASTER_PASSWORD"] = password
    result = subprocess.run(
        [str(CLI), "--home", str(home), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"headmaster {' '.join(args)} failed: {result.stderr}")
    return result
