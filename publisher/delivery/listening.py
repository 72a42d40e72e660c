"""Listening: what the sources hear becomes evidence in the log, once per item.

Guarantees:
- Each item a source reads is appended as one `item.heard` event (hash-chained like every
  event) whose payload is `item_payload`'s: source, platform, id, key (`platform:id`),
  text, author, url, platform_time, read_at, answers, extra, rule, and `sentiment`
  (negative, neutral or positive: judged once, here, by the workspace's judge with its
  `[listen] keywords`; a person's `item.sentiment` overrides it later); the event's own
  `incident` is the incident that claimed it when heard (None: the workspace's stream).
- An item is stored once per key, whichever source hears it and however often: the store
  skips keys it holds and the database refuses a second `item.heard` for a key
  (`Store.append_heard`). The items of one read and the source's new cursor are written
  in one transaction (`listen.cursor`), so a source restarted in the middle of paging
  resumes from the last stored page: nothing lost, nothing repeated.
- An item is claimed by the first open incident whose rules match it (`claim`): a reply
  to one of the incident's delivered posts (`answers`), then a `@handle` (the author,
  or a mention in the text), then a keyword (case-insensitive, in the text). The rule
  that matched is recorded with the item.
- A source's answer is either items, `Retryable` (wait its `retry_after`) or `Permanent`
  (the source stops and the cabinet is told once): `listen_once` returns which. A stopped
  source is recorded (`listen.stopped`) and the worker leaves it until a person runs it
  by hand (`publish listen --once NAME`), whose success records `listen.resumed`.
- The cabinet hears of a spike or a dip once: after each read the crisis curve's tally
  (`heard_tally.LogTally`: built from the log at the worker's first read, then caught up
  with what any process stored since) is checked (`crisis_curve.pending_alerts`, with
  `[listen] spike` and `negative_share`), and each new alert is paged to the people who
  may open an incident (`paging.page`, key `crisis:<alert id>`: once across runs,
  processes and machines, like every notice), naming the hour's first negative item as
  the suggested source with its platform time as `first_seen`; an open incident's own
  alert says its conversation grows again. `publish listen --once` does the same from a
  tally built for the run.
- The worker reads each source every `every` seconds (`ListenSchedule`), one job per
  source at a time; a `Retryable` pushes that source's next read back by its
  `retry_after` (in the process that ran it). Listening goes on during a freeze: reading
  is not communicating.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from publisher.i18n import _
from publisher.timeparse import iso

if TYPE_CHECKING:
    from channels.sources import Heard, Source
    from publisher.delivery.paging import Notice
    from publisher.incident.crisis_curve import Alert
    from publisher.incident.heard_tally import LogTally
    from publisher.workspace.app import App

ITEM_STATES = ("new", "assigned", "answered", "handled", "ignored")
PAGES = 20
"""Pages read per source in one run (a backlog is caught up over the next runs)."""


@dataclass(frozen=True)
class ListenResult:
    """One run of one source: how many items were read and new, and how it ended."""

    source: str
    read: int
    new: int
    outcome: str = "ok"
    """"ok", "retry" (wait `retry_after` seconds) or "stopped" (a permanent error)."""
    reason: str = ""
    retry_after: float | None = None


def item_payload(source: str, item: Heard, read_at: str, rule: str | None, sentiment: str) -> dict[str, Any]:
    """What the log holds of one heard item (the `item.heard` payload)."""
    return {"source": source, "platform": item.platform, "id": item.id, "key": item.key, "text": item.text,
            "author": item.author, "url": item.url, "platform_time": item.platform_time, "read_at": read_at,
            "answers": item.answers, "extra": dict(item.extra), "rule": rule, "sentiment": sentiment}


def split_rule(rule: str) -> tuple[str, str]:
    """("handle", name) for `@name`, else ("keyword", text); both lower-cased."""
    rule = rule.strip()
    if rule.startswith("@") and len(rule) > 1:
        return "handle", rule[1:].lower()
    return "keyword", rule.lower()


def matches(rule: str, item: Heard) -> bool:
    kind, value = split_rule(rule)
    if not value:
        return False
    if kind == "handle":
        author = item.author.lower().lstrip("@")
        return author == value or author.startswith(value + "@") or f"@{value}" in item.text.lower()
    return value in item.text.lower()


def claim(item: Heard, rules: dict[str, list[str]], posts: dict[str, str]) -> tuple[str | None, str | None]:
    """The incident that claims `item` and the rule that matched (None, None: unclaimed).
    `rules`: each open incident's listening rules; `posts`: our delivered post ids and the
    incident each belongs to."""
    if item.answers and item.answers in posts:
        return posts[item.answers], f"reply:{item.answers}"
    for kind in ("handle", "keyword"):
        for incident, incident_rules in rules.items():
            for rule in incident_rules:
                if split_rule(rule)[0] == kind and matches(rule, item):
                    return incident, rule
    return None, None


def incident_rules(app: App) -> dict[str, list[str]]:
    """The rules of the incidents still open (oldest first, so an older incident claims first)."""
    from publisher.incident.incidents import list_incidents
    from publisher.incident.listen_rules import rules

    open_ids = {incident.id for incident in list_incidents(app) if incident.state == "open"}
    return {incident: found for incident, found in rules(app).items() if incident in open_ids and found}


def delivered_posts(app: App) -> dict[str, str]:
    """Our delivered posts' platform ids, each with its incident."""
    posts: dict[str, str] = {}
    for event in app.store.events(kind=("delivery.delivered", "delivery.confirmed")):
        if event.incident and event.data.get("id"):
            posts[str(event.data["id"])] = str(event.incident)
    return posts


