"""The organisation stream: what an organisation itself does for core elements 1 and 9.

Core element 1 (professionals know the problem) and 9 (a positive pedagogical climate)
are duties of the organisation, not of one girl's trajectory. They are recorded as facts
of the organisation's own event-sourced aggregate (`aggregate.Organisation`, one per
organisation, its id derived from the organisation's name), hash-chained like a
trajectory and checked by `trajectory verify`:

- `events`: the stored facts (never edited; a field added later needs a default);
- `commands`: what the quality officer asks to record (the API's and the pages' bodies);
- `aggregate`: the rules of a command, then the event;
- `store`: the stream's own tables (`organisation_events`, `organisation_index`), the
  chain check and the read of a stream;
- `writing`: the one write path for the organisation's facts (roles, dates,
  idempotency, the access log, one transaction);
- `elements`: the evidence rules of elements 1 and 9 and the overdue improvement
  actions (pure functions of the stream's state and a day);
- `inspection`: the installation-wide figures an inspector reads, small cells suppressed.

Staff are named here (who was trained, who is the aandachtsfunctionaris): they are
professionals at work, not girls. No girl is ever named or referred to in this stream.
"""
