"""The door in front of the chat page: an ASGI middleware on the FastAPI app Gradio builds (ui.app.launch adds it).

- Requests that change state (any method but GET, HEAD, OPTIONS: asking through the queue or /gradio_api/call,
  uploads, logging in) that carry a foreign `Origin` are refused with 403. Own origin: the scheme, host and port
  the server was reached at (the Host header), or a loopback name for it when the Host is loopback too. Requests
  without an Origin (gradio_client, curl, scripts) pass: a browser always sends one with a cross-site POST.
- On a server bound to loopback, a request whose Host is not a loopback name (nor one of `allowed_hosts`, for a
  reverse proxy that passes its own Host on) is refused: DNS rebinding, where a page at http://evil.example:7860
  whose name resolves to 127.0.0.1 is "same-origin" with itself.
- With a login: failed logins are logged and counted per client; after `max_failures` failures within `window`
  seconds, each further attempt from that client waits (2 s, then doubling up to 30 s), one at a time, before
  it is checked; more than `max_waiting` attempts queued from one client get 429 at once.
- With a login: FastAPI's API schema (/openapi.json, and /docs, /redoc should they be turned on) answers only to a
  logged-in session, as Gradio's own /gradio_api/openapi.json, /gradio_api/info and /config already do; Gradio's
  /gradio_api/login_check decides who is logged in.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import os
import time
import urllib.parse
from typing import Any, Awaitable, Callable, Iterable

from assistant.core.errors import ConfigError
from assistant.core.net import is_loopback

log = logging.getLogger(__name__)

AUTH_ENV = "ASSISTANT_UI_AUTH"
NO_LOGIN_REFUSED = ("Refusing to serve on {host} without a login: anyone who reaches it could use the chat. "
                    f"Set {AUTH_ENV}=user:password, or pass --insecure-no-login to serve without one.")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# FastAPI's own schema routes; Gradio guards its own (/gradio_api/openapi.json, /gradio_api/info, /config) with its
# login check, and its page reads that 401's body, so those are left to it.
SCHEMA_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
LOGIN_PATH = "/login"
LOGIN_CHECK_PATH = "/gradio_api/login_check"
MAX_LOGIN_BODY = 16 * 1024  # a login form is a user name and a password
MAX_TRACKED_CLIENTS = 4096


def auth_from_env(environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) from ASSISTANT_UI_AUTH="user:password", or None when unset."""
    value = (os.environ if environ is None else environ).get(AUTH_ENV, "")
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ConfigError(
            f"{AUTH_ENV} must look like user:password (both parts non-empty); unset it to run without login."
        )
    return user.strip(), password


def _host_port(netloc: str, scheme: str) -> tuple[str, int | None] | None:
    """(lower-case host, port with the scheme's default filled in) from "host[:port]", or None when malformed."""
    try:
        parts = urllib.parse.urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower().rstrip("."), port if port is not None else DEFAULT_PORTS.get(scheme)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def own_origin(scope: Scope) -> str:
    """The origin the request reached the server at: scheme://Host (the server's address without a Host header)."""
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    host = _header(scope, b"host")
    if not host:
        server = scope.get("server") or ("", None)
        name = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
        host = f"{name}:{server[1]}" if server[1] else name
    return f"{scheme}://{host}"


def is_own_origin(origin: str, scope: Scope) -> bool:
    """True when `origin` (an Origin header) is the page's own: same scheme, host and port as the request was sent
    to, or both loopback with the same scheme and port ("http://localhost:7860" for a page at 127.0.0.1:7860)."""
    page = urllib.parse.urlsplit(own_origin(scope))
    try:
        sent = urllib.parse.urlsplit(origin.strip())
    except ValueError:
        return False
    if sent.scheme.lower() != page.scheme or not sent.netloc or sent.path not in ("", "/"):
        return False  # "null" (sandboxed frames, file: pages), another scheme, or not an origin at all
    theirs, ours = _host_port(sent.netloc, sent.scheme.lower()), _host_port(page.netloc, page.scheme)
    if theirs is None or ours is None:
        return False
    if theirs == ours:
        return True
    return theirs[1] == ours[1] and is_loopback(theirs[0]) and is_loopback(ours[0])


