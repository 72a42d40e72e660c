"""Reading and validating `config/publisher.toml`.

Guarantees: a config that loads is complete and well-typed (defaults filled in), and a
config that does not load produces one `BadInput` sentence naming the file, the line
when it can be found, the table and key, and what was expected. Secret references
(`${NAME}`) are kept as written here; `publisher.workspace.secrets` resolves them when a channel
is built.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channels import REGISTRY, channel_options
from channels.options import Option, SettingError, validate_settings
from publisher.errors import BadInput
from publisher.i18n import _
from publisher.workspace.folder import CONFIG_FILE
from publisher.workspace.practice import MARKER
from publisher.workspace.secrets import setting_problem
from publisher.workspace.tomlfile import parse_toml

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

MAX_HOURS = 24 * 366

SECTIONS: dict[str, dict[str, Option]] = {
    "organisation": {
        "name": Option(str, required=True),
        "language": Option(str, default="es", choices=("es", "en")),
        "timezone": Option(str),
        "website": Option(str),
        "register": Option(str, default="vosotros", choices=("vosotros", "ustedes")),
    },
    "deadlines": {
        "prepare": Option((int, float), default=12, bounds=(0, MAX_HOURS)),
        "publish": Option((int, float), default=48, bounds=(0, MAX_HOURS)),
        "authority": Option((int, float, bool), default=72, bounds=(0, MAX_HOURS)),
    },
    "approvals": {
        "required": Option(int, default=1),
        "approvers": Option(list, default=[]),
        "operators": Option(list, default=[]),
        "viewers": Option(list, default=[]),
        "self_approval": Option(bool, default=False),
        "signing": Option(str, default="ssh", choices=("ssh", "none")),
        "allowed_signers": Option(str, default="config/allowed_signers"),
    },
    "store": {
        "path": Option(str, default="var/publisher.db"),
        "hmac_key": Option(str, secret=True, help="${NAME} of a key that makes the log's chain an HMAC"),
        "url": Option(str, help="postgresql://USER@HOST/DB: one log for a cabinet on several machines"),
        "anchor": Option(str, help="a second head file, on another disk"),
        "witness": Option(str, help="URL of an RFC 3161 time-stamping authority (TSA) that witnesses the log's head"),
        "witness_certificate": Option(str, default="config/tsa.pem",
                                      help="the TSA's certificate and its issuer's (PEM), to verify tokens offline"),
        "witness_timeout": Option((int, float), default=5,
                                  help="seconds one request to the TSA may take"),
        "allow_unsafe_commit": Option(bool, default=False,
                                      help="deliver on a PostgreSQL server whose fsync or synchronous_commit is off"),
    },
    "secrets": {
        "file": Option(str, default="config/secrets.toml"),
    },
    "console": {
        "base_url": Option(str, default="http://localhost:8400", help="the console's address, used in links"),
        "session_hours": Option((int, float), default=12),
    },
    "workspace": {
        "practice": Option(bool, default=False, help="a practice workspace: the only one where signing may be off"),
    },
    "delivery": {
        "budget": Option((int, float), default=15, bounds=(0, 24 * 60), help="minutes one run may spend retrying"),
        "workers": Option(int, default=32, bounds=(1, 256)),
    },
    "freeze": {
        "allow": Option(list, default=[], help="channels a freeze never holds: the cabinet's one secure path"),
    },
    "notices": {
        "escalate_after": Option((int, float), default=15, bounds=(1, 24 * 60),
                                 help="minutes a notice waits for an acknowledgement before it goes further"),
        "push_contact": Option(str, default="",
                               help="how a push service reaches whoever runs the console (mailto: or https:)"),
    },
}

CASE_OPTIONS: dict[str, Option] = {
    "update_every": Option((int, float), default=6, bounds=(0.25, MAX_HOURS)),
    "freeze_on_open": Option(bool),
    "reply_approvals": Option(int, bounds=(0, 10), help="approvals a reply to one heard item needs (0: the "
                                                        "community manager answers alone)"),
    "answer_within": Option((int, float), bounds=(1, 7 * 24 * 60)),
}

LISTEN_OPTIONS: dict[str, Option] = {
    "spike": Option((int, float), default=3.0, bounds=(1, 1000), help="an hour's volume over this many times the "
                                                                       "7-day hourly baseline tells the cabinet"),
    "negative_share": Option((int, float), default=0.4, bounds=(0, 1), help="an hour with this share of "
                                                                            "negative items tells the cabinet"),
    "keywords": Option(list, default=[], help="the workspace's own words to listen for"),
    "sentiment": Option(str, default="lexicon", help="the sentiment judge: the shipped lexicon, or the name of a "
                                                     "model an installed package registers (entry point group "
                                                     "publish.sentiment)"),
}
SOURCE_NAME = r"[a-z0-9][a-z0-9_-]{0,31}"


@dataclass(frozen=True)
class SourceConfig:
    """One [listen.NAME] table: its type, the channel whose server and credentials it
    reuses, and its own settings (secrets still as ${NAME})."""

    name: str
    type: str
    channel: str | None
    every: float
    raw: dict[str, Any]


@dataclass(frozen=True)
class ListenSettings:
    """The [listen] table's own keys."""

    spike: float = 3.0
    negative_share: float = 0.4
    keywords: tuple[str, ...] = ()
    sentiment: str = "lexicon"


