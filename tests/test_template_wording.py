"""What the statements say: --what fits the sentence (validated, per language), old incidents
still render, case-specific wording from the seeds (case 3 leak, case 4 facts, case 1 headline
and follow-up), numbered updates, and the vosotros/ustedes register."""
from __future__ import annotations

import json

import pytest


def texts(workspace, *args: str) -> dict[str, dict]:
    result = workspace.run(*args, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["draft"]["payloads"]


@pytest.mark.parametrize("phrase, reason", [
    ("Se cayó el sistema de pagos.", "it ends like a sentence"),
    ("Se cayó el sistema de pagos", "it starts with a capital letter"),
    ("la caída. Luego otra caída", "it holds more than one sentence"),
    ("la caída " + "muy " * 20 + "grave", "it has more than 14 words"),
])
def test_what_must_be_a_short_noun_phrase(workspace, iso_hours_ago, phrase, reason):
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", iso_hours_ago(1), "--what", phrase)
    assert result.exit_code == 2 and reason in result.output and "--what" in result.output
    assert json.loads(workspace.run("incident", "list", "--json").output) == []


def test_what_goes_inside_the_sentence_and_needs_a_translation_for_another_language(workspace):
    workspace.open_incident(case=2, what="the payment system outage", summary="Payments went down.")
    english = texts(workspace, "--case", "2", "--template", "apology")
    assert english["web"]["parts"][0].startswith("We apologize for the payment system outage.")
    refused = workspace.run("--case", "2", "--template", "apology", "--lang", "es", "--dry-run")
    assert refused.exit_code == 2 and "--var what=" in refused.output
    spanish = texts(workspace, "--case", "2", "--template", "apology", "--lang", "es",
                    "--var", "what=la caída del sistema de pagos")
    assert spanish["web"]["parts"][0].startswith("Pedimos disculpas por la caída del sistema de pagos.")


def test_a_statement_without_what_is_refused_and_the_summary_is_never_published(workspace):
    workspace.open_incident(case=2, what=None, summary="the payment system went down")
    refused = workspace.run("--case", "2", "--template", "apology", "--dry-run")
    assert refused.exit_code == 2 and "--what" in refused.output and "--summary is never published" in refused.output
    text = texts(workspace, "--case", "2", "--template", "apology", "--var", "what=the payment outage")["web"]
    assert "went down" not in "\n".join(text["parts"]) and text["parts"][0].startswith("We apologize for the payment")


def test_case_3_speaks_of_the_leak(workspace):
    workspace.write_config(extra="[cases.3]\nfreeze_on_open = false\n")
    workspace.open_incident(case=3, what="the leak of customer data")
    for kind in ("apology", "reassurance"):
        text = texts(workspace, "--case", "3", "--template", kind, "--var", "affected=emails of 1,200 customers",
                     "--var", "advice=change your password", "--var", "since=28 November",
                     "--var", "notified_authority=the ICO", "--var", "contact=privacy@acme.example")["web"]["parts"][0]
        assert "emails of 1,200 customers" in text and "change your password" in text and "28 November" in text
        assert "We will notify the ICO" in text and "rights" in text and "privacy@acme.example" in text
        assert "inconvenience" not in text and "disruption" not in text


def test_case_4_states_the_facts_instead_of_repeating_the_accusation(workspace):
    workspace.open_incident(case=4, summary="a rival claims our water is poisoned")
    payloads = texts(workspace, "--case", "4", "--template", "reassurance", "--var",
                     "facts=the health authority tested our water on Monday and found it safe")
    for payload in payloads.values():
        text = "\n".join(payload["parts"])
        assert "found it safe" in text and "poisoned" not in text and "under control" in text


def test_case_1_headline_is_not_defensive_and_the_follow_up_says_it_is_solved(workspace):
    workspace.open_incident(case=1, author="@maria", platform="x", source="https://x.com/maria/status/1")
    title = texts(workspace, "--case", "1", "--template", "external-causes")["web"]["title"]
    assert "beyond our control" not in title and "what happened" in title
    follow_up = texts(workspace, "--case", "1", "--template", "reply", "--channel", "outbox",
                      "--var", "solved=we refunded the double charge")
    text = follow_up["outbox"]["parts"][0]
    assert "We can confirm that your problem is solved: we refunded the double charge." in text
    assert follow_up["outbox"]["title"] == "Acme to @maria: your problem is solved"


def test_updates_are_numbered(workspace):
    workspace.write_config(required=0)
    workspace.open_incident(case=2)
    first = workspace.run("--case", "2", "--template", "update", "--channel", "outbox", "--json")
    assert json.loads(first.output.split("\n}\n")[0] + "\n}")["draft"]["payloads"]["outbox"]["title"].startswith(
        "Update 1 on the incident")
    second = texts(workspace, "--case", "2", "--template", "update", "--channel", "outbox",
                   "--var", "progress=card payments work again")
    assert second["outbox"]["title"].startswith("Update 2 on the incident")
    assert second["outbox"]["parts"][0].startswith("Update no. 2 on the card payment outage")


def test_spanish_register_ustedes(workspace):
    workspace.write_config()
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "es"\nregister = "ustedes"'))
    workspace.open_incident(case=2, what="la caída del sistema de pagos")
    text = texts(workspace, "--case", "2", "--template", "apology")["web"]["parts"][0]
    assert "Les informaremos" in text and "Su seguridad" in text and " os " not in text and "vuestra" not in text
    config.write_text(config.read_text().replace('register = "ustedes"', 'register = "vosotros"'))
    text = texts(workspace, "--case", "2", "--template", "apology")["web"]["parts"][0]
    assert "Os informaremos" in text and "vuestra" in text


def test_the_incident_shows_its_phrases(workspace):
    incident = workspace.open_incident(case=2, what="the payment system outage",
                                       what_es="la caída del sistema de pagos")
    shown = json.loads(workspace.run("incident", "show", incident, "--json").output)
    assert shown["what"] == {"en": "the payment system outage", "es": "la caída del sistema de pagos"}
    repeated = workspace.run("incident", "open", "--case", "1", "--first-seen", "2026-01-01T10:00:00+00:00",
                             "--what", "the outage", "--what-en", "the outage")
    assert repeated.exit_code == 2 and "--what-en repeats --what" in repeated.output
