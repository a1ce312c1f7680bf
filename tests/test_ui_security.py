"""The door in front of the chat page (ui/guard.py, ui/app.launch, `assistant ui`): foreign Origins cannot ask or
upload, failed logins are slowed and logged, a network address needs a login, the API schema sits behind it.

The server tests start the real page in-process on a free loopback port (as tests/test_ui.py does) over the
seeded collection, and talk to it with urllib.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.core.errors import ConfigError
from assistant.core.net import is_loopback
from ui.guard import LoginThrottle, is_own_origin

from conftest import LAVROV_Q, free_port

USER, PASSWORD = "ann", "s3cret"
EVIL = "http://evil.example"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None,
            timeout: float = 60) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def ask_call(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    status, body, _ = request(f"{url}gradio_api/call/ask", json.dumps({"data": [LAVROV_Q]}).encode(),
                              {"Content-Type": "application/json", **(headers or {})})
    return status, body


def upload(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST a small text file to Gradio's upload route, as the page's file inputs do."""
    boundary = "----upload"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="note.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n").encode()
    status, answer, _ = request(f"{url}gradio_api/upload", body,
                                {"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})})
    return status, answer


def login(url: str, password: str, client: str | None = None) -> tuple[int, float, dict[str, str]]:
    """POST /login as USER; `client` is sent as X-Forwarded-For, which the server trusts from loopback only (uvicorn's
    default), so one test process can be several clients. Returns (status, seconds taken, response headers)."""
    headers = dict(FORM, **({"X-Forwarded-For": client} if client else {}))
    started = time.monotonic()
    status, _, response_headers = request(f"{url}login", f"username={USER}&password={password}".encode(), headers)
    return status, time.monotonic() - started, response_headers


@pytest.fixture(scope="module")
def open_server(seeded):
    from ui.app import launch

    demo, url = launch(seeded, port=free_port(), stream_delay=0)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def login_server(seeded):
    from ui.app import launch

    # At most one attempt may wait per client (the default is 3), so the flood test needs two requests, not four.
    demo, url = launch(
        seeded, port=free_port(), auth=(USER, PASSWORD), stream_delay=0, login_throttle=LoginThrottle(max_waiting=1)
    )
    try:
        yield url
    finally:
        demo.close()


# ---- a foreign page cannot ask or upload ------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.slow
def test_a_foreign_origin_cannot_ask_or_upload(open_server):
    url = open_server
    port = url.rstrip("/").rsplit(":", 1)[1]
    for path in (
        "gradio_api/call/ask",
        "gradio_api/queue/join",
        "gradio_api/upload",
        "gradio_api/call/v2/ask",
        "login",
    ):
        status, body, _ = request(f"{url}{path}", b"{}", {"Content-Type": "application/json", "Origin": EVIL})
        assert status == 403, (path, status, body)
        assert b"another site" in body and EVIL.encode() in body, body
    for origin in (
        "null",
        f"http://127.0.0.1:{int(port) + 1}",
        f"https://127.0.0.1:{port}",
        f"http://evil.example:{port}",
    ):
        assert ask_call(url, {"Origin": origin})[0] == 403, origin
    assert upload(url, {"Origin": EVIL})[0] == 403

    # The same requests from the page itself, or without an Origin (gradio_client, curl), are served.
    for headers in ({"Origin": url.rstrip("/")}, {"Origin": f"http://localhost:{port}"}, {}):
        status, body = upload(url, headers)
        assert status == 200 and json.loads(body)[0].endswith("note.txt"), (headers, status, body)
    status, body = ask_call(url)
    assert status == 200 and json.loads(body)["event_id"], (status, body)
    status, stream, _ = request(f"{url}gradio_api/call/ask/{json.loads(body)['event_id']}", timeout=120)
    # answered (its wording is the answerer's business)
    answer = json.loads(stream.split(b"event: complete\ndata:", 1)[1])[0]
    assert status == 200 and answer["question"] == LAVROV_Q and answer["text"], stream[-500:]

    # Reading stays open (what a foreign page may read of it is CORS's business), and so does the schema without a
    # login.
    assert request(url, headers={"Origin": EVIL})[0] == 200
    assert request(f"{url}openapi.json")[0] == 200


@pytest.mark.server
@pytest.mark.slow
def test_a_loopback_server_answers_only_to_loopback_names(open_server):
    """DNS rebinding: evil.example resolving to 127.0.0.1 makes the attacker's page "same-origin" with the chat."""
    port = open_server.rstrip("/").rsplit(":", 1)[1]
    status, body, _ = request(open_server, headers={"Host": f"evil.example:{port}"})
    assert status == 403 and b"loopback only" in body
    status, body = ask_call(open_server, {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"})
    assert status == 403
    assert request(open_server, headers={"Host": f"localhost:{port}"})[0] == 200


# ---- failed logins --------------------------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.slow
def test_the_eleventh_wrong_password_within_a_minute_waits(login_server, caplog):
    caplog.set_level(logging.INFO, logger="ui.guard")
    url, attacker = login_server, "10.0.0.11"
    for attempt in range(10):
        status, took, _ = login(url, "wrong", attacker)
        assert status == 400 and took < 1.5, (attempt, status, took)
    status, took, _ = login(url, "wrong", attacker)
    assert status == 400 and took >= 2.0, took  # the 11th is still checked, after waiting
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("failed login")]
    assert len(failures) == 11 and all(f"user 'ann' from {attacker}" in f for f in failures), failures
    assert "11 failed in the last 60 s" in failures[-1]
    assert any("waits 2 s" in r.getMessage() for r in caplog.records)

    # Another client is not slowed; the right password from the slowed client still gets in, after its wait.
    status, took, _ = login(url, "wrong", "10.0.0.12")
    assert status == 400 and took < 1.5
    status, took, headers = login(url, PASSWORD, attacker)
    assert status == 200 and took >= 4.0 and "set-cookie" in {k.lower() for k in headers}, (status, took)
    assert any(f"login of user 'ann' from {attacker}" in r.getMessage() for r in caplog.records)


@pytest.mark.server
@pytest.mark.slow
def test_a_flood_of_logins_gets_429(login_server):
    url, attacker = login_server, "10.0.0.21"
    for _ in range(10):
        assert login(url, "wrong", attacker)[0] == 400
    waiting: list[tuple] = []
    first = threading.Thread(target=lambda: waiting.append(login(url, "wrong", attacker)))
    first.start()
    time.sleep(0.5)  # the first attempt is now waiting its 2 s
    status, took, headers = login(url, "wrong", attacker)
    first.join(timeout=30)
    assert status == 429 and took < 1.5 and int(headers.get("retry-after", headers.get("Retry-After", 0))) >= 1
    assert waiting and waiting[0][0] == 400 and waiting[0][1] >= 2.0


def test_the_throttle_counts_failures_in_a_sliding_minute():
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(10):
        assert throttle.delay("a") == 0
        throttle.failed("a")
    assert [throttle.delay("a"), throttle.delay("b")] == [2.0, 0.0]
    for expected in (4.0, 8.0, 16.0, 30.0, 30.0):
        throttle.failed("a")
        assert throttle.delay("a") == expected
    now[0] += 61  # a minute later the failures have aged out
    assert throttle.delay("a") == 0 and throttle.recent_failures("a") == 0
    for _ in range(10):
        throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.delay("a") == 0


# ---- the API schema behind the login --------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.slow
def test_the_api_schema_needs_the_login(login_server):
    url = login_server
    for path in ("openapi.json", "docs", "redoc", "gradio_api/openapi.json", "gradio_api/info", "config"):
        status, body, _ = request(f"{url}{path}")
        assert status == 401 and b'"paths"' not in body and b"named_endpoints" not in body, (path, status)
    status, _, headers = login(url, PASSWORD, "10.0.0.31")
    assert status == 200
    cookie = "; ".join(v.split(";", 1)[0] for k, v in headers.items() if k.lower() == "set-cookie")
    status, body, _ = request(f"{url}openapi.json", headers={"Cookie": cookie})
    assert status == 200 and "/gradio_api/queue/join" in json.loads(body)["paths"]
    status, body, _ = request(f"{url}gradio_api/info", headers={"Cookie": cookie})
    assert status == 200 and "/ask" in json.loads(body)["named_endpoints"]


@pytest.mark.server
@pytest.mark.slow
def test_the_login_form_works_from_the_page_itself(login_server):
    """What the browser's login form sends: multipart, with the page's own Origin; a foreign Origin is refused."""
    url, origin = login_server, login_server.rstrip("/")
    boundary = "----form"
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in (("username", USER), ("password", PASSWORD))) + f"--{boundary}--\r\n"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Forwarded-For": "10.0.0.41"}
    assert request(f"{url}login", body.encode(), dict(headers, Origin=EVIL))[0] == 403
    assert request(f"{url}login", body.encode(), dict(headers, Origin=origin))[0] == 200


# ---- a network address needs a login ---------------------------------------------------------------------------


@pytest.mark.slow  # 5.7 s alone (the page's first import); 0.0 s after other page tests
def test_ui_on_a_network_host_without_login_refuses_to_start(monkeypatch, tmp_path):
    import ui.app

    def tripwire(*args, **kwargs):
        raise AssertionError("launch() was called: the command started serving")

    monkeypatch.setattr(ui.app, "launch", tripwire)
    monkeypatch.delenv("ASSISTANT_UI_AUTH", raising=False)
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "ui", "--host", "0.0.0.0", "--port", str(free_port())]
    )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "0.0.0.0" in lines[0] and "ASSISTANT_UI_AUTH=user:password" in lines[0] and "--insecure-no-login" in lines[0]
    assert not data_dir.exists()  # refused before opening anything



