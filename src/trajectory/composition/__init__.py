"""The composition root: the one place that puts the application together.

Every process builds its application here: the server and each of its workers, the
command line, the benchmarks, the demo. What a low module must call in a higher one is
registered here, so that the low module imports nothing above it:
- the key ring's re-wrappers (a master-key rotation re-wraps the research projects' and
  the users' TOTP secrets and the statistics signing key in its transaction; `crypto`
  knows none of them);
- the read models' erasure hooks (an erasure deletes their rows in its transaction).

This module loads the application and nothing of the HTTP API; `composition.http` adds
the API's services and the Litestar app on top (it loads Litestar and the pages, which
the command line does not need). Nothing here reads the environment, sets a global or
starts a thread at import: settings and the clock come in as arguments, so a caller (a
test, the demo) passes its own clock to its own application.
"""

from __future__ import annotations

from collections.abc import Sequence

from trajectory.application import TrajectoryApplication
from trajectory.clock import Clock, system_clock
from trajectory.crypto import KeyRing, Rewrapper
from trajectory.exchange.handover import create_tables as create_handover_tables
from trajectory.exchange.handover import delete_trajectory as delete_exchanged_bundles
from trajectory.exchange.keys import create_tables as create_exchange_tables
from trajectory.exchange.keys import rewrap_exchange_key
from trajectory.identity.credentials import rewrap_totp_secrets
from trajectory.projections import Projection, ProjectionRunner, setup_projections
from trajectory.projections.runner import PAGE_SIZE
from trajectory.protocol import ProtocolRegistry, ProtocolRegistryError, registry_from_settings
from trajectory.research.projects import rewrap_project_secrets
from trajectory.settings import Settings, SettingsError
from trajectory.statistics.signing import create_table as create_signing_key_table
from trajectory.statistics.signing import rewrap_signing_key

REWRAPPERS: tuple[Rewrapper, ...] = (
    rewrap_project_secrets, rewrap_totp_secrets, rewrap_signing_key, rewrap_exchange_key
)
"""Everything else the master key wraps. A new table of wrapped secrets adds its
re-wrapper here, or a rotation would leave its secrets under a destroyed key."""


def protocols_from(settings: Settings) -> ProtocolRegistry:
    """The protocols the settings name; a protocol file that does not load is a settings
    problem (the command line answers it with its usage exit code)."""
    try:
        return registry_from_settings(settings)
    except ProtocolRegistryError as e:
        raise SettingsError(str(e)) from None


def register_rewrappers(keys: KeyRing) -> None:
    """Put every re-wrapper on the key ring, once however often this is called."""
    for rewrap in REWRAPPERS:
        if rewrap not in keys.rewrappers:
            keys.rewrappers.append(rewrap)


def build_application(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    protocols: ProtocolRegistry | None = None,
    encrypt: bool = True,
    create_tables: bool = True,
) -> TrajectoryApplication:
    """The application on the settings' store, with its key ring's re-wrappers and the
    read models' erasure hooks registered (and their tables created, with the store's own,
    when `create_tables`).

    `protocols`: the settings' protocols when None. `clock`: the application's only
    source of time (a demo or a test passes its own). `encrypt=False`: measurements only.
    """
    application = TrajectoryApplication(
        settings,
        protocols=protocols or protocols_from(settings),
        clock=clock,
        encrypt=encrypt,
        create_tables=create_tables,
    )
    if application.keys is not None:
        register_rewrappers(application.keys)
        if create_tables:  # the signing key's table, with the store's own (see its module)
            create_signing_key_table(application.db)
            create_exchange_tables(application.db)
            create_handover_tables(application.db)
    # The bundles she came with or left with go with her at erasure (exchange.handover).
    if delete_exchanged_bundles not in application.erasure_hooks:
        application.erasure_hooks.append(delete_exchanged_bundles)
    # Registers the read models' erasure hooks, so that an erasure removes their rows.
    projection_runner(application, create_tables=create_tables)
    return application


def projection_runner(
    application: TrajectoryApplication,
    *,
    names: Sequence[str] | None = None,
    extra: Sequence[Projection] = (),
    create_tables: bool = True,
    page_size: int = PAGE_SIZE,
) -> ProjectionRunner:
    """The runner of the read models (all, or `names`), their erasure hooks registered on
    the application (once per read model, however often this is called)."""
    return setup_projections(
        application, names=names, extra=extra, create_tables=create_tables, page_size=page_size
    )


__all__ = [
    "REWRAPPERS",
    "build_application",
    "projection_runner",
    "protocols_from",
    "register_rewrappers",
]
