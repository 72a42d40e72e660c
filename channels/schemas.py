"""Every channel type's config options, declared apart from the channel modules so the
config can be validated (and `publish status` run) without importing the code of a
channel nobody uses. Each channel class takes its `options` from here."""
from __future__ import annotations

from channels.options import NETWORK_OPTIONS, Option

TWEEPY_HOST = "https://api.twitter.com"
GRAPH_URL = "https://graph.facebook.com"
BOT_API_URL = "https://api.telegram.org"
BLUESKY_URL = "https://bsky.social"
LINKEDIN_URL = "https://api.linkedin.com"
LINKEDIN_OAUTH_URL = "https://www.linkedin.com"
LINKEDIN_VERSION = "202611"
THREADS_URL = "https://graph.threads.net"

OPTIONS: dict[str, dict[str, Option]] = {
    "outbox": {
        "path": Option(str, default="var/outbox", help="folder the files are written to (relative to the workspace)"),
        "variant": Option(str, default="long", choices=("short", "long")),
        "max_length": Option(int, help="refuse payloads longer than this"),
        "counting": Option(str, default="chars",
                           choices=("chars", "utf16", "x", "mastodon", "bluesky", "threads", "linkedin")),
        "overflow": Option(str, default="reject", choices=("reject", "thread", "split")),
    },
    "site": {
        "path": Option(str, default="var/site", help="folder the site is written to (relative to the workspace)"),
        "title": Option(str, help="title of the index page and the feed (default: \"<organisation> — "
                                  "Comunicados\" or \"— Statements\" by the statement's language)"),
        "base_url": Option(str, help="public URL the folder is served at, e.g. https://acme.example/statements/"),
        "language": Option(str, help="language of the index page and the feed (default: the first statement's); "
                                     "each statement's own page follows the statement's language"),
    },
    "x": {
        "api_key": Option(str, required=True, secret=True, help="the X app's API key (consumer key)"),
        "api_secret": Option(str, required=True, secret=True, help="the X app's API key secret"),
        "access_token": Option(str, required=True, secret=True, help="the posting account's access token"),
        "access_token_secret": Option(str, required=True, secret=True,
                                      help="the posting account's access token secret"),
        "username": Option(str, help="the posting account's handle, used in post URLs"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=TWEEPY_HOST, help=NETWORK_OPTIONS["api_url"].help, url=TWEEPY_HOST),
    },
    "facebook": {
        "page_id": Option((str, int), required=True, help="numeric id of the Facebook Page"),
        "token": Option(str, required=True, secret=True, help="Page access token"),
        "graph_version": Option(str, default="v25.0", help="Graph API version, e.g. v25.0"),
        "app_secret": Option(str, secret=True,
                             help="the Facebook app's secret: the `feed` webhook at /hooks/facebook accepts only "
                                  "requests signed with it (X-Hub-Signature-256)"),
        "verify_token": Option(str, secret=True,
                               help="the token typed in the app's webhook settings; /hooks/facebook answers "
                                    "Facebook's verification challenge only when it matches"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=GRAPH_URL, help=NETWORK_OPTIONS["api_url"].help, url=GRAPH_URL),
    },
    "telegram": {
        "token": Option(str, required=True, secret=True, help="bot token from @BotFather"),
        "chat": Option((str, int), required=True, help="\"@channelname\" or a numeric chat id"),
        "parse_mode": Option(str, choices=("HTML", "MarkdownV2", "Markdown"),
                             help="how Telegram reads the text; the approved text is escaped for it, so "
                                  "the message shows it exactly as approved; plain text when unset"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=BOT_API_URL, help=NETWORK_OPTIONS["api_url"].help, url=BOT_API_URL),
    },
    "mastodon": {
        "instance": Option(str, required=True, help="base URL of the account's server, e.g. https://mastodon.social",
                           url="https://mastodon.social"),
        "token": Option(str, required=True, secret=True,
                        help="access token with the write:statuses, read:statuses and read:accounts scopes "
                             "(check, and looking a post up before a resend)"),
        "visibility": Option(str, default="public", choices=("public", "unlisted", "private", "direct")),
        "max_length": Option(int, default=500, help="the server's character limit (500 unless it allows more)"),
        **NETWORK_OPTIONS,
    },
    "bluesky": {
        "handle": Option(str, required=True, help="the account's handle, e.g. acme.bsky.social"),
        "app_password": Option(str, required=True, secret=True,
                               help="an app password of the account (Settings, App passwords), never its own password"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=BLUESKY_URL, help="the account's PDS; https://bsky.social forwards to it",
                          url=BLUESKY_URL),
    },
    "instagram": {
        "user_id": Option((str, int), required=True,
                          help="the Instagram professional account's id (IG User id), e.g. 17841400000000000"),
        "token": Option(str, required=True, secret=True,
                        help="an access token with instagram_basic and instagram_content_publish"),
        "graph_version": Option(str, default="v25.0", help="Graph API version, e.g. v25.0"),
        "site": Option(str, default="web",
                       help="the site channel whose folder holds the cards and whose base_url serves them"),
        "card_background": Option(str, default="#FFFFFF", help="the cards' background colour"),
        "card_text": Option(str, default="#1A1A1A", help="the cards' text colour"),
        "card_accent": Option(str, default="#0B3D91", help="the cards' band, rule and page number colour"),
        "font": Option(str, help="a .ttf file for the cards (default: DejaVu Sans, fonts-dejavu-core)"),
        "poll_every": Option((int, float), default=3, bounds=(0, 60),
                             help="seconds between two reads of a container's status"),
        "polls": Option(int, default=20, bounds=(1, 100),
                        help="reads of a container's status before the send is tried again later"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=GRAPH_URL, help=NETWORK_OPTIONS["api_url"].help, url=GRAPH_URL),
    },
    "matrix": {
        "homeserver": Option(str, required=True, url="https://matrix.example.org",
                             help="the account's homeserver, e.g. https://matrix.acme.example; "
                                  "requests go to it unless api_url is set"),
        "room": Option(str, required=True, help="the room's id, \"!abc:acme.example\" (the room's settings, "
                                                "Advanced); the account must have joined it"),
        "token": Option(str, required=True, secret=True,
                        help="the posting account's access token (a device of its own: transaction ids are kept "
                             "per token)"),
        **NETWORK_OPTIONS,
    },
    "linkedin": {
        "organization": Option(str, required=True, help="the organisation's URN, e.g. urn:li:organization:123456"),
        "token": Option(str, required=True, secret=True,
                        help="a member's access token with w_organization_social and r_organization_social (the "
                             "member an administrator or content administrator of the organisation's page)"),
        "version": Option(str, default=LINKEDIN_VERSION,
                          help="the LinkedIn-Version header, YYYYMM (LinkedIn supports each version for a year)"),
        "client_id": Option(str, help="the app's client id: with client_secret, `channels check` reads the "
                                      "token's expiry from LinkedIn's token introspection"),
        "client_secret": Option(str, secret=True, help="the app's client secret (token introspection)"),
        "oauth_url": Option(str, default=LINKEDIN_OAUTH_URL, help="base URL of LinkedIn's OAuth server (tests)",
                            url=LINKEDIN_OAUTH_URL),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=LINKEDIN_URL, help=NETWORK_OPTIONS["api_url"].help, url=LINKEDIN_URL),
    },
    "threads": {
        "user_id": Option((str, int), required=True, help="the Threads user id of the posting profile"),
        "token": Option(str, required=True, secret=True,
                        help="the profile's Threads access token (threads_basic, threads_content_publish, "
                             "threads_manage_replies, threads_delete)"),
        "graph_version": Option(str, default="v1.0", help="Threads API version in the path, e.g. v1.0"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=THREADS_URL, help=NETWORK_OPTIONS["api_url"].help, url=THREADS_URL),
    },
    "slack": {
        "webhook_url": Option(str, required=True, secret=True,
                              help="incoming webhook URL, https://hooks.slack.com/services/T…/B…/…"),
        "bot_token": Option(str, secret=True,
                            help="a Slack app's bot token (xoxb-…, scope chat:write): notices to a person as a "
                                 "direct message"),
        "web_api_url": Option(str, default="https://slack.com/api",
                              help="base URL of Slack's Web API, for the direct messages (proxies, tests)",
                              url="https://slack.com/api"),
        "user": Option(str, help="set by the publisher to one person's Slack user id for a direct message; never "
                                 "in the config"),
        **NETWORK_OPTIONS,
    },
    "discord": {
        "webhook_url": Option(str, required=True, secret=True,
                              help="webhook URL, https://discord.com/api/webhooks/<id>/<token>"),
        "username": Option(str, help="name shown as the author instead of the webhook's own"),
        **NETWORK_OPTIONS,
    },
    "teams": {
        "webhook_url": Option(str, required=True, secret=True,
                              help="HTTP URL of the workflow's 'When a Teams webhook request is received' trigger"),
        **NETWORK_OPTIONS,
    },
    "webhook": {
        "url": Option(str, required=True, secret=True, help="where deliveries are POSTed (http or https)"),
        "headers": Option(dict, secret=True, help="extra request headers, name = \"${NAME}\"; every value is a "
                                                  "secret, written as a reference like every other secret"),
        **NETWORK_OPTIONS,
    },
    "email": {
        "host": Option(str, required=True, help="SMTP server host name"),
        "port": Option(int, help="SMTP port; 587 by default, 465 when security = \"ssl\""),
        "security": Option(str, default="starttls", choices=("starttls", "ssl", "none"),
                           help="starttls (submission), ssl (implicit TLS), none (plain; loopback relays and tests only)"),
        "username": Option(str, help="login name; no login when unset"),
        "password": Option(str, secret=True, help="login password"),
        "sender": Option(str, required=True, help="From address, e.g. \"Acme Press <press@acme.example>\""),
        "recipients": Option(list, required=True, help="list of recipient addresses"),
        "tls_ca_file": Option(str, help="PEM bundle of extra CAs to trust (self-signed servers, tests)"),
        "show_recipients": Option(bool, default=False,
                                  help="list the recipients in To: (by default they are hidden from each other)"),
        "timeout": NETWORK_OPTIONS["timeout"],
    },
}