def record(app: App, source: str, items: Iterable[Heard], cursor: str | None) -> int:
    """Append what `source` read (and its cursor); returns how many items were new."""
    read_at = iso(app.clock(), "milliseconds")
    rules, posts = incident_rules(app), delivered_posts(app)
    judge = _judge(app)
    entries = []
    for item in items:
        incident, rule = claim(item, rules, posts)
        said = judge(item.text, item.extra.get("language"))
        entries.append((incident, item_payload(source, item, read_at, rule, said.label)))
    return app.store.append_heard(source, entries, cursor, actor="listen")


SOURCE_POSTS = "source"
"""The source name of the posts read by URL (`incident open --source`, `publish source`)."""


def record_source_post(app: App, heard: Heard, incident: str | None, actor: str | None) -> int:
    """Store a post read by its URL as a heard item, claimed by `incident` (the one it
    opened, or the one named), judged like any other; 0 when the log already has it."""
    said = _judge(app)(heard.text, heard.extra.get("language"))
    payload = item_payload(SOURCE_POSTS, heard, iso(app.clock(), "milliseconds"), "source", said.label)
    return app.store.append_heard(SOURCE_POSTS, [(incident, payload)], actor=actor)


def _judge(app: App) -> Any:
    """The workspace's sentiment judge (`[listen] keywords`, `[listen] sentiment`)."""
    from publisher.incident.sentiment import workspace_judge

    return workspace_judge(tuple(app.config.listen.keywords), app.config.listen.sentiment)


def keep_source_post(app: App, incident: Any, actor: str | None) -> None:
    """The post an incident opened from (`incident open --source URL`, its time read from
    the platform) becomes one of its heard items, as the issue asks of every source."""
    from publisher.incident.source_lookup import heard_of

    if incident.source_post:
        record_source_post(app, heard_of(incident.source_post), incident.id, actor)


def build_source(app: App, name: str) -> Source:
    """The configured source `name` (`[listen.NAME]`), with secrets resolved."""
    from channels import source_class
    from channels.options import SettingError
    from publisher.errors import BadInput

    configured = app.config.sources.get(name)
    if configured is None:
        known = ", ".join(sorted(app.config.sources)) or _("none")
        raise BadInput(_("no source named {name!r} in config/publisher.toml; configured: {known}.").format(
            name=name, known=known))
    raw = dict(configured.raw)
    if configured.channel:
        channel = app.config.channels[configured.channel]
        shared = {key: value for key, value in channel.raw.items() if key not in ("type", "audience", "enabled")}
        raw = {**shared, **raw}
    resolved = app.resolve(raw, f"[listen.{name}]")
    cls = source_class(configured.type)
    try:
        return cls.build(name, _known_options(cls, resolved), app.redact.frozen())
    except SettingError as error:
        raise BadInput(_("config/publisher.toml: [listen.{name}] {key}: {expected}.").format(
            name=name, key=error.key, expected=error.expected)) from None


def _known_options(cls: type[Source], raw: dict[str, Any]) -> dict[str, Any]:
    """The settings a source takes: what a reused channel holds beyond them is left out."""
    options = cls.all_options()
    return {key: value for key, value in raw.items() if key in options}


def listen_once(app: App, name: str, source: Source | None = None, pages: int = PAGES) -> ListenResult:
    """Read `name` from where it stopped, page after page (at most `pages`), storing each
    page with its cursor; stop at an empty page or a cursor that does not move."""
    from channels.base import Permanent, Retryable

    source = source or build_source(app, name)
    cursor = app.store.last_heard(name)
    read = new = 0
    for _page in range(pages):
        try:
            items, after = source.read(cursor)
        except Retryable as error:
            return ListenResult(name, read, new, "retry", source.redact(error.reason), error.retry_after)
        except Permanent as error:
            reason = source.redact(error.reason)
            _tell_stopped(app, name, reason)
            return ListenResult(name, read, new, "stopped", reason)
        read += len(items)
        moved = after is not None and after != cursor
        new += record(app, name, items, after if moved else None)
        if not items or not moved:
            break
        cursor = after
    if name in stopped_sources(app):
        app.store.append("listen.resumed", actor="listen", data={"source": name})
    return ListenResult(name, read, new)