@dataclass(frozen=True)
class ChannelConfig:
    """One [channels.NAME] table, validated, secrets still as ${NAME}."""

    name: str
    type: str
    audience: str
    enabled: bool
    raw: dict[str, Any]


@dataclass(frozen=True)
class WitnessSettings:
    """`[store] witness`, `witness_certificate`, `witness_timeout`."""

    url: str
    certificate: Path
    shown_certificate: str
    timeout: float = 5.0


@dataclass(frozen=True)
class Config:
    """The whole validated config/publisher.toml."""

    workspace: Path
    file: Path
    organisation: str
    language: str
    timezone: ZoneInfo | None
    website: str | None
    prepare_hours: float
    publish_hours: float
    authority_hours: float | None
    """[deadlines] authority: hours to notify the data-protection authority; None where no duty applies."""
    approvals_required: int
    approvers: tuple[str, ...]
    self_approval: bool
    signing: str
    allowed_signers: Path
    store_path: Path
    store_key_reference: str | None
    secrets_file: Path
    delivery_budget_minutes: float
    delivery_workers: int
    channels: dict[str, ChannelConfig]
    cases: dict[int, dict[str, Any]] = field(default_factory=dict)
    store_url: str | None = None
    store_anchor: Path | None = None
    allow_unsafe_commit: bool = False
    witness: WitnessSettings | None = None
    operators: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    console_base_url: str = "http://localhost:8400"
    console_session_hours: float = 12.0
    register: str = "vosotros"
    practice: bool = False
    freeze_allow: tuple[str, ...] = ()
    escalate_after_minutes: float = 15.0
    listen: ListenSettings = field(default_factory=ListenSettings)
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    push_contact: str = ""

    def enabled_channels(self) -> list[ChannelConfig]:
        return [channel for channel in self.channels.values() if channel.enabled]

    def case_setting(self, case: int, key: str, default: Any) -> Any:
        return self.cases.get(case, {}).get(key, default)


