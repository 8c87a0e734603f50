"""Read commands while `pyperf up` holds the embedded store: only one process may
open it, so they ask the running agent over its web API with the store's token."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

from pyperf.errors import StoreBusyError, StoreError
from pyperf.store.lock import StoreLock, holder
from pyperf.store.store import Store
from pyperf.web.auth import token_for_store


def agent_for(address, verb: str) -> dict | None:
    """The {listen, token} of the agent holding an embedded store, None when the
    store is free; a holder without a web API (`record`) makes the store busy."""
    if not address.embedded:
        return None
    owner = holder(address.path)
    if owner is None:
        return None
    if not owner.get("listen"):
        raise StoreBusyError(f"store {address.path} is in use by pyperf {owner.get('command', '?')} "
                             f"(pid {owner.get('pid', '?')}); run `pyperf {verb}` after it finishes")
    return {"listen": owner["listen"], "token": token_for_store(address)}


@contextmanager
def store_of_my_own(address, verb: str):
    """The store opened for one command when no agent holds it (an embedded one
    locked for the command's time)."""
    lock = StoreLock(address.path, verb) if address.embedded else None
    if lock:
        lock.acquire()
    store = Store(address)
    try:
        store.open()
        yield store
    finally:
        store.close()
        if lock:
            lock.release()


def call(agent: dict, path: str, payload: dict | None = None, query: dict | list | None = None,
         timeout_s: float = 120.0):
    """GET (or POST `payload` as JSON) to the running agent; its JSON answer, or a
    StoreError carrying the agent's own one-line error."""
    host, _, port = agent["listen"].rpartition(":")
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    url = f"http://{host}:{port}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    headers = {"Content-Type": "application/json"}
    if agent.get("token"):
        headers["Authorization"] = f"Bearer {agent['token']}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        try:
            message = json.load(e).get("error", str(e))
        except ValueError:
            message = str(e)
        raise StoreError(message) from None
    except (urllib.error.URLError, OSError) as e:
        raise StoreError(f"the running pyperf up at {agent['listen']} did not answer: {e}") from None