def test_launch_refuses_a_network_host_without_login():
    from ui.app import launch

    with pytest.raises(
        ConfigError, match=r"0\.0\.0\.0 without a login.*ASSISTANT_UI_AUTH=user:password.*--insecure-no-login"
    ):
        launch(None, host="0.0.0.0", port=free_port())  # refused before the assistant is even looked at


def test_loopback_names():  # one check for the page, `assistant ui` and chroma_url
    assert all(
        is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "localhost", "LOCALHOST", "app.localhost", "::1", "[::1]")
    )
    assert not any(
        is_loopback(h) for h in ("0.0.0.0", "192.168.1.4", "evil.example", "localhost.evil.example", "", None)
    )


@pytest.mark.parametrize("origin, host, own", [
    ("http://127.0.0.1:7860", "127.0.0.1:7860", True),
    ("http://localhost:7860", "127.0.0.1:7860", True),
    ("http://[::1]:7860", "localhost:7860", True),
    ("http://chat.example", "chat.example", True),
    ("http://chat.example:80", "chat.example", True),
    ("http://CHAT.example", "chat.example:80", True),
    ("http://127.0.0.1:7861", "127.0.0.1:7860", False),
    ("https://127.0.0.1:7860", "127.0.0.1:7860", False),
    ("http://evil.example", "127.0.0.1:7860", False),
    ("http://evil.example:7860", "127.0.0.1:7860", False),
    ("http://localhost:7860", "chat.example:7860", False),
    ("null", "127.0.0.1:7860", False),
    ("", "127.0.0.1:7860", False),
    ("http://127.0.0.1:7860/path", "127.0.0.1:7860", False),
])
def test_own_origin(origin, host, own):
    scope = {"type": "http", "scheme": "http", "headers": [(b"host", host.encode())], "server": ("127.0.0.1", 7860)}
    assert is_own_origin(origin, scope) is own


def test_a_reverse_proxy_host_can_be_allowed():
    """PageGuard on its own (a plain ASGI app behind it): loopback Host names pass, others only when allowed."""
    import asyncio

    from ui.guard import PageGuard

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def status(guard, host: str, origin: str | None = None, method: str = "GET") -> int:
        headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
        scope = {
            "type": "http",
            "method": method,
            "scheme": "https",
            "path": "/gradio_api/queue/join",
            "headers": headers,
            "server": ("127.0.0.1", 7860),
            "client": ("127.0.0.1", 5000),
        }
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        asyncio.run(guard(scope, receive, send))
        return sent[0]["status"]

    strict, proxied = PageGuard(app, local_only=True), PageGuard(app, local_only=True, allowed_hosts=["Chat.Example"])
    assert status(strict, "127.0.0.1:7860") == 200 and status(strict, "chat.example") == 403
    assert status(proxied, "chat.example") == 200 and status(proxied, "evil.example") == 403
    assert status(proxied, "chat.example", "https://chat.example", "POST") == 200
    assert status(proxied, "chat.example", "https://evil.example", "POST") == 403
    assert status(PageGuard(app), "chat.example", "https://evil.example", "GET") == 200
