"""The browser chat: rendering safety, the app served in-process (gradio_client, file routes, login),
the `assistant ui` command in a subprocess, and a real Chromium driving the page.

Set UPDATE_SCREENSHOT=1 to have the browser test refresh docs/screenshot.png.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.api import SEEDS_DIR
from assistant.cli_ui import example_questions
from assistant.conversation import Conversation
from assistant.core.answer import Answer, Citation
from assistant.core.errors import ConfigError
from ui import render
from ui.app import QUEUE_SIZE, ChatPage, auth_from_env, launch

from conftest import CHROMIUM, free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SEED_TITLE = "Prime Minister Imran Khan and Russian President Vladimir Putin exchanged views on"
SEED_FILE = "seeds/000_9e654aac1be06df7.txt"
LAVROV = "When did Lavrov visit Pakistan?"
FOLLOW_UP = "How long did his trip last?"

SCRIPT = "<script>window.__pwned=1</script>"
ONERROR = '<img src=x onerror="window.__pwned=1">'
JS_LINK = '<a href="javascript:window.__pwned=1">x</a>'
REMOTE_IMAGE = '<img src="http://127.0.0.1:9/remote.png">'
MARKDOWN_IMAGE = "![banner](http://127.0.0.1:9/md.png)"
MARKDOWN_LINK = "[tickets](javascript:window.__pwned=1)"
PAYLOAD_QUESTION = "How many visitors did the Waitomo glowworm caves draw on their reopening day?"
PAYLOAD_ARTICLE = f"""Title: Waitomo glowworm caves reopen {ONERROR}
date 2021-06-02
URL: javascript:window.__pwned=1

The Waitomo glowworm caves in New Zealand drew 4,500 visitors on their reopening day, under a banner reading \
{ONERROR} {MARKDOWN_IMAGE} {MARKDOWN_LINK}, guide Aroha Ngata said.

A prankster had chalked {SCRIPT} on the ticket office door, next to {JS_LINK}, {REMOTE_IMAGE} and ${{window.__pwned=1}}.
"""
# Another "his trip": a follow-up asked without the conversation's context lands here.
DISTRACTOR = """Title: Adams wins the Highland Open after a week in Scotland
date 2021-08-02

Golfer Rory Adams won the Highland Open in Scotland on Sunday.

Adams said his trip lasted five days. The trip lasted five days in all, and he spent two of them practising on the \
links at Nairn.

