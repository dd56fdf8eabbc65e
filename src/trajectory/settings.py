"""Settings, read once from the environment into one frozen Struct."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///trajectory.sqlite"


class SettingsError(ValueError):
    pass


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """A comma-separated list of addresses and networks (CIDR); ValueError naming the
    first that is neither."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not an address or a network: {item!r}") from None
    return tuple(networks)


def parse_regions(value: str) -> dict[str, str]:
    """`organisation=region` pairs separated by `;` (a region name may hold spaces and
    commas: "Zuid-Holland Zuid"); ValueError naming the first pair that is not one, or an
    organisation given twice."""
    regions: dict[str, str] = {}
    for item in (part.strip() for part in value.split(";")):
        if not item:
            continue
        organisation, sep, region = (x.strip() for x in item.partition("="))
        if not sep or not organisation or not region:
            raise ValueError(f"not organisation=region: {item!r}")
        if organisation in regions:
            raise ValueError(f"organisation given twice: {organisation!r}")
        regions[organisation] = region
    return regions


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    # API processes sharing the address (uvicorn's workers): the interpreter lock lets one
    # process use one core, so concurrent writers need one process per core.
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    protocol_file: str | None = None
    log_level: str = "info"
    # Snapshots are written with the events of the command that reaches them (cheap): a
    # load replays at most this many events after one.
    snapshot_interval: Annotated[int, msgspec.Meta(ge=2)] = 10
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1_048_576
    db_lock_timeout_seconds: Annotated[int, msgspec.Meta(ge=1)] = 5
    # Group commit (persistence.group_commit): the most commands (and reads' access-log
    # entries) one commit stores, and how long a leader waits for writers still preparing
    # theirs (never when none is).
    write_batch_max: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 64
    write_batch_wait_ms: Annotated[float, msgspec.Meta(ge=0, le=100)] = 2.0
    master_key: str | None = None
    master_key_file: str | None = None
    # in-process: the API keeps the read models current itself (the embedded default);
    # external: `trajectory projections run` does, and reads wait for a given position.
    projections: Literal["in-process", "external"] = "in-process"
    # A store whose loss does not matter (tests, demos): start even when it is configured
    # to lose acknowledged writes (PostgreSQL fsync or synchronous_commit off), with a warning.
    throwaway_store: bool = False
    # The web pages (trajectory.web): cookies marked Secure "always", "never", or (auto)
    # when the request came over HTTPS; session time-outs; where research exports go
    # (default: beside an SQLite file, else a temporary directory).
    web_secure_cookies: Literal["auto", "always", "never"] = "auto"
    web_idle_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 15
    web_absolute_hours: Annotated[int, msgspec.Meta(ge=1, le=24)] = 8
    export_dir: str | None = None
    # How long an API bearer token lives from when it is issued or rotated (identity.users).
    token_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] = 90
    # The reverse proxies (addresses, CIDR networks, comma-separated) whose forwarded
    # scheme and client address are believed; from anyone else those headers are ignored.
    trusted_proxies: str = ""
    # The interactive API docs (Swagger UI at /schema/swagger) load their viewer from a CDN
    # onto the care pages' origin: on a development machine only, when asked. The OpenAPI
    # document itself (/schema/openapi.json) is always served.
    api_docs: Literal["off", "on"] = "off"
    # An aftercare worker reads a girl's file this many days after aftercare ended (not
    # writes); then, and at closure, her access ends.
    aftercare_grace_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 30
    # The region of each organisation ("org-a=Noord-Holland;org-b=Utrecht"): research
    # exports generalise an organisation to its region before withholding it. Empty: no
    # region level (organisation -> withheld).
    organisation_regions: str = ""
    # The Prometheus endpoint (`/metrics`): off (404) without a token; with one, a scraper
    # that sends it as a bearer token gets the metrics, and anyone else a 404. Not a user's
    # token: no care data is behind it, and no user needs it.
    metrics_token: str | None = None

    def __post_init__(self) -> None:
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as e:
            raise ValueError(f"trusted_proxies: {e}") from None
        try:
            parse_regions(self.organisation_regions)
        except ValueError as e:
            raise ValueError(f"organisation_regions: {e}") from None

    @property
    def regions(self) -> dict[str, str]:
        """Organisation -> region (`organisation_regions`, parsed)."""
        return parse_regions(self.organisation_regions)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        raw: dict[str, str] = {}
        for name in cls.__struct_fields__:
            value = env.get(f"TRAJECTORY_{name.upper()}")
            if value is not None:
                raw[name] = value
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as e:
            raise SettingsError(f"invalid setting: {e}") from None


def eventsourcing_env(database_url: str, lock_timeout: int = 5) -> dict[str, str]:
    """Translate a database URL into the eventsourcing library's environment."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.sqlite and sqlite:////absolute/path.sqlite, as SQLAlchemy reads them
        path = unquote(parts.path)
        if parts.netloc:
            path = parts.netloc + path
        elif path.startswith("/"):
            path = path[1:]
        if not path or ":memory:" in path:
            raise SettingsError(
                "TRAJECTORY_DATABASE_URL: give an SQLite file (sqlite:///trajectory.sqlite);"
                " an in-memory database would lose every fact"
            )
        return {
            "PERSISTENCE_MODULE": "trajectory.persistence.recorders:DurableSQLiteFactory",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": str(lock_timeout),
        }
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingsError(
                "TRAJECTORY_DATABASE_URL: a PostgreSQL URL needs a host and a database,"
                " e.g. postgresql://user@127.0.0.1:5432/trajectory"
            )
        env = {
            "PERSISTENCE_MODULE": "trajectory.persistence.recorders:AtomicPostgresFactory",
            "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_LOCK_TIMEOUT": str(lock_timeout),
            # also how long a request waits for a pooled connection before it answers 503
            "POSTGRES_CONNECT_TIMEOUT": str(lock_timeout),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
        }
        return env
    raise SettingsError(
        f"TRAJECTORY_DATABASE_URL: unsupported scheme {parts.scheme!r};"
        " use sqlite:///FILE or postgresql://USER@HOST:PORT/DB"
    )


def sqlite_path(database_url: str) -> str | None:
    """The file of an SQLite URL, or None for another database."""
    env = eventsourcing_env(database_url)
    return env.get("SQLITE_DBNAME")


def dialect_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"
