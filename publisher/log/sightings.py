"""Outside witnesses of the log: heads (sequence number, hash) written into files the log
does not own (statement pages, feed entries, outbox files).

Guarantees: `contradiction()` names the first sighting the store cannot account for,
either a row the store does not have (an older copy was restored, or rows were cut or
emptied, head file and all) or a row whose hash differs (the store was replaced). A
sighting is written after its row is committed, so the store that wrote it always
accounts for it: any contradiction means the store is not the one that wrote it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from publisher.i18n import _

if TYPE_CHECKING:
    from channels.base import Sighting
    from publisher.log.store import Store


def contradiction(store: Store, sightings: Iterable[Sighting]) -> str | None:
    """One sentence naming the first witness ahead of, or at odds with, the store."""
    head_seq, _head_hash = store.head()
    ordered = sorted(sightings, key=lambda sighting: -sighting.seq)
    for sighting in ordered:
        if sighting.seq > head_seq:
            return _("{where} records log row {seq}, but the log ends at row {head}: an older copy of the log was "
                     "restored, or rows were cut; nothing is written or sent until the log that wrote it is back"
                     ).format(where=sighting.where, seq=sighting.seq, head=head_seq)
        rows = store.events(after_seq=sighting.seq - 1, limit=1)
        if not rows or rows[0].seq != sighting.seq or rows[0].hash != sighting.hash:
            return _("{where} records log row {seq} with hash {hash}, but the log's row {seq} differs: the log was "
                     "replaced; nothing is written or sent until the log that wrote it is back").format(
                         where=sighting.where, seq=sighting.seq, hash=sighting.hash[:12])
    return None
