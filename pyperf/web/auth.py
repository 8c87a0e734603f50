"""Who may talk to `pyperf up`'s web server.

- Host header: only the names the server is reachable by (its listen address,
  loopback names on a loopback or wildcard listen, this host's addresses and
  names on a wildcard listen, and --web-host NAMEs). A page on another site
  that re-binds its DNS name to 127.0.0.1 arrives with its own name: refused.
- State-changing requests (POST, ...) carrying an Origin must come from the
  same host: no cross-site form or fetch can post to the API.
- Off loopback, a token: `Authorization: Bearer TOKEN` for the API, or a login
  form that sets an HttpOnly, SameSite=Strict session cookie derived from the
  token (rotating the token ends every session). The token lives in a root-only
  file, made on first use and re-read when it changes (`pyperf token --rotate`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, jsonify, redirect, render_template, request

from pyperf import logs
from pyperf.files import write_atomically
from pyperf.errors import PyperfError

COOKIE = "pyperf_session"
OPEN_PATHS = ("/login", "/static/", "/healthz")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_path(address) -> Path:
    """Beside the embedded store (the folder root owns), else /var/lib/pyperf."""
    if address.embedded:
        return Path(address.path).parent / "web-token"
    return Path("/var/lib/pyperf/web-token")


def token_for_store(address) -> str | None:
    """The token of the agent on this store, when this user may read it (the CLI's way in)."""
    try:
        return token_path(address).read_text().strip() or None
    except OSError:
        return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenFile:
    def __init__(self, path: Path):
        self.path = path
        self._token: str | None = None
        self._mtime: float | None = None

    def ensure(self) -> bool:
        """Make the token when there is none; True when it was made now. Refuses a
        file others could read or write."""
        created = False
        if not self.path.exists():
            self.write_new()
            created = True
        self._check_private()
        self.current()
        return created

    def write_new(self) -> str:
        token = secrets.token_urlsafe(32)
        logs.secret(token)
        try:
            write_atomically(self.path, token + "\n", 0o600)
        except OSError as e:
            raise PyperfError(f"cannot write the web token file {self.path}: {e.strerror}") from None
        return token

    def _check_private(self) -> None:
        try:
            st = self.path.stat()
        except OSError as e:
            raise PyperfError(f"cannot read the web token file {self.path}: {e.strerror}") from None
        if st.st_mode & 0o077 or st.st_uid != os.geteuid():
            raise PyperfError(f"web token file {self.path} may be read by other users: "
                              f"chown it to this user and chmod 600 it, or rotate it with `pyperf token --rotate`")

    def current(self) -> str:
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                self._token = self.path.read_text().strip()
                self._mtime = mtime
                logs.secret(self._token)
        except OSError:
            pass   # keep the last good token rather than lock everyone out mid-rotation
        if not self._token:
            raise PyperfError(f"web token file {self.path} is empty: rotate it with `pyperf token --rotate`")
        return self._token


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"pyperf-web-session", hashlib.sha256).hexdigest()


def allowed_hosts(listen_host: str, port: int, extra_names: list[str]) -> set[str]:
    """Host header values (lower case) this server answers to."""
    names = {listen_host}
    if is_loopback(listen_host) or listen_host in ("0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "::1"}
    if listen_host in ("0.0.0.0", "::"):
        import psutil

        for addresses in psutil.net_if_addrs().values():
            for a in addresses:
                if a.family in (socket.AF_INET, socket.AF_INET6):
                    names.add(a.address.split("%")[0])
        names |= {socket.gethostname(), socket.getfqdn()}
    names |= set(extra_names)
    out = set()
    for name in names:
        name = name.lower()
        shown = f"[{name}]" if ":" in name else name
        out.add(f"{shown}:{port}")
        if port == 80:
            out.add(shown)
    return out


def protect(app: Flask, listen_host: str, port: int, token_file: TokenFile | None,
            extra_names: list[str] = ()) -> None:
    """Install the checks above on every request of `app`."""
    hosts = allowed_hosts(listen_host, port, list(extra_names))

    def authenticated() -> bool:
        if token_file is None:
            return True
        token = token_file.current()
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(token).encode())

    @app.before_request
    def guard():
        if request.host.lower() not in hosts:
            return jsonify(error=f"unexpected Host header '{request.host[:100]}': use the address pyperf "
                                 "listens on, or add this name with --web-host"), 421
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
                return jsonify(error="cross-origin request refused"), 403
        if request.path.startswith(OPEN_PATHS) or authenticated():
            return None
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(f"/login?next={request.full_path if request.query_string else request.path}")
        response = jsonify(error="authentication required: send Authorization: Bearer TOKEN "
                                 "(the token is in the file `pyperf token` names)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="pyperf"'
        return response, 401

    @app.route("/login", methods=["GET", "POST"])
    def login():
        target = request.values.get("next", "/")
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        if token_file is None:
            return redirect(target)
        if request.method == "GET":
            return render_template("login.html", next=target, failed=False)
        given = request.form.get("token", "").strip()
        token = token_file.current()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return render_template("login.html", next=target, failed=True), 401
        response = redirect(target)
        response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="Strict",
                            secure=request.is_secure, path="/")
        return response
