"""The privacy commands of the command line: a new master key, key rotation, erasure,
retention."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TextIO
from uuid import UUID

from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.crypto import MasterKey, TrajectoryErased, read_key_file, write_key_file
from trajectory.erasure_proposals import check_ground, erase_expired, refuse_alone
from trajectory.retention import retention_items
from trajectory.settings import sqlite_path


def new_key_file(out_file: str, out: TextIO) -> int:
    """A fresh master key in a new file only its owner may read: the operator's way to
    make one (never over an existing file: that may be the only copy of a key in use)."""
    target = Path(out_file)
    if target.exists():
        print(f"trajectory: {target} exists; a key file is never overwritten", file=sys.stderr)
        return 2
    if not target.parent.is_dir():
        print(f"trajectory: there is no directory {target.parent}", file=sys.stderr)
        return 2
    key = MasterKey.generate()
    write_key_file(target, key)
    out.write(f"wrote master key {key.key_id} to {target} (readable by its owner only)\n")
    out.write("keep two offline copies of it, apart from the database backups\n")
    return 0


def rotate_keys(app: TrajectoryApplication, new_key_file: str | None, out: TextIO) -> int:
    """Re-wrap all data keys; write the new key where the operator will use it next."""
    if app.keys is None:
        print("trajectory: this store is not encrypted", file=sys.stderr)
        return 2
    configured = app.settings.master_key_file or (
        (sqlite_path(app.settings.database_url) or "") + ".key"
        if sqlite_path(app.settings.database_url) and not app.settings.master_key
        else None
    )
    target = Path(new_key_file) if new_key_file else (Path(configured) if configured else None)
    if target is None:
        print(
            "trajectory: the master key comes from TRAJECTORY_MASTER_KEY; give --new-key-file"
            " for the new key, then point TRAJECTORY_MASTER_KEY_FILE at it",
            file=sys.stderr,
        )
        return 2
    new = read_key_file(target) if new_key_file and target.exists() else MasterKey.generate()
    old_id = app.keys.master.key_id
    if new.key_id == old_id:
        print("trajectory: the new master key is the key in use", file=sys.stderr)
        return 2
    # Write the new key first under a temporary name, so that a crash cannot leave a
    # store wrapped with a key that exists nowhere.
    staging = target.with_name(target.name + ".new")
    write_key_file(staging, new)
    count = app.keys.rotate(new, app.clock())
    staging.replace(target)
    out.write(f"re-wrapped {count} data keys: master key {old_id} -> {new.key_id}\n")
    out.write(f"the new master key is in {target}; destroy every copy of the old one\n")
    return 0


def erase_command(
    app: TrajectoryApplication, args: argparse.Namespace, stdin: TextIO, out: TextIO
) -> int:
    try:
        trajectory_id = UUID(args.id)
    except ValueError:
        print(f"trajectory: {args.id!r} is not a trajectory id (a UUID)", file=sys.stderr)
        return 2
    row = app.db.fetchone(
        "SELECT organisation FROM trajectory_index WHERE trajectory_id = ?", [str(trajectory_id)]
    )
    # The rule is asked before the question: a refused erasure asks nothing.
    try:
        if row is not None:
            check_ground(app, str(trajectory_id), args.legal_ground, None)
        if args.legal_ground != "retention-expired":
            raise refuse_alone(args.legal_ground)
    except RuleRefused as e:
        print(f"trajectory: {e.message}; nothing was erased", file=sys.stderr)
        return 2
    if not args.yes:
        out.write(
            f"This destroys trajectory {trajectory_id} for good: nobody will be able to read"
            " it again.\nType the trajectory id to confirm: "
        )
        out.flush()
        answer = stdin.readline().strip()
        if answer != str(trajectory_id):
            print("trajectory: not confirmed; nothing was erased", file=sys.stderr)
            return 1
    operator = Actor(
        user_id=f"cli:{getpass.getuser()}",
        role="admin",
        organisation=str(row["organisation"]) if row else "",
    )
    try:
        erasure = erase_expired(
            app, trajectory_id, by=operator, reason=args.reason, client="cli"
        )
    except TrajectoryErased:
        print(f"trajectory: trajectory {trajectory_id} was already erased", file=sys.stderr)
        return 1
    except TrajectoryNotFound:
        print(f"trajectory: no trajectory with id {trajectory_id}", file=sys.stderr)
        return 1
    except RuleRefused as e:
        print(f"trajectory: {e.message}", file=sys.stderr)
        return 2
    out.write(
        f"erased trajectory {erasure.trajectory_id} at {erasure.erased_at.isoformat()}"
        f" ({erasure.legal_ground})\n"
    )
    return 0


def retention_command(app: TrajectoryApplication, out: TextIO) -> int:
    today = amsterdam_date(app.clock())
    items = retention_items(app, today)
    if not items:
        out.write("no trajectory is due for destruction\n")
        return 0
    out.write(
        f"{'due_on':10}  overdue  {'reason':16}  {'trajectory':36}  organisation\n"
    )
    for item in items:
        out.write(
            f"{item.due_on.isoformat()}  {'yes' if item.overdue else 'no ':7}  {item.reason:16}"
            f"  {item.trajectory_id}  {item.organisation}\n"
        )
    return 0
