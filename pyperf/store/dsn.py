"""Store addresses: `chdb:///path` (embedded ClickHouse) or `http(s)://user:pass@host:port/db`.

Secrets and TLS settings for a server come from the environment, so they stay
out of process lists and shell history (the CLI options --store-password-file,
--store-ca and --store-insecure set these variables):

  PYPERF_STORE_PASSWORD       the password (when the DSN has none)
  PYPERF_STORE_PASSWORD_FILE  a file whose first line is the password
  PYPERF_STORE_CA             CA bundle (PEM) that signed the server's certificate
  PYPERF_STORE_INSECURE=1     do not verify the server's certificate (testing only)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from pyperf import logs
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
    ca_file: str = ""           # https: CA bundle to verify the server with ("" = system CAs)
    verify: bool = True         # https: verify the server's certificate

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


def resolve_address(cli_value: str | None) -> StoreAddress:
    """The store address from --store / PYPERF_STORE, with the password and TLS
    settings the environment gives."""
    address = parse_dsn(resolve_dsn(cli_value))
    if address.embedded:
        return address
    password = address.password or _password_from_environment()
    logs.secret(password)
    ca_file = os.environ.get("PYPERF_STORE_CA", "")
    if ca_file and not os.access(ca_file, os.R_OK):
        raise UsageError(f"store CA file {ca_file} is not readable")
    verify = os.environ.get("PYPERF_STORE_INSECURE", "") not in ("1", "true", "yes")
    return replace(address, password=password, ca_file=ca_file, verify=verify)


def _password_from_environment() -> str:
    path = os.environ.get("PYPERF_STORE_PASSWORD_FILE")
    if path:
        try:
            with open(path) as f:
                return f.readline().rstrip("\r\n")
        except OSError as e:
            raise UsageError(f"cannot read the store password file {path}: {e.strerror}") from None
    return os.environ.get("PYPERF_STORE_PASSWORD", "")


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