He will fly home to Dublin on Monday before the next tournament in Germany.
"""


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def payload_citation() -> Citation:
    passage = PAYLOAD_ARTICLE.split("\n\n", 1)[1]
    quote = passage.split("\n\n")[0]
    return Citation(
        number=1,
        article_id="a",
        source="extra/<b>caves</b>.txt",
        title=f"Caves {ONERROR}",
        date="2021-06-02",
        url="javascript:window.__pwned=1",
        quote=quote,
        quote_start=10,
        quote_end=10 + len(quote),
        passage=passage,
        passage_start=10,
        passage_end=10 + len(passage),
    )


# ---- rendering: every article value is escaped before markup is added ---------------------------


def test_sources_panel_escapes_article_text_and_highlights_the_quote():
    html = render.sources_html(Answer(question="q", text="t [1]", citations=[payload_citation()]))
    for tag in ("<script", "<img", "<a href=\"javascript", "href='javascript", "<b>"):
        assert tag not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "javascript:window.__pwned=1" in html  # shown as text, never as a link
    assert re.search(r"<mark[^>]*>The Waitomo glowworm caves.*?</mark>", html)
    assert "2021-06-02" in html and "extra/&lt;b&gt;caves&lt;/b&gt;.txt" in html


def test_the_quote_is_found_in_the_passage_when_offsets_disagree():
    citation = payload_citation()
    citation.quote_start += 3
    before, quote, after = render.split_passage(citation)
    assert before == "" and quote == citation.quote and after.startswith("\n\nA prankster")


def test_answer_message_escapes_and_numbers_citations():
    answer = Answer(
        question="q",
        text=f"4,500. Drew 4,500 visitors {ONERROR} [1]",
        short_answer="4,500",
        citations=[payload_citation()],
    )
    html = render.answer_html(answer, asked="q")
    assert "<img" not in html and "&lt;img src=x" in html
    assert html.startswith('<div class="answer final"><strong>4,500</strong>')
    assert '<sup class="cite-ref">[1]</sup>' in html and '<ol class="answer-sources">' in html
    assert "read as" not in html
    assert "read as: “q (Lavrov)”" in render.answer_html(Answer(question="q (Lavrov)", text="x"), asked="q")


def test_http_links_only():
    ok = render._link("https://example.org/a?b=1&c=\"2\"")
    assert (
        ok.startswith(' · <a href="https://example.org/a?b=1&amp;c=&quot;2&quot;"')
        and 'rel="noopener noreferrer nofollow"' in ok
    )
    assert "<a" not in render._link("javascript:alert(1)") and "<a" not in render._link(" data:text/html,x")


def test_login_comes_from_the_environment():
    assert auth_from_env({}) is None
    assert auth_from_env({"ASSISTANT_UI_AUTH": "ann:s3cret:x"}) == ("ann", "s3cret:x")
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ConfigError, match="user:password"):
            auth_from_env({"ASSISTANT_UI_AUTH": bad})


# ---- the app in-process, over the seeds plus a payload article and a distractor -----------------


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    from assistant import Assistant

    root = tmp_path_factory.mktemp("ui")
    extra = root / "extra"
    extra.mkdir()
    (extra / "caves.txt").write_text(PAYLOAD_ARTICLE, encoding="utf-8")
    (extra / "golf.txt").write_text(DISTRACTOR, encoding="utf-8")
    with Assistant(data_dir=root / "data") as assistant:
        assistant.ingest(SEEDS_DIR)
        assistant.ingest(extra)
        yield assistant


@pytest.fixture(scope="module")
def server(collection):
    examples = example_questions(collection, str(SEEDS_DIR / "questions.jsonl"))
    demo, url = launch(collection, port=free_port(), examples=examples, stream_delay=0.01)
    try:
        yield url, demo
    finally:
        demo.close()


@pytest.mark.slow
def test_examples_are_the_first_answerable_questions_of_the_set(collection, tmp_path):
    assert example_questions(collection, str(SEEDS_DIR)) == [
        LAVROV, "In which year did Pakistan's foreign and defense ministers visit Russia?",
        "On what date did Imran Khan and Vladimir Putin hold their second phone call in less than a month?"]
    assert example_questions(collection) == []  # not the bundled collection, no questions.jsonl in the data dir


@pytest.mark.slow
def test_the_answer_streams_in_and_ends_with_its_sources(collection):
    page = ChatPage(collection, stream_delay=0)
    updates = list(page.respond(LAVROV, Conversation(), []))
    chats = [u[0] for u in updates if isinstance(u[0], list)]
    texts = [chat[-1]["content"] for chat in chats]
    assert "Searching the articles" in texts[0]
    growing = [t for t in texts[1:-1]]
    assert len(growing) >= 5 and all(len(a) < len(b) for a, b in zip(growing, growing[1:]))
    assert "April 2021" in texts[-1] and "answer-sources" in texts[-1] and "answer-sources" not in growing[-1]
    final_sources, conversation, messages = updates[-1][1], updates[-1][2], updates[-1][3]
    assert "<mark" in final_sources and SEED_TITLE in final_sources
    assert len(conversation.turns) == 1 and [m["role"] for m in messages] == ["user", "assistant"]


@pytest.mark.slow
def test_errors_show_a_message_not_a_traceback(collection):
    updates = list(ChatPage(collection, stream_delay=0).respond("x" * 2500, Conversation(), []))
    last = updates[-1][0][-1]["content"]
    assert "limited to 2000 characters" in last and "Traceback" not in last
    assert updates[-1][0][0]["content"].endswith("…")  # the echoed message is cut


@pytest.mark.slow
def test_gradio_client_gets_the_structured_answer(server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    url, _ = server
    client = Client(url, verbose=False)
    result = client.predict(LAVROV, api_name="/ask")
    assert isinstance(result, dict) and set(result) >= {"text", "short_answer", "citations", "confidence", "refused"}
    assert "April 2021" in result["text"] and not result["refused"]
    citation = result["citations"][0]
    assert citation["source"] == SEED_FILE and citation["date"] == "2021-09-14"
    assert citation["quote"] in citation["passage"]
    with pytest.raises(AppError, match="limited to 2000 characters"):
        client.predict("x" * 2001, api_name="/ask")


@pytest.mark.slow
def test_launch_is_locked_down(server, collection):
    url, demo = server
    assert demo.share is False and demo.ssr_mode is False
    assert demo._queue.max_size == QUEUE_SIZE
    assert not demo.allowed_paths and collection.settings.data_dir in demo.blocked_paths
    secret = Path(collection.settings.data_dir) / "secret.txt"
    secret.write_text("hunter2")
    for path in (secret, Path(collection.settings.data_dir) / "chroma" / "chroma.sqlite3", ROOT / "pyproject.toml"):
        assert path.exists()
        for prefix in ("gradio_api/file=", "file="):
            status, body = http_get(f"{url}{prefix}{path}")
            assert status in (403, 404), (prefix, path, status)
            assert b"hunter2" not in body and b"SQLite" not in body


@pytest.mark.slow
def test_a_busy_port_is_a_clear_error(collection):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"Cannot listen on 127.0.0.1:{port}.*--port"):
            launch(collection, port=port)


@pytest.mark.slow
def test_login_through_the_environment_setting(collection, monkeypatch):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    monkeypatch.setenv("ASSISTANT_UI_AUTH", "ann:s3cret")
    demo, url = launch(collection, port=free_port(), auth=auth_from_env())
    try:
        for path in ("config", "gradio_api/info", "gradio_api/file=/etc/hostname"):
            assert http_get(f"{url}{path}")[0] == 401, path
        request = urllib.request.Request(
            f"{url}gradio_api/call/ask", data=b'{"data": ["x"]}', headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(request, timeout=30)
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False)
        with pytest.raises(Exception, match="(?i)incorrect|credential|login|auth"):
            Client(url, auth=("ann", "wrong"), verbose=False)
        client = Client(url, auth=("ann", "s3cret"), verbose=False)
        assert "April 2021" in client.predict(LAVROV, api_name="/ask")["text"]
    finally:
        demo.close()


# ---- the command, in its own process ----------------------------------------------------------------


@pytest.mark.slow
def test_the_ui_command_serves_the_seeds_on_loopback(tmp_path):
    from gradio_client import Client

    (tmp_path / ".env").write_text("OPENAI_API_KEY=hunter2\n")
    # the default store (no --data-dir), under this test's XDG_DATA_HOME: only it gets the bundled seeds
    data_dir = tmp_path / "xdg" / "news-assistant"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {
        "PYTHONUNBUFFERED": "1", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    command = [str(Path(sys.executable).parent / "assistant"), "ui", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        output = _wait_for_line(process, "Chat at ", timeout=180)
        assert url in output
        status, body = http_get(url)
        assert status == 200 and b"News assistant" in body
        for path in (".env", tmp_path / ".env", data_dir / "chroma" / "chroma.sqlite3"):
            for prefix in ("gradio_api/file=", "file="):
                status, body = http_get(f"{url}{prefix}{path}")
                assert status in (403, 404) and b"hunter2" not in body, (prefix, path, status)
        result = Client(url, verbose=False).predict(LAVROV, api_name="/ask")
        assert "April 2021" in result["text"] and result["citations"][0]["source"] == SEED_FILE
        assert "Ingested the bundled seeds" in output
    finally:
        stop_process(process, timeout=30)


def _wait_for_line(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """Read the process's output until a line holds `marker`; fail with the output so far when it exits or times out."""
    import selectors

    lines: list[str] = []
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if selector.select(timeout=1):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            lines.append(line)
            if marker in line:
                return "".join(lines)
        elif process.poll() is not None:
            break
    pytest.fail(f"`assistant ui` did not print {marker!r} (exit code {process.poll()}):\n{''.join(lines)}")


