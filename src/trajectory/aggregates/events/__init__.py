"""The event vocabulary of a trajectory, one module per area.

Events are past-tense facts and the stored contract. Each event folds itself into the
trajectory's state in `apply`, which only assigns: it runs again on every replay.
"""
