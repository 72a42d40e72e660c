"""The one-pass redaction: every occurrence of every secret is masked, with hundreds of
secrets, overlapping and nested ones, the channel's own secrets beside the workspace's,
and secrets added after the first use."""
from __future__ import annotations

import random
import string
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import Channel
from channels.redaction import MASK, SecretMatcher, redact
from publisher.workspace.secrets import Redactor


def leaked(text: str, secrets: set[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


def test_many_secrets_each_masked_wherever_it_occurs():
    rng = random.Random(15)
    secrets = {"".join(rng.choices(string.ascii_letters + string.digits + "-_", k=rng.randint(4, 60)))
               for _ in range(1500)}
    chosen = rng.sample(sorted(secrets), 40)
    text = " | ".join(f"token {secret} at {index}" for index, secret in enumerate(chosen)) + chosen[0]
    out = redact(text, SecretMatcher(secrets))
    assert leaked(out, secrets) == []
    assert out.count(MASK) == len(chosen) + 1 and out.endswith("token *** at 39***")


def test_overlapping_and_nested_secrets_leave_no_fragment():
    secrets = {"abcdef", "xxabc", "cdefgh", "defg", "ab"}
    out = redact("<xxabcdefgh> <abcdef> <defg> <ab> <a>", SecretMatcher(secrets))
    assert out == "<***> <***> <***> <***> <a>"


def test_touching_secrets_become_one_mask_and_short_secrets_still_count():
    assert redact("K1K2-tok1tok2.", SecretMatcher({"K1", "K2", "tok1", "tok2"})) == "***-***."


def test_redactor_masks_url_encoded_forms_and_picks_up_secrets_added_later():
    redactor = Redactor()
    redactor.add("first/secret value")
    assert redactor("a first/secret value b") == "a *** b"
    redactor.add("later+secret&x")
    for form in ("later+secret&x", quote("later+secret&x", safe=""), quote_plus("later+secret&x")):
        assert redactor(f"see {form}.") == "see ***."
    assert redactor.scrub({"k": ["first/secret value", {"n": 1}]}) == {"k": ["***", {"n": 1}]}


def test_channel_masks_shared_and_own_secrets_even_when_its_set_changes():
    shared = frozenset({"workspace-secret-1", "workspace-secret-2"})
    channel = Channel("c", {}, shared)
    channel.secrets = channel.secrets | {"own-token-77"}
    assert channel.redact("workspace-secret-2 own-token-77 ok") == "*** *** ok"
    channel.secrets = channel.secrets | {"added-after-use"}
    assert channel.redact("added-after-use workspace-secret-1") == "*** ***"


@settings(max_examples=300, deadline=None)
@given(st.sets(st.text(alphabet="abc/%+", min_size=1, max_size=6), min_size=1, max_size=8),
       st.text(alphabet="abc/%+ ", max_size=60))
def test_no_character_of_any_occurrence_survives(secrets, text):
    out = redact(text, SecretMatcher(secrets))
    assert leaked(out.replace(MASK, "\0"), secrets) == []
    covered = [False] * len(text)
    for secret in secrets:
        start = text.find(secret)
        while start >= 0:
            covered[start:start + len(secret)] = [True] * len(secret)
            start = text.find(secret, start + 1)
    assert out.replace(MASK, "") == "".join(ch for ch, hidden in zip(text, covered) if not hidden)


def test_secrets_sharing_a_long_start_are_told_apart_by_their_whole_text():
    secrets = {f"https://hooks.example.org/services/{index:04d}" for index in range(500)}
    secrets |= {f"https://hooks.example.org/services/{index:04d}/extra" for index in range(0, 500, 7)}
    text = ("see https://hooks.example.org/services/0007/extra and https://hooks.example.org/services/0012 "
            "but not https://hooks.example.org/services/9999 nor https://hooks.example.org/")
    assert redact(text, SecretMatcher(secrets)) == (
        "see *** and *** but not https://hooks.example.org/services/9999 nor https://hooks.example.org/")