class LoginThrottle:
    """Failed logins per client within a sliding window, and how long the next attempt from a client waits."""

    def __init__(self, max_failures: int = 10, window: float = 60.0, base_delay: float = 2.0, max_delay: float = 30.0,
                 max_waiting: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window, self.base_delay, self.max_delay = max_failures, window, base_delay, max_delay
        self.max_waiting = max_waiting
        self.clock = clock
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self.waiting: collections.Counter[str] = collections.Counter()

    def recent_failures(self, client: str) -> int:
        times = self._failures.get(client)
        if times is None:
            return 0
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[client]
            return 0
        return len(times)

    def delay(self, client: str) -> float:
        """Seconds the next attempt from `client` waits: 0 below the limit, then base_delay doubling per failure."""
        excess = self.recent_failures(client) - self.max_failures
        if excess < 0:
            return 0.0
        return min(self.base_delay * 2 ** min(excess, 16), self.max_delay)

    def failed(self, client: str) -> int:
        """Record a failure; returns the failures from `client` within the window, this one included."""
        count = self.recent_failures(client)
        self._failures.setdefault(client, collections.deque()).append(self.clock())
        self._failures.move_to_end(client)
        while len(self._failures) > MAX_TRACKED_CLIENTS:
            self._failures.popitem(last=False)
        return count + 1

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def lock(self, client: str) -> asyncio.Lock:
        lock = self._locks.get(client)
        if lock is None:
            if len(self._locks) > MAX_TRACKED_CLIENTS:  # keep only locks someone is holding or waiting on
                self._locks = {k: v for k, v in self._locks.items() if v.locked() or self.waiting[k]}
            lock = self._locks[client] = asyncio.Lock()
        return lock


class PageGuard:
    """Pure ASGI middleware; see the module docstring. `login`: the app has a login; `local_only`: it listens on
    loopback only, so every Host must be a loopback name or one of `allowed_hosts`."""

    def __init__(self, app, *, login: bool = False, local_only: bool = False, allowed_hosts: Iterable[str] = (),
                 throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.login = login
        self.local_only = local_only
        self.allowed_hosts = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip())
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if self.local_only and host is not None and not self._local_host(host):
            log.warning("refused %s %s: Host %r is not a loopback name on a loopback server", scope.get("method", "WS"),
                        scope.get("path"), host[:200])
            await self._refuse(scope, receive, send, 403, f"Refused: this server answers on loopback only, not at host "
                               f"{host[:200]!r}. Open it at http://127.0.0.1:PORT/ or http://localhost:PORT/ (behind a "
                               "reverse proxy, start it with --allow-host NAME).")
            return
        origin = _header(scope, b"origin")
        changes_state = kind == "websocket" or scope["method"] not in SAFE_METHODS
        if changes_state and origin is not None and not is_own_origin(origin, scope):
            log.warning("refused %s %s from a foreign Origin %r (the page is at %s)", scope.get("method", "WS"),
                        scope.get("path"), origin[:200], own_origin(scope))
            await self._refuse(
                scope,
                receive,
                send,
                403,
                f"Refused: this request comes from another site (Origin {origin[:200]}), not from the page "
                f"at {own_origin(scope)}. Use the page itself, or call the API without an Origin "
                "header (gradio_client, curl).",
            )
            return
        path = _route_path(scope)
        if kind == "http" and self.login:
            if path.rstrip("/") in SCHEMA_PATHS and not await self._logged_in(scope):
                await self._refuse(scope, receive, send, 401, "Not authenticated: log in to see the API description.")
                return
            if path.rstrip("/") == LOGIN_PATH and scope["method"] == "POST":
                await self._login(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _local_host(self, host: str) -> bool:
        name = (_host_port(host, "http") or ("",))[0]
        return is_loopback(name) or name in self.allowed_hosts

    # ---- login throttling -------------------------------------------------------------------------------

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_LOGIN_BODY:
                await self._refuse(
                    scope, receive, send, 413, "A login form is a user name and a password; this is too large."
                )
                return
            if not message.get("more_body"):
                break
        throttle = self.throttle
        delay = throttle.delay(client)
        if delay and throttle.waiting[client] >= throttle.max_waiting:
            log.warning("login from %s refused: %d failed attempts in the last %.0f s and %d more waiting", client,
                        throttle.recent_failures(client), throttle.window, throttle.waiting[client])
            await self._refuse(scope, receive, send, 429, f"Too many failed logins from your address; try again in "
                               f"{math.ceil(delay)} seconds.", {"retry-after": str(math.ceil(delay))})
            return
        throttle.waiting[client] += 1
        try:
            async with throttle.lock(client):
                delay = throttle.delay(client)  # again: others from this client may have failed while this one queued
                if delay:
                    log.warning("login from %s waits %.0f s: %d failed attempts in the last %.0f s", client, delay,
                                throttle.recent_failures(client), throttle.window)
                    await asyncio.sleep(delay)
                status = await self._forward_login(scope, body, send)
        finally:
            throttle.waiting[client] -= 1
            if throttle.waiting[client] <= 0:
                del throttle.waiting[client]
        if status == 200:
            throttle.succeeded(client)
            log.info("login of user %r from %s", await _form_user(scope, body), client)
        elif status == 400:
            failures = throttle.failed(client)
            log.warning(
                "failed login for user %r from %s (%d failed in the last %.0f s%s)",
                await _form_user(scope, body),
                client,
                failures,
                throttle.window,
                "; further attempts wait" if failures >= throttle.max_failures else "",
            )

    async def _forward_login(self, scope: Scope, body: bytes, send: Send) -> int | None:
        status: int | None = None

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, _replay(body), watch)
        return status

    # ---- helpers ----------------------------------------------------------------------------------------

    async def _logged_in(self, scope: Scope) -> bool:
        """Ask Gradio's own /gradio_api/login_check with this request's cookies and headers (200: logged in)."""
        root = scope.get("root_path", "") or ""
        check = dict(scope, method="GET", path=root + LOGIN_CHECK_PATH, raw_path=(root + LOGIN_CHECK_PATH).encode(),
                     query_string=b"")
        status: int | None = None

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(check, receive, send)
        return status == 200

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str,
                      headers: dict[str, str] | None = None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        body = json.dumps({"detail": message, "error": message}).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def _route_path(scope: Scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "") or ""
    return path[len(root):] if root and path.startswith(root) else path


def _replay(body: bytes) -> Receive:
    """An ASGI receive that hands over `body` (already read from the client) once, then says the client left."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _form_user(scope: Scope, body: bytes) -> str:
    """The user name in a login form (urlencoded or multipart), cut to 100 characters; "?" when unreadable."""
    from starlette.requests import Request  # the ui extra; the command line imports this module without it

    try:
        form = await Request({**scope, "type": "http"}, _replay(body)).form()
        user = form.get("username")
        await form.close()
        return str(user)[:100] if isinstance(user, str) else "?"
    except Exception:
        return "?"
