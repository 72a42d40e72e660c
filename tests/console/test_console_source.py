"""The console opens an incident from a source URL alone: the clocks start at the post's
platform time, read from a fake Mastodon server on loopback."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.console.test_console_basics import https_console
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.servers


def test_an_empty_first_seen_starts_at_the_source_posts_time(workspace):
    console = https_console(workspace)
    client = console.login("marta")
    token = console.csrf(client, "/incidents/new")
    with FakeMastodon("CANARY-console-unused") as fake:
        fake.advance(timedelta(hours=-3))
        status = fake.hear("Acme no me deja pagar", mention=False, display_name="<script>x</script>")
        opened = client.post("/incidents", data={"csrf": token, "case": "1", "first_seen": "",
                                                 "source": f"{fake.url}/@vecina/{status['id']}"})
    assert opened.status_code == 303
    page = client.get(opened.headers["location"]).text
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    assert "First negative message: " in page and ", from the platform" in page
    body = workspace.db().execute("SELECT body FROM events WHERE kind = 'incident.opened'").fetchone()[0]
    assert '"first_seen_from": "platform"' in body.replace('":"', '": "')
    assert status["created_at"][:19] in body