def stopped_sources(app: App) -> set[str]:
    """Sources stopped by a permanent error and not run successfully by hand since."""
    stopped: set[str] = set()
    for event in app.store.events(kind=("listen.stopped", "listen.resumed")):
        name = str(event.data.get("source"))
        (stopped.add if event.kind == "listen.stopped" else stopped.discard)(name)
    return stopped


class ListenSchedule:
    """When each source is next read by this worker process: every `every` seconds, later
    after a `Retryable` (its `retry_after`); never while stopped."""

    def __init__(self, app: App, clock: Callable[[], float] = time.monotonic):
        self.app, self.clock = app, clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._tally: LogTally | None = None
        self._tally_lock = threading.Lock()

    def tell(self, app: App) -> list[str]:
        """Catch this worker's tally up with the log and page the new alerts; their keys."""
        from publisher.incident.heard_tally import LogTally

        with self._tally_lock:
            if self._tally is None:
                self._tally = LogTally(keywords=tuple(app.config.listen.keywords))
            self._tally.catch_up(app.store)
            return tell_alerts(app, self._tally)

    def due(self) -> list[str]:
        """The sources to read now (each then counted as read until `every` has passed)."""
        sources = self.app.config.sources
        if not sources:
            return []
        stopped, now, due = stopped_sources(self.app), self.clock(), []
        with self._lock:
            for name, configured in sources.items():
                if name not in stopped and self._next.get(name, 0.0) <= now:
                    due.append(name)
                    self._next[name] = now + configured.every
        return due

    def run(self, app: App, stopping: Callable[[], bool], source: str) -> None:
        """The worker's listening job for one source."""
        if stopping() or source not in app.config.sources:
            return
        result = listen_once(app, source)
        if result.outcome == "retry":
            wait = max(float(result.retry_after or 0), app.config.sources[source].every)
            with self._lock:
                self._next[source] = max(self._next.get(source, 0.0), self.clock() + wait)
        self.tell(app)


def listen_sources(app: App, names: list[str]) -> tuple[list[ListenResult], list[str]]:
    """`publish listen --once`: read each source once, then tell the cabinet of any new
    alert (a tally built from the log for this run); the results and the alerts' keys."""
    from publisher.incident.heard_tally import LogTally

    results = [listen_once(app, name) for name in names]
    tally = LogTally(keywords=tuple(app.config.listen.keywords))
    tally.catch_up(app.store)
    return results, tell_alerts(app, tally)


CRISIS = "crisis:"


def tell_alerts(app: App, tally: LogTally) -> list[str]:
    """Page each alert of the last hours not told yet (see the module's guarantees)."""
    from publisher.delivery.paging import page
    from publisher.incident.crisis_curve import pending_alerts
    from publisher.incident.incidents import list_incidents

    told = {str(event.data.get("key"))[len(CRISIS):] for event in app.store.events(kind="notice.sent")
            if str(event.data.get("key", "")).startswith(CRISIS)}
    open_ids = [incident.id for incident in list_incidents(app) if incident.state == "open"]
    settings = app.config.listen
    alerts = pending_alerts(tally.tally, app.clock(), settings.spike, settings.negative_share, told, open_ids)
    return [CRISIS + alert.id for alert in alerts if page(app, crisis_notice(app, alert))]


def crisis_notice(app: App, alert: Alert) -> Notice:
    """What the cabinet is told of one alert: the curve's words, and for the workspace's
    alert the suggested source and `first_seen` with the command that opens the incident."""
    from publisher.delivery.paging import Notice
    from publisher.incident.authority import may, people

    text = alert.words()
    if alert.incident is None:
        title = _("Possible crisis: open an incident?")
        found = app.store.heard(keys=[alert.source]) if alert.source else []
        if found and alert.first_seen is not None:
            data = found[0].data
            where = data.get("url") or alert.source
            first_seen = iso(alert.first_seen)
            text += " " + _("Suggested source: {where} by {author} ({platform}), said at {first_seen}: "
                            "`publish incident open --case N --source {where} --first-seen {first_seen}`.").format(
                where=where, author=data.get("author") or "-", platform=data.get("platform") or "-",
                first_seen=first_seen)
    else:
        title = _("Incident {id}: the conversation grows again").format(id=alert.incident)
    who = tuple(name for name in people(app) if may(app, name, "open"))
    return Notice(CRISIS + alert.id, title, text, alert.incident, who)


def _tell_stopped(app: App, name: str, reason: str) -> None:
    from publisher.delivery.notify import notify

    stops = [event for event in app.store.events(kind="listen.stopped", newest_first=True, limit=50)
             if event.data.get("source") == name]
    number = len(stops) + 1
    app.store.append("listen.stopped", actor="listen", data={"source": name, "reason": reason})
    notify(app, f"listen-stopped:{name}:{number}", _("Listening stopped: {name}").format(name=name),
           _("The source {name} stopped listening: {reason}. Fix it and run `publish listen --once {name}`.").format(
               name=name, reason=reason))
