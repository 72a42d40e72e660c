"""Bad input never crashes: generated config files, timestamps, --var values,
template sources and argument lists get exit 0 or a one-line refusal with exit 2 (1
only where a check legitimately fails), never a traceback, and a refused command
leaves the log as it was."""
from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.cli import cli
from tests.conftest import BASE_CONFIG

EXAMPLES = 300
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Sandbox:
    """A workspace of its own per generated example (hypothesis and function fixtures
    do not mix)."""

    def __init__(self, config: str | None = None):
        self._folder = tempfile.TemporaryDirectory(prefix="fuzz-")
        self.path = Path(self._folder.name)
        (self.path / "config").mkdir()
        (self.path / "config" / "publisher.toml").write_text(
            config if config is not None else BASE_CONFIG.format(required=1, self_approval="false", extra=""),
            encoding="utf-8")
        self.runner = CliRunner()

    def run(self, *args: str):
        result = self.runner.invoke(cli, list(args), env={"PUBLISH_WORKSPACE": str(self.path),
                                                          "PUBLISH_USER": "marta"})
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    def events(self) -> list[tuple]:
        db = self.path / "var" / "publisher.db"
        if not db.exists():
            return []
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT seq, hash FROM events").fetchall()


def assert_refusal(result) -> None:
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1, result.output


toml_value = st.one_of(st.integers(-5, 100), st.booleans(), st.text(max_size=20).map(lambda t: '"%s"' % t.replace(
    "\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")), st.just("[]"), st.just('["ana", 3]'), st.just("{}"))
toml_line = st.one_of(
    st.sampled_from(["[organisation]", "[deadlines]", "[approvals]", "[store]", "[channels.web]", "[channels.x]",
                     "[cases.2]", "[cases.9]", "[delivery]", "[secrets]", "[[channels]]", "[bogus]"]),
    st.builds(lambda key, value: f"{key} = {value}",
              st.sampled_from(["name", "language", "timezone", "prepare", "publish", "required", "approvers",
                               "self_approval", "path", "type", "audience", "enabled", "token", "budget",
                               "workers", "update_every", "hmac_key", "signing", "max_length", "x y"]),
              toml_value),
    st.text(max_size=30))


@FUZZ
@given(st.lists(toml_line, max_size=25))
def test_generated_config_files(lines):
    sandbox = Sandbox("\n".join(lines) + "\n")
    for args in (("incident", "list"), ("channels", "list"), ("log", "verify")):
        result = sandbox.run(*args)
        assert result.exit_code in (0, 1, 2), result.output
        if result.exit_code == 2:
            assert_refusal(result)


timestamps = st.one_of(
    st.text(max_size=40),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?\Z"),
)


@FUZZ
@given(timestamps)
def test_generated_first_seen_times(text):
    sandbox = Sandbox()
    result = sandbox.run("incident", "open", "--case", "2", "--first-seen", text)
    assert_refusal(result)
    if result.exit_code == 2:
        assert sandbox.events() == []


@FUZZ
@given(st.lists(st.text(max_size=30), max_size=4))
def test_generated_var_flags(pairs):
    sandbox = Sandbox()
    assert sandbox.run("incident", "open", "--case", "2", "--first-seen", "2026-01-01T10:00:00Z",
                       "--confirm").exit_code == 0
    before = sandbox.events()
    args = ["--case", "2", "--template", "apology", "--dry-run"]
    for pair in pairs:
        args += ["--var", pair]
    result = sandbox.run(*args)
    assert_refusal(result)
    assert sandbox.events() == before


@FUZZ
@given(st.text(max_size=200) | st.lists(st.sampled_from(
    ["{{", "}}", "{%", "%}", "if", "for", "x", "in", "summary", "|", "attr", "(", ")", "'_'", "__class__",
     "endif", "endfor", "include", "'a'", "*", "9", "**", "-", "~", "{#", "#}", "raw", "endraw", "set", "="]),
    max_size=30).map(" ".join))
def test_generated_template_sources(source):
    sandbox = Sandbox()
    assert sandbox.run("incident", "open", "--case", "2", "--first-seen", "2026-01-01T10:00:00Z",
                       "--confirm").exit_code == 0
    folder = sandbox.path / "templates" / "en" / "case2"
    folder.mkdir(parents=True)
    (folder / "apology.long.j2").write_text(source, encoding="utf-8")
    before = sandbox.events()
    result = sandbox.run("--case", "2", "--template", "apology")
    assert_refusal(result)
    if result.exit_code == 2:
        assert sandbox.events() == before


words = st.sampled_from(["--case", "--template", "--incident", "--var", "--channel", "--dry-run", "--json",
                         "--lang", "incident", "open", "list", "show", "resolve", "drafts", "approve", "reject",
                         "send", "log", "verify", "-n", "status", "channels", "check", "--first-seen", "--as",
                         "--reason", "1", "2", "0", "-3", "apology", "reply", "es", "fr", "x=y", "=", ""])


@FUZZ
@given(st.lists(words | st.text(max_size=12), max_size=8))
def test_generated_argument_lists(args):
    sandbox = Sandbox()
    before = sandbox.events()
    result = sandbox.run(*args)
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        assert sandbox.events() == before
