"""Confirming an unknown delivery with a passkey (the console's path).

Guarantees: the message signed is `signatures.action_message("confirm", draft/channel,
data, person)` over exactly the data `confirm_delivery` records (the post as the
platform answered when it can look it up, else the reference given), checked by
`people.signed_action` and recorded by the same `confirm_delivery` as `publish confirm`.
"""
from __future__ import annotations

from typing import Any

from publisher.delivery.confirm import Confirmation, confirm_delivery, confirmation_data
from publisher.incident import people
from publisher.log.signatures import action_message
from publisher.workspace.app import App


def message(app: App, draft_id: str, channel: str, person: str, reference: str) -> bytes:
    _, data = confirmation_data(app, draft_id, channel, person, reference)
    return action_message("confirm", f"{draft_id}/{channel}", data, person)


def options(app: App, draft_id: str, channel: str, person: str, reference: str) -> dict[str, Any]:
    return people.action_options(app, person, message(app, draft_id, channel, person, reference))


def act(app: App, draft_id: str, channel: str, person: str, reference: str,
        credential: dict[str, Any]) -> Confirmation:
    signature = people.signed_action(app, person, message(app, draft_id, channel, person, reference), credential)
    return confirm_delivery(app, draft_id, channel, person, reference, signature=signature)
