"""The console speaks its visitor's language (issue 13 item 10): the pages and the core's
own refusals come from the one catalogue, in the language the visitor chose
(`?lang=`, kept in a cookie), whatever the organisation's; times in its zone."""
from __future__ import annotations

from tests.console.test_console_basics import https_console


def _refusal(client, console, language: str) -> str:
    client.get(f"/?lang={language}")
    token = console.csrf(client, "/incidents/new")
    refused = client.post("/incidents", data={"csrf": token, "case": "2", "first_seen": "ayer",
                                              "summary": "card payments fail"})
    assert refused.status_code == 400
    return refused.text


def test_a_core_refusal_is_in_the_visitors_language(workspace):
    console = https_console(workspace)
    client = console.login("marta")
    spanish = _refusal(client, console, "es")
    assert "no es una hora ISO 8601" in spanish and '<html lang="es">' in spanish
    english = _refusal(client, console, "en")
    assert "is not an ISO 8601 time" in english and "no es una hora" not in english
