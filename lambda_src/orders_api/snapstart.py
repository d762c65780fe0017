"""SnapStart runtime hooks: what must not be shared by the copies of one snapshot.

With ``-c snapStart=true`` Lambda runs the init phase once per published version, snapshots the
process, and starts every execution environment of that version from a copy of the snapshot. What
init leaves in memory is therefore shared by all copies: it must hold no connection (a TCP connection
cannot be resumed by several processes), no secret or token that may be rotated meanwhile, and nothing
seeded from time or randomness.

The service keeps none of these at import: the store, its HTTP session, tokens and cursor key are built
on the first request (``store.factory``), ids come from ``uuid4`` (the operating system's randomness,
fresh after a restore), and timestamps are read per request. The hooks make that a guarantee rather
than a habit: before the snapshot and after each restore they drop whatever a store call made during
init left behind, with the secret readers' HTTP session and client.

One thing is added before the snapshot: boto3, with which secrets are read under SnapStart (the
Parameters and Secrets extension needs a session token that SnapStart does not give, so the stack
leaves it out; see ``secret_values``). Imported then, it is part of every restored copy; the client
itself, which holds credentials, is still made after each restore, on the first read.

The hooks are registered only where the Lambda runtime provides ``snapshot_restore_python``.
"""

from __future__ import annotations

from orders_api import secret_values
from orders_api.store import factory


def forget_shared_state() -> None:
    """No store, session, token, secret or cursor key survives into (or out of) a snapshot."""
    factory.forget()  # with them the secrets read, which their readers hold
    secret_values.forget()


def before_snapshot() -> None:
    """Nothing shared goes into the snapshot, and boto3 does, where secrets are read with it."""
    forget_shared_state()
    if not secret_values.reads_through_extension():
        secret_values.load_sdk()


def register() -> bool:
    """Register the hooks with the Lambda runtime; False where there is no SnapStart runtime."""
    try:
        from snapshot_restore_python import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(forget_shared_state)
    return True
