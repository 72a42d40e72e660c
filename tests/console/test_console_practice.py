"""The console of a practice workspace (issue 21 item 3) says so above the header of
every page, in the visitor's language; a signed workspace's console says nothing of it."""
from __future__ import annotations

import re

import pytest

from tests.console.support import HttpConsole, configure, free_port
from tests.console.test_console_basics import https_console
from tests.trust_support import turn_signing_on

pytestmark = pytest.mark.servers

BANNER = re.compile(r'<body[^>]*>\s*<p class="practice" role="note">([^<]+)</p>\s*<header class="top">')


def test_every_page_of_a_practice_console_shows_the_practice_banner_first(workspace):
    console = https_console(workspace)
    visitor = console.client()
    assert BANNER.search(visitor.get("/login?lang=en").text).group(1).startswith("PRACTICE: a practice workspace")
    assert BANNER.search(visitor.get("/login?lang=es").text).group(1).startswith("PRÁCTICA: un espacio de práctica")
    marta = console.login("marta")
    marta.get("/?lang=en")
    incident = workspace.open_incident(case=2)
    for path in ("/", "/log", f"/incidents/{incident}", "/incidents/new", "/incidents/99"):
        page = marta.get(path)
        assert BANNER.search(page.text).group(1).startswith("PRACTICE: a practice workspace"), (path, page.text[:400])


def test_a_signed_workspaces_console_has_no_practice_banner(workspace):
    configure(workspace, free_port())
    turn_signing_on(workspace)
    page = HttpConsole(workspace).client().get("/login?lang=en").text
    assert 'class="practice"' not in page and "PRACTICE" not in page
