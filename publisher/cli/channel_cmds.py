"""`publish channels list|check`."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, table
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.group("channels")
def channels() -> None:
    """Configured channels, with secrets masked."""


@channels.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def channels_list(as_json: bool) -> None:
    """List channels and their settings, secrets masked."""
    from channels import channel_class
    from channels.base import mask

    app = session().app
    rows = []
    for configured in app.config.channels.values():
        cls = channel_class(configured.type)
        shown = {key: mask(value) if (cls.all_options().get(key) and cls.all_options()[key].secret)
                 or (isinstance(value, str) and "${" in value) else value
                 for key, value in configured.raw.items()}
        rows.append({"name": configured.name, "type": configured.type, "audience": configured.audience,
                     "enabled": configured.enabled, "variant": cls.variant, "max_length": cls.max_length,
                     "settings": shown})
    if as_json:
        emit_json(rows)
        return
    table([[r["name"], r["type"], r["audience"], _("yes") if r["enabled"] else _("no"),
            " ".join(f"{k}={v}" for k, v in r["settings"].items() if k not in ("type", "audience", "enabled"))]
           for r in rows], [_("name"), _("type"), _("audience"), _("enabled"), _("settings")])


@channels.command("check")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def channels_check(as_json: bool) -> None:
    """Verify each enabled channel's credentials without posting; exit 1 if any fails."""
    from channels.base import DeliveryError
    from publisher.errors import BadInput, CheckFailed

    app = session().app
    results = []
    for configured in app.config.enabled_channels():
        try:
            detail, ok = app.channel(configured.name).check(), True
        except (DeliveryError, BadInput) as error:
            detail, ok = str(error), False
        results.append({"name": configured.name, "type": configured.type, "ok": ok, "detail": app.redact(detail)})
    if as_json:
        emit_json(results)
    else:
        table([[r["name"], r["type"], _("ok") if r["ok"] else _("FAILED"), r["detail"]] for r in results],
              [_("name"), _("type"), _("check"), _("detail")])
    failed = [r["name"] for r in results if not r["ok"]]
    if failed:
        raise CheckFailed(_("channel check failed for {names}.").format(names=', '.join(failed)))


COMMANDS = [channels]
