"""The key ring's prefetch: a page's data keys unwrapped in a few statements, the same
keys `key_for` would give, and an erased girl's key still reported as erased."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from tests.builders import COORDINATOR, open_trajectory
from trajectory.application import Actor, TrajectoryApplication
from trajectory.crypto import KeyRing, TrajectoryErased
from trajectory.erasure import erase
from trajectory.persistence.mapper import TrajectoryMapper

ADMIN = Actor(user_id="admin-1", role="admin", organisation=COORDINATOR.organisation)


def test_prefetch_caches_the_same_keys_and_leaves_erased_ones_erased(
    app: TrajectoryApplication,
) -> None:
    # given three girls, one of them erased, and a key ring with nothing cached
    kept = [open_trajectory(app) for _ in range(2)]
    gone = open_trajectory(app)
    erase(app, gone, by=ADMIN, reason="request granted", legal_ground="request-granted")
    assert app.keys is not None
    fresh = KeyRing(app.db, app.keys.master)
    # when the three are prefetched
    fresh.prefetch([*kept, gone])
    # then the kept girls' keys are those the store holds, already in hand: with their
    # rows gone from the store they are still given (from the cache)
    expected = {t: app.keys.key_for(t) for t in kept}
    with app.db.transaction() as tx:
        tx.execute(
            f"DELETE FROM data_keys WHERE trajectory_id IN ({', '.join('?' for _ in kept)})",
            [str(t) for t in kept],
        )
    assert {t: fresh.key_for(t) for t in kept} == expected
    # and the erased girl's key is still reported as erased, not guessed
    with pytest.raises(TrajectoryErased):
        fresh.key_for(gone)


def test_one_girls_events_decoded_together_are_her_events_and_tampering_still_shows(
    app: TrajectoryApplication,
) -> None:
    # given a girl with a few events, and another girl
    girl, other = open_trajectory(app), open_trajectory(app)
    stored = app.stored_events(girl)
    mapper = app.mapper
    assert isinstance(mapper, TrajectoryMapper)
    # when her events are decoded together (her key looked up once, as the export does)
    decode = mapper.decoder_for(girl)
    together = [vars(decode(s)) for s in stored]
    # then they are the events decoded one by one
    assert together == [vars(mapper.to_domain_event(s)) for s in stored]
    # and another girl's event decodes with her own key, not this one
    (first_of_other, *_) = app.stored_events(other)
    assert decode(first_of_other).originator_id == other
    # and a changed payload is refused, as it is one by one
    changed = bytearray(stored[0].state)
    changed[-1] ^= 1
    with pytest.raises(MapperDeserialisationError):
        decode(StoredEvent(originator_id=girl, originator_version=1, topic=stored[0].topic,
                           state=bytes(changed)))
    # and an erased girl's events are not opened
    erase(app, girl, by=ADMIN, reason="request granted", legal_ground="request-granted")
    assert app.keys is not None
    app.keys.forget(girl)
    with pytest.raises(TrajectoryErased):
        mapper.decoder_for(girl)(stored[0])
