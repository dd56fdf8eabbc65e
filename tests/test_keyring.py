"""The key ring's prefetch: a page's data keys unwrapped in a few statements, the same
keys `key_for` would give, and an erased girl's key still reported as erased."""

from __future__ import annotations

import pytest

from tests.builders import COORDINATOR, open_trajectory
from trajectory.application import Actor, TrajectoryApplication
from trajectory.crypto import KeyRing, TrajectoryErased
from trajectory.erasure import erase

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
