"""The template sandbox: known Jinja2 escape payloads placed in a workspace template
are refused with a clear error, reveal nothing, and leave the log untouched."""
from __future__ import annotations

import pytest

PAYLOADS = {
    "class": "{{ ''.__class__ }}",
    "mro": "{{ ''.__class__.__mro__[1] }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "subclasses-loop": "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "namespace-init": "{{ namespace.__init__.__globals__ }}",
    "self-context": "{{ self._TemplateReference__context }}",
    "self-globals": "{{ self.__init__.__globals__.__builtins__ }}",
    "request-object": "{{ request.application.__globals__.__builtins__.__import__('os') }}",
    "config-object": "{{ config.items() }}",
    "attr-filter": "{{ ''|attr('__class__')|attr('__mro__') }}",
    "attr-filter-escaped": "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "attr-join-trick": "{{ ''|attr(['_','_','class','_','_']|join) }}",
    "format-string": "{{ '{0.__class__.__mro__}'.format('') }}",
    "format-map": "{{ '{x.__class__}'.format_map({'x': ''}) }}",
    "format-filter": "{{ '%s'|format(''.__class__) }}",
    "dict-base": "{{ dict.__base__.__subclasses__() }}",
    "range-self": "{{ range.__self__.__import__('os') }}",
    "getattr-builtin": "{{ ''.__getattribute__('__class__') }}",
    "func-code": "{{ lipsum.__code__.co_consts }}",
    "include-outside": "{% include '../../config/publisher.toml' %}",
    "include-absolute": "{% include '/etc/passwd' %}",
    "import-outside": "{% import 'shipped/../../pyproject.toml' as x %}",
    "huge-repeat": "{{ 'a' * 1000000000 }}",
    "huge-power": "{{ 10 ** 100000000 }}",
    "huge-range": "{{ range(1000000000)|list }}",
}
REVEALING = ("<class", "subclasses", "__builtins__", "uid=", "root:", "[organisation]", "build-system",
             "Traceback", "<function", "module")


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_escape_payloads_are_refused_and_reveal_nothing(workspace, payload):
    workspace.open_incident(case=2)
    folder = workspace.path / "templates" / "en" / "case2"
    folder.mkdir(parents=True)
    (folder / "apology.long.j2").write_text(f"We apologise. {payload}\n")
    before = workspace.events()
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: template "), result.output
    assert not any(marker in result.output for marker in REVEALING), result.output
    assert workspace.events() == before


def test_a_harmless_template_with_filters_still_renders(workspace):
    workspace.open_incident(case=2)
    folder = workspace.path / "templates" / "en" / "case2"
    folder.mkdir(parents=True)
    (folder / "apology.long.j2").write_text("{{ organisation|upper }}: {{ summary|title }} ({{ [1, 2]|join('-') }})")
    result = workspace.run("--case", "2", "--template", "apology", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "ACME: A Payment Outage That Blocked Card Purchases (1-2)" in result.output