class _Reader:
    """Turns validation failures into sentences that point at the file and line."""

    def __init__(self, path: Path, text: str, shown: str):
        self.path = path
        self.lines = text.splitlines()
        self.shown = shown

    def line_of(self, table: str, key: str | None) -> int | None:
        header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
        in_table = False
        for number, line in enumerate(self.lines, start=1):
            if header.match(line):
                if key is None:
                    return number
                in_table = True
                continue
            if in_table and re.match(r"^\s*\[", line):
                in_table = False
            if in_table and key is not None and re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
                return number
        return None

    def fail(self, table: str, key: str | None, expected: str) -> BadInput:
        line = self.line_of(table, key)
        where = _("{file} line {number}").format(file=self.shown, number=line) if line else self.shown
        target = f"[{table}]" + (f" {key}" if key else "")
        return BadInput(f"{where}: {target}: {expected}.")

    def section(self, table: str, raw: Any, options: dict[str, Option]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(table, None, _("expected a table"))
        try:
            return validate_settings(options, raw)
        except SettingError as error:
            raise self.fail(table, error.key, error.expected) from None


def load_config(workspace: Path) -> Config:
    path = workspace / CONFIG_FILE
    shown = str(CONFIG_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(_("no {shown} in {workspace}; run `publish init {workspace}` to create a workspace "
                         "or point --workspace / PUBLISH_WORKSPACE at one.").format(shown=shown, workspace=workspace)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(_("cannot read {shown}: {value}.").format(shown=shown, value=error)) from None
    data = parse_toml(text, shown)
    return _build(workspace, data, _Reader(path, text, shown))


def _build(workspace: Path, data: dict[str, Any], reader: _Reader) -> Config:
    known = set(SECTIONS) | {"channels", "cases", "listen"}
    for table in data:
        if table not in known:
            raise reader.fail(table, None, _("unknown table; expected one of {names}").format(
                names=", ".join(sorted(known))))
    if "organisation" not in data:
        raise reader.fail("organisation", None, _("missing; it must give at least name = \"...\""))
    sections = {name: reader.section(name, data.get(name, {}), options) for name, options in SECTIONS.items()}
    organisation, deadlines, approvals = sections["organisation"], sections["deadlines"], sections["approvals"]

    zone = None
    if "timezone" in organisation:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(organisation["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise reader.fail("organisation", "timezone", _("unknown time zone {timezone!r}; expected an "
                                                            "IANA name such as \"Europe/Madrid\"").format(
                                                              timezone=organisation['timezone'])) from None
    for key in ("prepare", "publish"):
        if deadlines[key] <= 0:
            raise reader.fail("deadlines", key, _("expected a positive number of hours, got {value!r}").format(
                                                    value=deadlines[key]))
    if deadlines["prepare"] > deadlines["publish"]:
        raise reader.fail("deadlines", "prepare", _("must not be later than publish"))
    if deadlines["authority"] is True or deadlines["authority"] is not False and deadlines["authority"] <= 0:
        raise reader.fail("deadlines", "authority", _("expected the hours within which the data-protection "
                                                      "authority must be notified (72 in the EU), or false where "
                                                      "no such duty applies; got {value!r}").format(
                                                          value=deadlines["authority"]))
    if approvals["required"] < 0:
        raise reader.fail("approvals", "required", _("expected 0 or more"))
    approvers = approvals["approvers"]
    if not all(isinstance(name, str) and name.strip() for name in approvers):
        raise reader.fail("approvals", "approvers", _("expected a list of names"))
    if approvals["required"] > 0 and len(set(approvers)) < approvals["required"]:
        raise reader.fail("approvals", "approvers",
                          _("names {count} approver(s) but required = {required}").format(
                              count=len(set(approvers)), required=approvals['required']))
    practice = sections["workspace"]["practice"]
    if approvals["signing"] == "none" and not practice:
        raise reader.fail("approvals", "signing", _('"none" is only for a practice workspace ({marker}, which '
                                                     '`publish init --practice` writes), so remove this line to '
                                                     "sign approvals with SSH keys").format(marker=MARKER))
    hmac_key = sections["store"].get("hmac_key")
    problem = setting_problem(hmac_key, secret=True)
    if problem:
        raise reader.fail("store", "hmac_key", problem)
    if sections["delivery"]["budget"] <= 0 or sections["delivery"]["workers"] < 1:
        raise reader.fail("delivery", "budget", _("expected a positive budget (minutes) and at least 1 worker"))

    channels = _channels(data.get("channels", {}), reader)
    listen, sources = _listen(data.get("listen", {}), reader, channels)
    return Config(
        workspace=workspace,
        file=reader.path,
        organisation=organisation["name"],
        language=organisation["language"],
        timezone=zone,
        website=organisation.get("website"),
        register=organisation["register"],
        prepare_hours=float(deadlines["prepare"]),
        publish_hours=float(deadlines["publish"]),
        authority_hours=None if deadlines["authority"] is False else float(deadlines["authority"]),
        approvals_required=approvals["required"],
        approvers=tuple(approvers),
        self_approval=approvals["self_approval"],
        signing=approvals["signing"],
        allowed_signers=workspace / approvals["allowed_signers"],
        store_path=workspace / sections["store"]["path"],
        store_key_reference=sections["store"].get("hmac_key"),
        store_url=_store_url(reader, sections["store"].get("url")),
        store_anchor=workspace / sections["store"]["anchor"] if sections["store"].get("anchor") else None,
        allow_unsafe_commit=sections["store"]["allow_unsafe_commit"],
        secrets_file=workspace / sections["secrets"]["file"],
        delivery_budget_minutes=float(sections["delivery"]["budget"]),
        delivery_workers=sections["delivery"]["workers"],
        channels=channels,
        cases=_cases(data.get("cases", {}), reader),
        operators=_names(reader, approvals, "operators"),
        viewers=_names(reader, approvals, "viewers"),
        console_base_url=_base_url(reader, sections["console"]),
        console_session_hours=float(sections["console"]["session_hours"]),
        witness=_witness(reader, workspace, sections["store"]),
        practice=practice,
        freeze_allow=_allowed(reader, sections["freeze"]["allow"], data.get("channels", {})),
        escalate_after_minutes=float(sections["notices"]["escalate_after"]),
        listen=listen,
        sources=sources,
        push_contact=_push_contact(reader, sections["notices"]["push_contact"]),
    )


def _listen(raw: Any, reader: _Reader, channels: dict[str, ChannelConfig]) -> tuple[ListenSettings,
                                                                                    dict[str, SourceConfig]]:
    from channels import SOURCES

    if not isinstance(raw, dict):
        raise reader.fail("listen", None, _("expected a table"))
    own = reader.section("listen", {key: value for key, value in raw.items() if not isinstance(value, dict)},
                         LISTEN_OPTIONS)
    if not all(isinstance(word, str) and word.strip() for word in own["keywords"]):
        raise reader.fail("listen", "keywords", _("expected a list of words"))
    sources: dict[str, SourceConfig] = {}
    for name, section in raw.items():
        if not isinstance(section, dict):
            continue
        table = f"listen.{name}"
        if not re.fullmatch(SOURCE_NAME, name):
            raise reader.fail(table, None, _("a source name uses lowercase letters, digits, - and _ (at most 32)"))
        kind = section.get("type")
        if kind not in SOURCES:
            raise reader.fail(table, "type", _("expected one of {names}, got {kind!r}").format(
                names=", ".join(sorted(SOURCES)) or _("(no source type installed)"), kind=kind))
        channel = section.get("channel")
        if channel is not None and channel not in channels:
            raise reader.fail(table, "channel", _("expected the name of a channel in [channels], got {channel!r}")
                              .format(channel=channel))
        sources[name] = _source(reader, table, name, kind, channel, section, channels)
    listen = ListenSettings(float(own["spike"]), float(own["negative_share"]), tuple(own["keywords"]),
                            str(own["sentiment"]).strip() or "lexicon")
    return listen, sources


def _source(reader: _Reader, table: str, name: str, kind: str, channel: str | None, section: dict[str, Any],
            channels: dict[str, ChannelConfig]) -> SourceConfig:
    """One [listen.NAME] table validated by its source class (with what its channel lends)."""
    from channels import source_class

    options = source_class(kind).all_options()
    lent = {key: value for key, value in channels[channel].raw.items()
            if key in options and key not in ("enabled", "audience")} if channel else {}
    own = {key: value for key, value in section.items() if key != "channel"}
    settings = reader.section(table, {**lent, **own}, options)
    try:
        source_class(kind)(name, settings)
    except SettingError as error:
        raise reader.fail(table, error.key, error.expected) from None
    for key, option in options.items():
        problem = setting_problem(settings.get(key), option.secret)
        if problem:
            raise reader.fail(table, key, problem)
    return SourceConfig(name, kind, channel, float(settings.get("every", 60)), own)


def _push_contact(reader: _Reader, value: str) -> str:
    if value and not re.fullmatch(r"(mailto:[^@\s]+@[^@\s]+|https://[^\s]+)", value):
        raise reader.fail("notices", "push_contact", _("expected \"mailto:ADDRESS\" or an https:// address"))
    return value


def _allowed(reader: _Reader, allow: list[Any], channels: Any) -> tuple[str, ...]:
    if not all(isinstance(name, str) and name in channels for name in allow):
        raise reader.fail("freeze", "allow", _("expected a list of channel names from [channels]"))
    return tuple(allow)


def _names(reader: _Reader, approvals: dict[str, Any], key: str) -> tuple[str, ...]:
    names = approvals[key]
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise reader.fail("approvals", key, _("expected a list of names"))
    return tuple(names)


def _base_url(reader: _Reader, console: dict[str, Any]) -> str:
    url = console["base_url"].rstrip("/")
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", url):
        raise reader.fail("console", "base_url", _("expected an address such as "
                                                   "\"https://crisis.example.com\", got {url!r}").format(
                                                     url=url))
    if console["session_hours"] <= 0:
        raise reader.fail("console", "session_hours", _("expected a positive number of hours"))
    return url


def _channels(raw: Any, reader: _Reader) -> dict[str, ChannelConfig]:
    if not isinstance(raw, dict):
        raise reader.fail("channels", None, _("expected tables such as [channels.web]"))
    channels: dict[str, ChannelConfig] = {}
    for name, section in raw.items():
        table = f"channels.{name}"
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name):
            raise reader.fail(table, None, _("a channel name uses lowercase letters, digits, - and _ (at most 32)"))
        if not isinstance(section, dict):
            raise reader.fail(table, None, _("expected a table"))
        kind = section.get("type")
        if kind not in REGISTRY:
            raise reader.fail(table, "type", _("expected one of {names}, got {kind!r}").format(
                                                 names=', '.join(sorted(REGISTRY)), kind=kind))
        settings = reader.section(table, section, channel_options(kind))
        for key, option in channel_options(kind).items():
            problem = setting_problem(settings.get(key), option.secret)
            if problem:
                raise reader.fail(table, key, problem)
        channels[name] = ChannelConfig(name, kind, settings["audience"], settings["enabled"], settings)
    return channels


def _cases(raw: Any, reader: _Reader) -> dict[int, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise reader.fail("cases", None, _("expected tables such as [cases.2]"))
    cases: dict[int, dict[str, Any]] = {}
    for key, section in raw.items():
        if key not in ("1", "2", "3", "4"):
            raise reader.fail(f"cases.{key}", None, _("cases are numbered 1 to 4"))
        cases[int(key)] = reader.section(f"cases.{key}", section, CASE_OPTIONS)
    return cases


def _store_url(reader: _Reader, url: str | None) -> str | None:
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise reader.fail("store", "url", _("expected a PostgreSQL URL such as \"postgresql://publish@db.example/publish\""))
    return url


def _witness(reader: _Reader, workspace: Path, store: dict[str, Any]) -> WitnessSettings | None:
    url = store.get("witness")
    if url is None:
        return None
    if not re.match(r"^https?://[^/?#]+", url):
        raise reader.fail("store", "witness", _("expected the http(s) URL of an RFC 3161 time-stamping "
                                                "authority, got {url!r}").format(url=url))
    timeout = store["witness_timeout"]
    if not 0.1 <= timeout <= 120:
        raise reader.fail("store", "witness_timeout", _("expected seconds from 0.1 to 120, got {timeout!r}").format(
                                                          timeout=timeout))
    certificate = store["witness_certificate"]
    if not (workspace / certificate).is_file():
        raise reader.fail("store", "witness_certificate", _("{certificate} does not exist; put the TSA's "
                                                            "certificate and its issuer's there (PEM) so "
                                                            "witnesses can be verified offline").format(
                                                              certificate=certificate))
    return WitnessSettings(url, workspace / certificate, certificate, float(timeout))
