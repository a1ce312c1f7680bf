"""Load test of the chat page: N concurrent sessions through gradio_client, for a bounded time, on loopback.

    python -m benchmarks.sessions [--sessions 20] [--seconds 60] [--corpus bbc|seeds] [--note TEXT]

Starts the real page (`assistant --data-dir DIR ui --host 127.0.0.1 --port P`) as a child process over a small
collection ingested into $BENCH_WORK/sessions-data: five BBC articles read from ../shared/corpora/bbc (or the bundled
seeds/ with --corpus seeds), answers one warm-up question, then runs N sessions at once. Each session is its own
gradio_client.Client (its own session hash, so its own gr.State on the server, as a browser tab has) and asks
pairs of questions until the time is up: a question naming a topic, then a follow-up that only makes sense in that
session's conversation ("Why?", "Who said that?"). The topic moves on with every pair and differs between
neighbouring sessions, so the follow-up depends on the session's own previous question.

Each question is asked the way the browser asks it: the page's `submit` event (puts it on the tab's waiting list)
then `answer_waiting` (the queued answer, streamed). Those events are private on the page (only /ask is public, and
it has no conversation), so the client's endpoint objects for them are marked callable here; the server serves them
exactly as it serves a browser. Latency is from sending the question to the final answer, as a user waits for it.

Counted as an error: an exception or timeout, a "queue is full", an error message in the chat, no new answer.
Counted as a leak: the chat returned holds a question this session did not ask (or misses one it did), the sources
panel is about another question, the saved-conversation list holds a conversation that is not this session's, the
browser id changes, or a follow-up cites an article other than the session's current topic's.

The server is stopped by its PID at the end, also on failure. The result (JSON) goes to $BENCH_WORK/sessions.json,
the server's log to $BENCH_WORK/sessions-server.log.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import BBC, REPO, WORK, emit, latency_summary, machine_load, offline, run_child

SEEDS = REPO / "seeds"
# (article file, a question naming its topic). Each named question cites its own article on this collection, and
# the follow-ups below cite the topic's article only with the conversation's context ("Why?" alone is refused).
TOPICS = {
    "bbc": [
        ("entertainment/320.txt", "When did Saul Holiff manage Johnny Cash's career?"),
        ("entertainment/344.txt", "When should the Ray Charles museum be ready for visitors?"),
        ("business/051.txt", "When did Fiat first buy into Ferrari?"),
        ("politics/178.txt", "When did the Hatfield rail crash happen?"),
        ("business/107.txt", "When will Liberia hold elections?"),
    ],
    "seeds": [  # one article: the follow-up's source cannot tell sessions apart here, the chat history still does
        ("000_9e654aac1be06df7.txt", "When did Lavrov visit Pakistan?"),
        (
            "000_9e654aac1be06df7.txt",
            "When did Imran Khan and Vladimir Putin hold their second phone call in less than a month?",
        ),
    ],
}
FOLLOW_UPS = ("Why?", "Who said that?")
SUBMIT, ANSWER = "submit", "answer_waiting"  # the page's handlers behind the question box's Enter


def _corpus_dir(corpus: str) -> Path:
    return BBC if corpus == "bbc" else SEEDS


# ---- the collection and the server -----------------------------------------------------------------------


def child_ingest(data: Path, corpus: str) -> None:
    """Ingest the topic articles, straight from where they are (nothing copied), into a fresh store."""
    offline()
    from assistant import Assistant

    shutil.rmtree(data, ignore_errors=True)
    assistant = Assistant(data_dir=data)
    started = time.perf_counter()
    files = sorted({name for name, _ in TOPICS[corpus]})
    for name in files:
        assistant.ingest(_corpus_dir(corpus) / name)
    info = assistant.info()
    emit({"articles": info["articles"], "chunks": info["chunks"], "files": files,
          "ingest_seconds": round(time.perf_counter() - started, 2)})
    assistant.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(data: Path, port: int, log_path: Path, timeout: float) -> tuple[subprocess.Popen, float]:
    """`assistant --data-dir DATA ui --host 127.0.0.1 --port PORT` in its own process; returns it once the page
    answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "ANONYMIZED_TELEMETRY": "False",
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
    )
    command = [sys.executable, "-c", "from assistant.cli import main; main()", "--data-dir", str(data),
               "ui", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    log = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}/config"
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the page server exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return process, time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(process)
    raise RuntimeError(f"the page server did not answer within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop the server this benchmark started, by its PID: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)


# ---- one session ---------------------------------------------------------------------------------------


def _text(content) -> str:
    """A chat message's content as the page sent it (a string, or gradio's list of text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, list):
        return "".join(_text(part) for part in content)
    return ""


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup)).strip()


_CITED = re.compile(r"<code>([^<]+)</code>")
_SOURCES_FOR = re.compile(r'<div class="sources-for">Sources of the answer to “(.*?)”</div>', re.S)
_SHORT = re.compile(r'<div class="answer final[^"]*">(.*?)</div>', re.S)


@dataclass
class Asked:
    session: int
    question: str
    kind: str  # "topic" or "follow-up"
    topic: str
    seconds: float = 0.0
    first_update_seconds: float | None = None
    error: str | None = None
    leaks: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    refused: bool = False
    answer: str = ""


class Session:
    """One gradio_client.Client: one session hash, so one ChatSession (gr.State) on the server, like a browser tab."""

    def __init__(self, number: int, url: str, corpus: str, timeout: float) -> None:
        from gradio_client import Client

        self.number, self.corpus, self.timeout = number, corpus, timeout
        self.client = Client(url, verbose=False, download_files=False, ssl_verify=False)
        self.components = {c["id"]: c for c in self.client.config["components"]}
        self.submit_fn = self._fn(SUBMIT)
        self.answer_fn = self._fn(ANSWER)
        self.browser: dict = {"id": None, "conversation": None}
        self.asked: list[str] = []
        self.owner: str | None = None
        self.conversation: str | None = None

    def _fn(self, name: str) -> int:
        """The fn_index of the page's handler `name` (the question box's event), made callable on this client."""
        for index, dependency in enumerate(self.client.config["dependencies"]):
            if dependency.get("api_name") == name:
                fn = dependency.get("id", index)
                self.client.endpoints[fn].is_valid = True  # private on the page: the browser's path, not the public API
                return fn
        raise RuntimeError(f"the page has no '{name}' event (ui/app.py changed?)")

    def _name(self, component_id: int) -> str:
        component = self.components[component_id]
        return (component.get("props") or {}).get("elem_id") or component["type"]

    def _inputs(self, fn: int, question: str) -> list:
        """What the browser sends for the event's inputs: the question in the box, this tab's browser storage, and
        every other field (filters, pickers) at its default value; gr.State is the server's, keyed by session hash."""
        from gradio_client.utils import SKIP_COMPONENTS

        values = []
        for component_id in self.client.config["dependencies"][fn]["inputs"]:
            component = self.components[component_id]
            if component.get("skip_api", component["type"] in SKIP_COMPONENTS):
                continue
            if self._name(component_id) == "question":
                values.append(question)
            elif component["type"] == "browserstate":
                values.append(self.browser)
            else:
                values.append((component.get("props") or {}).get("value"))
        return values

    def _outputs(self, fn: int, values) -> dict:
        """The event's outputs by element id (or component type): chat, sources, browserstate, history, …"""
        ids = [i for i in self.client.config["dependencies"][fn]["outputs"]
               if not self.components[i].get("skip_api", self.components[i]["type"] in ("state",))]
        values = values if isinstance(values, (list, tuple)) else [values]
        return dict(zip((self._name(i) for i in ids), values))

    def ask(self, question: str, kind: str, topic_file: str) -> Asked:
        record = Asked(self.number, question, kind, topic_file)
        started = time.perf_counter()
        try:
            self.client.predict(*self._inputs(self.submit_fn, question), fn_index=self.submit_fn)
            job = self.client.submit(*self._inputs(self.answer_fn, question), fn_index=self.answer_fn)
            for _ in job:
                if record.first_update_seconds is None:
                    record.first_update_seconds = time.perf_counter() - started
            outputs = job.result(timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, with its message
            record.seconds = time.perf_counter() - started
            record.error = f"{type(exc).__name__}: {str(exc)[:300]}"
            return record
        record.seconds = time.perf_counter() - started
        self.asked.append(question)
        self._check(record, self._outputs(self.answer_fn, outputs))
        return record

    def _check(self, record: Asked, outputs: dict) -> None:
        chat, sources = outputs.get("chat"), outputs.get("sources")
        browser, listing = outputs.get("browserstate"), outputs.get("history")
        messages = chat if isinstance(chat, list) else []
        users = [_plain(_text(m.get("content"))) for m in messages if m.get("role") == "user"]
        answers = [_text(m.get("content")) for m in messages if m.get("role") == "assistant"]
        if users != self.asked:
            record.leaks.append(
                f"chat holds questions {users[-4:]} (of {len(users)}), this session asked {self.asked[-4:]} (of "
                f"{len(self.asked)})"
            )
        if not answers or len(answers) != len(users):
            record.error = f"{len(answers)} answers in the chat to {len(users)} questions"
            return
        last = answers[-1]
        if 'class="answer error' in last:
            record.error = "error in the chat: " + _plain(last)[:300]
            return
        record.refused = "<ol class=\"answer-sources\">" not in last
        record.cited = (
            sorted(set(_CITED.findall(last.split('<ol class="answer-sources">', 1)[-1]))) if not record.refused else []
        )
        short = _SHORT.search(last)
        record.answer = _plain(short.group(1)) if short else _plain(last)
        about = _SOURCES_FOR.search(sources or "")
        if not record.refused and (about is None or html.unescape(about.group(1)) != record.question[:500]):
            record.leaks.append(
                f"sources panel is about {about.group(1) if about else None!r}, not {record.question!r}"
            )
        if record.kind == "follow-up" and any(not cited.endswith(record.topic) for cited in record.cited):
            record.leaks.append(
                f"follow-up {record.question!r} cites {record.cited}, the session's topic is {record.topic}"
            )
        if isinstance(browser, dict) and browser.get("id"):
            if self.owner is None:
                self.owner, self.conversation = browser["id"], browser.get("conversation")
            elif browser["id"] != self.owner or browser.get("conversation") != self.conversation:
                record.leaks.append(
                    f"browser storage changed to {browser}, was id {self.owner} conversation {self.conversation}"
                )
            self.browser = {"id": self.owner, "conversation": self.conversation}
        if isinstance(listing, dict) and listing.get("choices") is not None:
            ids = [choice[1] if isinstance(choice, (list, tuple)) else choice for choice in listing["choices"]]
            if self.conversation is not None and ids != [self.conversation]:
                record.leaks.append(f"conversation list {ids}, this session has only {self.conversation}")

    def run(self, seconds: float, start: threading.Barrier, records: list[Asked], lock: threading.Lock) -> None:
        """Ask pairs (a topic's question, then a follow-up) until `seconds` after every session is ready."""
        topics = TOPICS[self.corpus]
        start.wait()
        deadline = time.perf_counter() + seconds
        pair = 0
        while time.perf_counter() < deadline:
            topic_file, question = topics[(self.number + pair) % len(topics)]
            for kind, text in (("topic", question), ("follow-up", FOLLOW_UPS[pair % len(FOLLOW_UPS)])):
                record = self.ask(text, kind, topic_file)
                with lock:
                    records.append(record)
                if record.error:
                    return  # the conversation is no longer what this session thinks it is: stop this session
            pair += 1


def check_detector(url: str, corpus: str, timeout: float) -> dict:
    """The leak checks catch a real leak: two clients made to share one session hash (so one gr.State on the server),
    the second asking a follow-up about its own topic after the first asked about another. Both checks must fire."""
    (first_file, first_question), (second_file, _) = TOPICS[corpus][0], TOPICS[corpus][-1]
    one, other = Session(-2, url, corpus, timeout), Session(-3, url, corpus, timeout)
    other.client.session_hash = one.client.session_hash
    asked = one.ask(first_question, "topic", first_file)
    leaked = other.ask(FOLLOW_UPS[0], "follow-up", second_file)
    return {"error": asked.error or leaked.error,
            "history_check_fired": any("chat holds" in m for m in leaked.leaks),
            "follow_up_source_check_fired": any("follow-up" in m for m in leaked.leaks),
            "follow_up_source_check_applies": first_file != second_file}


# ---- the run ---------------------------------------------------------------------------------------------


def run(sessions: int, seconds: float, corpus: str, timeout: float, note: str = "", start_timeout: float = 300) -> dict:
    offline()
    WORK.mkdir(parents=True, exist_ok=True)
    data = WORK / "sessions-data"
    collection = run_child("sessions", "--child", "ingest", "--data", str(data), "--corpus", corpus)
    port = free_port()
    log_path = WORK / "sessions-server.log"
    load_before = machine_load()
    process, server_start = start_server(data, port, log_path, start_timeout)
    url = f"http://127.0.0.1:{port}/"
    try:
        warm = Session(-1, url, corpus, timeout)
        started = time.perf_counter()
        warm_up = warm.ask(TOPICS[corpus][0][1], "topic", TOPICS[corpus][0][0])  # loads the models and the reader
        warm_up_seconds = time.perf_counter() - started
        if warm_up.error:
            raise RuntimeError(f"the warm-up question failed: {warm_up.error}\n{log_path.read_text()[-3000:]}")
        detector = check_detector(url, corpus, timeout)
        connect_started = time.perf_counter()
        clients = [Session(n, url, corpus, timeout) for n in range(sessions)]
        connect_seconds = time.perf_counter() - connect_started
        records: list[Asked] = []
        lock = threading.Lock()
        barrier = threading.Barrier(sessions + 1)
        threads = [threading.Thread(target=c.run, args=(seconds, barrier, records, lock), daemon=True) for c in clients]
        for thread in threads:
            thread.start()
        barrier.wait()  # every session starts at once
        began = time.perf_counter()
        load_during = [machine_load()]
        for thread in threads:
            thread.join(timeout=seconds + timeout + 60)
        wall = time.perf_counter() - began
        load_during.append(machine_load())
        stuck = sum(thread.is_alive() for thread in threads)
    finally:
        stop_server(process)
    server_exit = process.returncode
    answered = [r for r in records if not r.error]
    errors = [r for r in records if r.error]
    leaks = [r for r in records if r.leaks]
    follow_ups = [r for r in answered if r.kind == "follow-up"]
    distinct: dict[tuple[str, str], set[str]] = {}
    for r in answered:
        distinct.setdefault((r.topic, r.question), set()).add(r.answer)
    result = {
        "what": "concurrent chat sessions through gradio_client against `assistant ui` on loopback",
        "sessions": sessions,
        "seconds": seconds,
        "corpus": corpus,
        "collection": collection,
        "note": note,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_during": load_during,
        "server_start_seconds": round(server_start, 1),
        "warm_up_seconds": round(warm_up_seconds, 1),
        "clients_connect_seconds": round(connect_seconds, 1),
        "wall_seconds": round(wall, 1),
        "questions": len(records),
        "answered": len(answered),
        "errors": len(errors),
        "error_messages": sorted({r.error for r in errors})[:10],
        "leaks": len(leaks),
        "leak_messages": [f"session {r.session}: {m}" for r in leaks for m in r.leaks][:10],
        "sessions_stuck": stuck,
        "questions_per_session": {
            "min": min((sum(r.session == n for r in records) for n in range(sessions)), default=0),
            "max": max((sum(r.session == n for r in records) for n in range(sessions)), default=0),
        },
        "follow_ups": len(follow_ups),
        "follow_ups_refused": sum(r.refused for r in follow_ups),
        "answers_per_second": round(len(answered) / wall, 3) if wall else None,
        "latency": latency_summary([r.seconds for r in answered]) if answered else None,
        "first_update": latency_summary(
            [r.first_update_seconds for r in answered if r.first_update_seconds is not None]
        )
        if answered
        else None,
        "latency_follow_ups": latency_summary([r.seconds for r in follow_ups]) if follow_ups else None,
        "answer_words_mean": round(sum(len(r.answer.split()) for r in answered) / len(answered), 1)
        if answered
        else None,
        "leak_detector_check": detector,
        "distinct_answers_per_question": {
            f"{topic} | {question}": len(texts) for (topic, question), texts in sorted(distinct.items())
        },
        "server_exit_code": server_exit,
        "server": _page_limits(),
    }
    (WORK / "sessions.json").write_text(json.dumps(result, indent=2))
    return result


def _page_limits() -> dict:
    """The page's queue settings this run served with (ui/app.py)."""
    from ui import app

    return {
        name: getattr(app, name, None) for name in ("CONCURRENT_ANSWERS", "QUEUE_SIZE", "STREAM_DELAY", "MAX_WAITING")
    }


def row(result: dict) -> str:
    """One line of the benchmarks/README.md table."""
    lat = result["latency"] or {}
    first = result["first_update"] or {}
    return (
        f"| {result['sessions']} sessions × {result['seconds']:.0f} s, {result['corpus']} "
        f"({result['collection']['articles']} articles) | {result['answered']} / {result['questions']} | "
        f"{result['errors']} | "
        f"{result['leaks']} | {lat.get('p50_ms', float('nan')) / 1000:.1f} / "
        f"{lat.get('p95_ms', float('nan')) / 1000:.1f} / "
        f"{lat.get('max_ms', float('nan')) / 1000:.1f} | {first.get('p50_ms', float('nan')) / 1000:.1f} / "
        f"{first.get('p95_ms', float('nan')) / 1000:.1f} | {result['answers_per_second']:.2f} | "
        f"{result['load_average_during']} | {result['note'] or '-'} |"
    )


TABLE_HEAD = ("| run | answered / asked | errors | leaks | latency p50 / p95 / max (s) | first update p50 / p95 (s) | "
              "answers / s | load average during | conditions |\n|---|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long sessions keep asking (default 60)")
    parser.add_argument(
        "--corpus", choices=sorted(TOPICS), default="bbc", help="five BBC articles from ../shared, or seeds/"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds one question may take before it is an error"
    )
    parser.add_argument(
        "--note", default="", help="conditions to record with the result, e.g. other load on the machine"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "ingest":
        child_ingest(args.data, args.corpus)
        return {}
    if args.corpus == "bbc" and not BBC.is_dir():
        parser.error("the BBC corpus is not at ../shared/corpora/bbc beside the checkout; use --corpus seeds")
    result = run(args.sessions, args.seconds, args.corpus, args.timeout, args.note)
    print(json.dumps(result, indent=2))
    print("\n" + TABLE_HEAD + "\n" + row(result))
    return result


if __name__ == "__main__":
    main()
