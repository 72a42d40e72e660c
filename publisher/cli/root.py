"""`publish`: the root command. With --case and --template it renders a draft for
every target channel, previews it and stores it (`--dry-run` stores nothing)."""
from __future__ import annotations

import click

from publisher.cli.lazy import LazyGroup
from publisher.i18n import N_, _

# name -> (module under publisher.cli, which help text, its short form); kept true by tests/test_cli_lazy.py
COMMANDS = {
    "approve": ("draft_cmds", "help", "Approve a draft; it is sent once the required approvals are in."),
    "awaiting": ("awaiting_cmds", "short_help", "What awaits you: drafts to approve, steps due or late, a freeze to "
                                                "lift."),
    "channels": ("channel_cmds", "help", "Configured channels, with secrets masked."),
    "confirm": ("draft_cmds", "help", ("Record a delivery whose outcome was unknown as found on the platform "
                                       "(approvers only; the post is checked with the platform first where the "
                                       "channel can look it up).")),
    "correct": ("statement_cmds", "help", ("Write a correction of a delivered draft in $EDITOR: a new draft, "
                                           "approved like any statement, then applied as an edit where the platform "
                                           "allows it, else as a reply to the original post.")),
    "decide": ("case_cmds", "short_help", "Record the decision to ignore (or answer) a provocation."),
    "done": ("case_cmds", "short_help", "Mark a step done that happens outside the tool."),
    "drafts": ("draft_cmds", "help", "Rendered drafts: their payloads, approvals and deliveries."),
    "freeze": ("case_cmds", "short_help", "Stop every outgoing channel at once."),
    "incident": ("incident_cmds", "help", "Open, list, show, correct, void and resolve incidents."),
    "inbox": ("inbox_cmds", "help", "What listening heard, newest first: author, platform time, incident and state."),
    "init": ("workspace_cmds", "help", "Create a workspace: config/publisher.toml, templates/ for overrides, var/."),
    "keys": ("key_cmds", "help", "The SSH keys enrolled in the log, which signed actions are checked against."),
    "notices": ("notice_cmds", "help", "Notices to the cabinet: who was told, who answered, what escalated."),
    "outbox": ("site_cmds", "help", "The outbox (an `outbox` channel), rebuilt from the log."),
    "people": ("people_cmds", "help", "The cabinet: who is in it, with which role and contact (in the log, changed "
                                      "by approvers)."),
    "listen": ("listen_cmds", "help", "Read the listening sources ([listen.NAME]) once; `publish worker` reads them "
                                      "all the time."),
    "log": ("log_cmds", "help", "Show the log (oldest first); `publish log verify` checks its hash chain."),
    "reject": ("draft_cmds", "help", "Reject a draft; it will never be sent."),
    "reply": ("reply_cmds", "help", "Answer ITEM (#N or platform:id) where it was said: a draft of kind reply, "
                                    "approved like any statement."),
    "report": ("report_cmds", "short_help", "The evidence of an incident: md, html or json."),
    "send": ("draft_cmds", "help", "Resume delivery of an approved draft: only channels not yet delivered."),
    "serve": ("console_cmds", "help", "Run the cabinet's web console over this workspace and its store."),
    "site": ("site_cmds", "help", "The statements page (a `site` channel), built from the log."),
    "source": ("listen_cmds", "help", "Read one post from its platform or page by URL and keep it as a heard item, "
                                      "with the platform's own time."),
    "status": ("workspace_cmds", "short_help", "Clocks, deadlines, channels and the checklist."),
    "store": ("store_cmds", "help", "The log's backend: what it is, and copying it to another one."),
    "templates": ("template_cmds", "help", "The templates each case uses and their variables, per language."),
    "unfreeze": ("case_cmds", "short_help", "Lift the freeze (approvers only)."),
    "users": ("console_cmds", "help", "People on the console: invite them to enrol a passkey, confirm it, revoke "
                                      "their access."),
    "withdraw": ("statement_cmds", "help", ("Withdraw a delivered statement (approvers only, signed): delete the "
                                            "post where the platform allows it, and record the withdrawal with its "
                                            "reason.")),
    "worker": ("worker_cmds", "help", "Deliver approved drafts, retry, remind and time-stamp, until stopped (SIGTERM)."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--workspace", metavar="DIR", help=N_("Workspace folder (else $PUBLISH_WORKSPACE, else the current one)."))
@click.option("--case", type=int, metavar="N", help=N_("Crisis case 1-4 of the draft to render."))
@click.option("--template", metavar="KIND",
              help=N_("apology, external-causes, reassurance, update, resolution, notice, reply, advisor."))
@click.option("--incident", metavar="ID", help=N_("Incident to write for (default: the open one of --case)."))
@click.option("--lang", metavar="LANG", help=N_("Language of the templates (default: the incident's)."))
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help=N_("Template variable; repeatable."))
@click.option("--channel", "channel_names", multiple=True, metavar="NAME",
              help=N_("Only this channel; repeatable (default: every enabled channel)."))
@click.option("--reply-to", metavar="URL_OR_ID",
              help=N_("Post to answer, on channels that can reply (a reply defaults to the incident's source)."))
@click.option("--solution", "solutions", multiple=True, metavar="TEXT",
              help=N_("A solution the resolution announces; repeatable."))
@click.option("--solutions-file", metavar="FILE", help=N_("The resolution's solutions, one per line."))
@click.option("--allow-language", is_flag=True,
              help=N_("Accept --var values written in another language than the statement's."))
@click.option("--dry-run", is_flag=True, help=N_("Preview only; store nothing."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the draft as JSON."))
@click.version_option(package_name="publish-crisis", prog_name="publish")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, case: int | None, template: str | None,
        incident: str | None, lang: str | None, variables: tuple[str, ...], channel_names: tuple[str, ...],
        reply_to: str | None, solutions: tuple[str, ...], solutions_file: str | None, allow_language: bool,
        dry_run: bool, as_json: bool) -> None:
    """Crisis response publisher: render, approve and publish statements on every
    platform, with a tamper-evident log that proves the 12 h / 48 h deadlines.

    \b
    Main job:  publish --case 2 --template apology
    Cases:     1 technical fault, not ours      2 technical fault, ours
               3 reputational risk we caused    4 attacks or outside circumstances
    """
    from publisher.cli.session import Session

    overrides = ctx.obj if isinstance(ctx.obj, dict) else {}
    ctx.obj = Session(workspace=workspace, **overrides)
    ctx.call_on_close(ctx.obj.finish)
    if ctx.invoked_subcommand is not None:
        if case is not None or template is not None:
            raise click.UsageError(_("--case/--template render a draft; give them without a subcommand."))
        return
    if case is None and template is None:
        click.echo(ctx.get_help())
        return
    if case is None or template is None:
        raise click.UsageError(_("give both --case N and --template KIND, e.g. publish --case 2 --template apology."))
    from publisher.cli.draft_view import render_command

    render_command(case=case, template=template, incident_id=incident, language=lang, variables=variables,
                   channel_names=channel_names, reply_to=reply_to, dry_run=dry_run, as_json=as_json,
                   solutions=solutions, solutions_file=solutions_file, allow_language=allow_language)

