"""trajectory: an event-sourced tracker of treatment trajectories in youth care.

Every girl's trajectory is an immutable, hash-chained event stream; a versioned phase
protocol decides what may happen next; projections show each user what they need.
"""

__version__ = "0.1.0"
