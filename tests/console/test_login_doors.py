"""The login's two doors: `next` leads only to a path on the console itself, after a
real passkey login as before it; and the login rate limit is counted in the store, so
two console servers on one log (two App instances on one SQLite file, or two machines'
folders on one PostgreSQL database) share it, and a restart does not reset it."""
from __future__ import annotations

import re

import pytest

from publisher.web.security import LOGIN_ATTEMPTS, console_path
from tests.console.support import HttpConsole, https_console, second_server

OFF_SITE = ["/\\evil.example", "\\\\evil.example", "//evil.example", "///evil.example", "/\\/evil.example",
            "https://evil.example/", "javascript:alert(1)", "evil.example", "/%5Cevil.example",
            "/%2F%2Fevil.example", "/%5C%5Cevil.example", "/\tevil.example", "/x\r\nLocation: https://evil.example",
            "/\x00evil", "/\x7fevil", "/\u2215\u2215evil.example", "/\uff3cevil.example", "/ evil", "/a//evil.example",
            "", "http:/evil.example"]
ON_SITE = ["/", "/drafts/1a2b3c4d5e6f", "/incidents/2", "/incidents/2?tab=log", "/log"]


@pytest.mark.parametrize("wanted", OFF_SITE)
def test_next_off_the_console_falls_back_to_the_home_page(wanted):
    assert console_path(wanted) == "/"


@pytest.mark.parametrize("wanted", ON_SITE)
def test_next_on_the_console_is_kept(wanted):
    assert console_path(wanted) == wanted


def _login(console: HttpConsole, name: str, wanted: str):
    key = console.keys.get(name) or console.enrol(name)
    client = console.client()
    page = client.get("/login", params={"next": wanted})
    csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text).group(1)
    headers = {"X-CSRF-Token": csrf}
    options = client.post("/login/options", headers=headers).json()
    return page, client.post("/login", params={"next": wanted}, json=key.get(options), headers=headers)


@pytest.mark.servers
@pytest.mark.parametrize("wanted", ["/\\evil.example", "//evil.example", "https://evil.example/", "/%5Cevil.example"])
def test_a_real_passkey_login_never_leads_off_the_console(workspace, wanted):
    console = https_console(workspace)
    page, answer = _login(console, "ana", wanted)
    assert answer.status_code == 200, answer.text
    assert answer.json()["redirect"] == "/" and answer.json()["person"] == "ana"
    assert 'data-submit="/login?next=/"' in page.text
    assert "evil" not in page.text


@pytest.mark.servers
def test_a_real_passkey_login_goes_on_to_a_console_page(workspace):
    console = https_console(workspace)
    wanted = "/incidents/1"
    page, answer = _login(console, "ana", wanted)
    assert answer.status_code == 200 and answer.json()["redirect"] == wanted
    assert 'data-submit="/login?next=/incidents/1"' in page.text


def _failed_logins(console: HttpConsole, count: int) -> list[int]:
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client)}
    return [client.post("/login", json={"response": {}}, headers=headers).status_code for _ in range(count)]



@pytest.mark.servers
@pytest.mark.both_stores
def test_two_console_servers_on_one_log_share_the_login_limit(workspace):
    first = https_console(workspace)
    second = second_server(workspace)
    assert second.app is not first.app and second.web is not first.web
    half = LOGIN_ATTEMPTS // 2
    assert _failed_logins(first, half) == [409] * half
    assert _failed_logins(second, LOGIN_ATTEMPTS - half) == [409] * (LOGIN_ATTEMPTS - half)
    assert _failed_logins(first, 1) == [429]
    assert _failed_logins(second, 1) == [429]
    restarted = HttpConsole(workspace)
    assert _failed_logins(restarted, 1) == [429]
    assert not [kind for _, kind in workspace.events() if "login" in kind]


@pytest.mark.servers
def test_the_shared_limit_lets_an_address_in_again_after_ten_minutes(workspace):
    first = https_console(workspace)
    second = HttpConsole(workspace, clock=first.clock)
    assert _failed_logins(first, LOGIN_ATTEMPTS) == [409] * LOGIN_ATTEMPTS
    assert _failed_logins(second, 1) == [429]
    first.clock.advance(minutes=10, seconds=1)
    assert _failed_logins(second, 1) == [409]
