"""Store addresses: `chdb:///path` (embedded ClickHouse) or `http(s)://user:pass@host:port/db`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pyperf.errors import UsageError

DEFAULT_DSN = "chdb:///var/lib/pyperf/store"
DEFAULT_DATABASE = "pyperf"


@dataclass(frozen=True)
class StoreAddress:
    dsn: str
    scheme: str                 # "chdb", "http" or "https"
    path: str = ""              # embedded store folder
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = ""
    database: str = DEFAULT_DATABASE

    @property
    def embedded(self) -> bool:
        return self.scheme == "chdb"

    def redacted(self) -> str:
        """The DSN with any password replaced, for logs and summaries."""
        if self.embedded:
            return f"chdb://{self.path}"
        auth = f"{self.username}:***@" if self.password else f"{self.username}@"
        return f"{self.scheme}://{auth}{self.host}:{self.port}/{self.database}"


def resolve_dsn(cli_value: str | None) -> str:
    return cli_value or os.environ.get("PYPERF_STORE") or DEFAULT_DSN


def parse_dsn(dsn: str) -> StoreAddress:
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError as e:
        raise UsageError(f"bad store address '{dsn}': {e}") from None
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise UsageError(f"bad store address '{dsn}': use chdb:///absolute/path (three slashes)")
        return StoreAddress(dsn=dsn, scheme=scheme, path=path.rstrip("/") or "/")
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise UsageError(f"bad store address '{dsn}': no host name")
        database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
        if "/" in database:
            raise UsageError(f"bad store address '{dsn}': the path must be one database name")
        return StoreAddress(
            dsn=dsn,
            scheme=scheme,
            host=parts.hostname,
            port=port or (8443 if scheme == "https" else 8123),
            username=unquote(parts.username) if parts.username else "default",
            password=unquote(parts.password) if parts.password else "",
            database=database,
        )
    shown = scheme or "(none)"
    raise UsageError(
        f"bad store address '{dsn}': unknown scheme {shown}; use chdb:///path or http(s)://host:port/db"
    )