# ---- a real browser -----------------------------------------------------------------------------------


def _bot_messages(page):
    return page.locator('#chat [data-testid="bot"]')


def _ask(page, question: str, answers_before: int) -> str:
    """Type `question`, press Enter, wait until its answer has finished streaming; return the answer's text."""
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    return _wait_answer(page, answers_before)


def _wait_answer(page, answers_before: int) -> str:
    from playwright.sync_api import expect

    finished = page.locator("#chat .answer.final")
    expect(finished).to_have_count(answers_before + 1, timeout=60_000)
    return _bot_messages(page).last.inner_text()


@pytest.mark.browser
@pytest.mark.slow
def test_chat_in_chromium(server):
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get update && apt-get install -y chromium`."
        )
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    origin = url.rstrip("/")
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url)
            expect(page.locator("#collection")).to_contain_text("all-MiniLM-L6-v2")
            expect(page.locator("#collection")).to_contain_text("2021-06-02 to 2021-09-14")

            # The first example question, clicked.
            expect(page.locator("#example-0")).to_have_text(LAVROV)
            page.click("#example-0")
            first = _wait_answer(page, 0)
            assert "April 2021" in first
            sources = page.locator("#sources")
            expect(sources).to_contain_text(SEED_TITLE)
            expect(sources).to_contain_text("2021-09-14")
            expect(sources).to_contain_text(SEED_FILE)
            expect(sources.locator("mark")).to_contain_text("Lavrov visited Islamabad in April this year")
            if os.environ.get("UPDATE_SCREENSHOT"):
                (ROOT / "docs").mkdir(exist_ok=True)
                page.screenshot(path=str(ROOT / "docs" / "screenshot.png"), full_page=True)

            # A follow-up uses this session's conversation.
            second = _ask(page, FOLLOW_UP, 1)
            assert "two-day" in second or "two days" in second, second

            # Another session starts with no history: the same words find the other trip.
            other = context.browser.new_context().new_page()
            other.on("request", lambda request: requests.append(request.url))
            other.goto(url)
            alone = _ask(other, FOLLOW_UP, 0)
            assert "five days" in alone and "two-day" not in alone, alone

            # Article text with markup is shown as text and runs or loads nothing.
            _ask(page, PAYLOAD_QUESTION, 2)
            expect(sources).to_contain_text("Waitomo")
            page.wait_for_timeout(500)
            assert page.evaluate("typeof window.__pwned") == "undefined"
            shown = sources.inner_text()
            for payload in (SCRIPT, ONERROR, JS_LINK, REMOTE_IMAGE, "${window.__pwned=1}"):
                assert payload in shown, payload
            assert "javascript:window.__pwned=1" in shown  # the article's URL, as text
            assert page.locator("#sources img, #sources script, #chat img, #chat script").count() == 0
            assert page.locator("a[href^='javascript']").count() == 0
            answer = _bot_messages(page).last.inner_text()
            for payload in (ONERROR, MARKDOWN_IMAGE, MARKDOWN_LINK):
                assert payload in answer, payload

            # An over-long message gets a message a person can act on.
            error = _ask(page, "x" * 2500, 3)
            assert "limited to 2000 characters" in error and "Traceback" not in error

            # "New conversation" forgets the history: the follow-up no longer knows whose trip.
            page.click("#clear")
            expect(page.locator("#chat .answer")).to_have_count(0)
            restarted = _ask(page, FOLLOW_UP, 0)
            assert "five days" in restarted, restarted
        finally:
            browser.close()
    assert not [r for r in requests if "127.0.0.1:9/" in r]
    assert all(r.startswith(origin) or r.startswith(("data:", "blob:")) for r in requests), sorted(set(requests))
