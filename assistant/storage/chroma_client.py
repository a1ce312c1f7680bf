"""Open Chroma: the embedded store in data_dir (one process at a time) or a Chroma server by URL."""

from __future__ import annotations

import logging
import os
import threading
from urllib.parse import urlparse

from filelock import FileLock, Timeout

from assistant.core.errors import ConfigError, StoreError, StoreInUseError
from assistant.core.net import is_loopback
from assistant.core.settings import Settings
from assistant.storage.catalogue import CATALOGUE_FILE, close_catalogues

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 3.0


class ChromaHandle:
    """A Chroma client plus, in embedded mode, a hold on the lock that keeps other processes out of the data dir."""

    def __init__(self, client, lock_key: str | None, description: str) -> None:
        self.client = client
        self.lock_key = lock_key
        self.description = description

    def close(self) -> None:
        """Close the Chroma client, then let other processes in. Chroma keeps one System per path and process
        (counted per client): unless the last client closes, it lives on with its segment state in memory, and
        reopening the store after another process wrote it reads that stale state ("Missing metadata segment",
        "Nothing found on disk")."""
        client, self.client = self.client, None
        try:
            if client is not None and callable(getattr(client, "close", None)):
                client.close()
        except Exception as exc:  # closing must not fail a shutdown
            log.debug("closing the Chroma client failed: %s", exc)
        finally:
            if self.lock_key is not None:
                _release(self.lock_key)
                self.lock_key = None


# One lock per data dir and process, counted: two Assistants of one process share the store (Chroma's client is
# thread-safe and shared per path); another process is kept out until the last one here closes.
_held: dict[str, list] = {}  # lock path -> [FileLock, holders]
_held_guard = threading.Lock()


def _hold(lock_path: str) -> None:
    with _held_guard:
        if lock_path in _held:
            _held[lock_path][1] += 1
            return
        lock = FileLock(lock_path)
        lock.acquire(timeout=LOCK_WAIT_SECONDS)  # Timeout propagates
        _held[lock_path] = [lock, 1]


def _release(lock_path: str) -> None:
    with _held_guard:
        entry = _held.get(lock_path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            # the catalogue beside Chroma goes with the store (its connection is per data dir and process)
            close_catalogues(os.path.join(os.path.dirname(lock_path), CATALOGUE_FILE))
            entry[0].release(force=True)
            del _held[lock_path]


def open_chroma(settings: Settings) -> ChromaHandle:
    if settings.chroma_url:
        return _open_server(settings)
    return _open_embedded(settings)


def _open_embedded(settings: Settings) -> ChromaHandle:
    import chromadb  # heavy (seconds): imported when a store is first opened
    from chromadb.config import Settings as ChromaSettings

    path = os.path.join(settings.data_dir, "chroma")
    os.makedirs(path, exist_ok=True)
    # PersistentClient is thread-safe but not process-safe: hold an exclusive lock while open.
    lock_path = os.path.realpath(os.path.join(settings.data_dir, "store.lock"))
    try:
        _hold(lock_path)
    except Timeout:
        raise StoreInUseError(
            f"The store in {settings.data_dir} is in use by another process (the chat page `assistant ui`, or another "
            "command). To add articles while the page runs, upload them in the page (\"Add articles\", under "
            "Collection: "
            "files or a .zip of a folder). Or stop that process and run this again. For several processes at once, run "
            f"a Chroma server (`chroma run --path {path} --host 127.0.0.1 --port 8000`) and give every command and the "
            "page --chroma-url http://127.0.0.1:8000."
        ) from None
    try:
        client = chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as exc:
        _release(lock_path)
        raise StoreError(f"Cannot open the Chroma store in {path}: {exc}") from exc
    return ChromaHandle(client, lock_path, f"embedded store {path}")


def _open_server(settings: Settings) -> ChromaHandle:
    import chromadb  # heavy (seconds): imported when a store is first opened
    from chromadb.config import Settings as ChromaSettings

    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"chroma_url must look like http://HOST:PORT, got {settings.chroma_url!r}.")
    if not settings.allow_remote_chroma and not is_loopback(url.hostname):
        raise ConfigError(
            f"chroma_url {settings.chroma_url} is not on this machine. The Chroma server has no authentication, so "
            f"anyone who "
            "reaches it can read and change the store. Put it on loopback, or set allow_remote_chroma "
            "(ASSISTANT_ALLOW_REMOTE_CHROMA=1) "
            "if the network is private."
        )
    port = url.port or (443 if url.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(
            host=url.hostname, port=port, ssl=url.scheme == "https", settings=ChromaSettings(anonymized_telemetry=False)
        )
        client.heartbeat()
    except Exception as exc:
        raise StoreError(
            f"Cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}). Start it with "
            f"`chroma run --path DIR --host 127.0.0.1 --port {port}`, or unset chroma_url to use the embedded store."
        ) from exc
    return ChromaHandle(client, None, f"Chroma server {settings.chroma_url}")
