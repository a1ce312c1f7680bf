"""Saved conversations and answer feedback, in one SQLite file in the data directory (stdlib sqlite3).

    history = History.in_data_dir(settings.data_dir)        # DATA_DIR/history.sqlite3, created when missing
    cid = history.start(owner, "When did Lavrov visit Pakistan?")
    turn_id = history.add_turn(cid, turn, {"as_of": "2021-09-20"})
    history.conversations(owner); history.load(cid, owner); history.rename(...); history.delete(...)
    history.rate(turn_id, +1, correction=None)               # thumbs up / down, optional correct answer
    history.feedback()                                       # -> a question set: `assistant eval --from-feedback`

`owner` is whoever a conversation belongs to: the page uses a random id kept in the browser, so a reload or a
restart finds the same conversations; one owner never sees or changes another's. Tables: `conversations`,
`turns` (each turn's Answer stored as JSON, with the filters and the collection it was asked with: a renamed
collection is renamed here too), `feedback` (one row per rated
turn, holding its own copy of the question and answer, so deleting a conversation keeps the feedback given on
it), and `meta` (the secret the page's browser storage is encrypted with).

A connection is opened per call: the page's handlers run on several threads, and SQLite serialises writers.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from assistant.conversation import Turn
from assistant.core.answer import Answer
from assistant.core.errors import InputError

FILE_NAME = "history.sqlite3"
TITLE_CHARS = 80
MAX_CORRECTION_CHARS = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    standalone TEXT NOT NULL,
    answer TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    asked TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_id, id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id INTEGER UNIQUE REFERENCES turns (id) ON DELETE SET NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    correction TEXT,
    question TEXT NOT NULL,
    standalone TEXT NOT NULL,
    answer TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def title_for(question: str) -> str:
    """A conversation's default title: its first question, on one line, cut to TITLE_CHARS."""
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[:TITLE_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    created: str
    updated: str
    turns: int


@dataclass(frozen=True)
class StoredTurn:
    id: int
    turn: Turn
    options: dict[str, Any]
    asked: str


@dataclass(frozen=True)
class StoredConversation:
    id: str
    title: str
    created: str
    turns: list[StoredTurn]


@dataclass(frozen=True)
class Feedback:
    id: int
    turn_id: int | None
    rating: int  # +1 thumbs up, -1 thumbs down
    correction: str | None
    question: str
    standalone: str
    answer: Answer
    options: dict[str, Any]
    updated: str


class History:
    """Conversations, their turns and feedback in the SQLite file at `path`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> "History":
        return cls(Path(data_dir) / FILE_NAME)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys = ON")
            with db:  # one transaction: committed on success, rolled back on an exception
                yield db

    # ---- the page's browser storage --------------------------------------------------------------

    def secret(self) -> str:
        """A random secret made once and kept here, so the browser's stored id still decrypts after a restart."""
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('browser_secret', ?)", (secrets.token_urlsafe(24),)
            )
            return db.execute("SELECT value FROM meta WHERE key = 'browser_secret'").fetchone()["value"]

    # ---- conversations ---------------------------------------------------------------------------

    def start(self, owner: str, title: str) -> str:
        """A new, empty conversation of `owner`; returns its id."""
        conversation_id = uuid.uuid4().hex
        now = _now()
        with self._connect() as db:
            db.execute("INSERT INTO conversations (id, owner, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                       (conversation_id, _owner(owner), title_for(title) or "Conversation", now, now))
        return conversation_id

    def add_turn(self, conversation_id: str, turn: Turn, options: dict[str, Any] | None = None) -> int:
        """Append `turn` (its Answer as JSON, and the filters it was asked with) to a conversation; returns its id."""
        now = _now()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO turns (conversation_id, question, standalone, answer, options, asked) VALUES (?, ?, ?, ?, "
                "?, ?)",
                (
                    conversation_id,
                    turn.question,
                    turn.standalone,
                    json.dumps(turn.answer.to_dict(), ensure_ascii=False),
                    json.dumps(_options(options)),
                    now,
                ),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
            assert cursor.lastrowid is not None  # set by the INSERT above
            return int(cursor.lastrowid)

    def conversations(self, owner: str) -> list[ConversationSummary]:
        """`owner`'s conversations, the most recently used first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created, c.updated, COUNT(t.id) AS turns FROM conversations c "
                "LEFT JOIN turns t ON t.conversation_id = c.id WHERE c.owner = ? GROUP BY c.id "
                "ORDER BY c.updated DESC, c.created DESC", (_owner(owner),)).fetchall()
        return [ConversationSummary(r["id"], r["title"], r["created"], r["updated"], r["turns"]) for r in rows]

    def load(self, conversation_id: str, owner: str) -> StoredConversation | None:
        """A conversation of `owner` with its turns in order; None when there is no such conversation of theirs."""
        with self._connect() as db:
            head = db.execute("SELECT id, title, created FROM conversations WHERE id = ? AND owner = ?",
                              (conversation_id, _owner(owner))).fetchone()
            if head is None:
                return None
            rows = db.execute("SELECT id, question, standalone, answer, options, asked FROM turns "
                              "WHERE conversation_id = ? ORDER BY id", (conversation_id,)).fetchall()
        turns = [StoredTurn(r["id"], Turn(r["question"], r["standalone"], Answer.from_dict(json.loads(r["answer"]))),
                            json.loads(r["options"] or "{}"), r["asked"]) for r in rows]
        return StoredConversation(head["id"], head["title"], head["created"], turns)

    def rename(self, conversation_id: str, owner: str, title: str) -> bool:
        """Give a conversation of `owner` a new title; False when there is no such conversation of theirs."""
        title = title_for(title)
        if not title:
            raise InputError("A conversation's title cannot be empty.")
        with self._connect() as db:
            cursor = db.execute("UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                                (title, conversation_id, _owner(owner)))
            return cursor.rowcount > 0

    def delete(self, conversation_id: str, owner: str) -> bool:
        """Delete a conversation of `owner` and its turns (feedback given on them is kept); False when not theirs."""
        with self._connect() as db:
            cursor = db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, _owner(owner))
            )
            return cursor.rowcount > 0

    def rename_collection(self, old: str, new: str) -> int:
        """Turns (and feedback) asked of collection `old` now say `new`; returns how many rows changed."""
        changed = 0
        with self._connect() as db:
            for table in ("turns", "feedback"):
                cursor = db.execute(f"UPDATE {table} SET options = json_set(options, '$.collection', ?) "
                                    "WHERE json_extract(options, '$.collection') = ?", (new, old))
                changed += cursor.rowcount
        return changed

    def turn_owner(self, turn_id: int) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT c.owner FROM turns t JOIN conversations c ON c.id = t.conversation_id "
                             "WHERE t.id = ?", (turn_id,)).fetchone()
        return row["owner"] if row else None

    # ---- feedback --------------------------------------------------------------------------------

    def rate(self, turn_id: int, rating: int, correction: str | None = None) -> None:
        """Thumbs up (+1) or down (-1) on a stored turn, with an optional correct answer; a second rating replaces
        the first (a correction already given is kept when none comes with the new rating)."""
        if rating not in (-1, 1):
            raise InputError("A rating is +1 (right) or -1 (wrong).")
        correction = _correction(correction)
        now = _now()
        with self._connect() as db:
            row = db.execute(
                "SELECT question, standalone, answer, options FROM turns WHERE id = ?", (turn_id,)
            ).fetchone()
            if row is None:
                raise InputError("That answer is no longer stored, so it cannot be rated.")
            db.execute(
                "INSERT INTO feedback (turn_id, rating, correction, question, standalone, answer, options, created, "
                "updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (turn_id) DO UPDATE SET rating = excluded.rating, "
                "correction = COALESCE(excluded.correction, feedback.correction), updated = excluded.updated",
                (
                    turn_id,
                    rating,
                    correction,
                    row["question"],
                    row["standalone"],
                    row["answer"],
                    row["options"],
                    now,
                    now,
                ),
            )

    def correct(self, turn_id: int, correction: str | None) -> bool:
        """Set (or, with an empty text, clear) the correct answer of a rated turn; False when it is not rated."""
        with self._connect() as db:
            cursor = db.execute("UPDATE feedback SET correction = ?, updated = ? WHERE turn_id = ?",
                                (_correction(correction), _now(), turn_id))
            return cursor.rowcount > 0

    def feedback(self) -> list[Feedback]:
        """Every rating given, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        return [Feedback(r["id"], r["turn_id"], r["rating"], r["correction"], r["question"], r["standalone"],
                         Answer.from_dict(json.loads(r["answer"])), json.loads(r["options"] or "{}"), r["updated"])
                for r in rows]


def _owner(owner: str) -> str:
    if not isinstance(owner, str) or not owner.strip():
        raise InputError("A conversation needs an owner id.")
    return owner


def _options(options: dict[str, Any] | None) -> dict[str, str]:
    """The filters a question was asked with, as strings, empty ones left out."""
    return {k: str(v) for k, v in (options or {}).items() if v not in (None, "")}


def _correction(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    if len(text) > MAX_CORRECTION_CHARS:
        raise InputError(f"The correct answer is {len(text)} characters long; keep it under {MAX_CORRECTION_CHARS}.")
    return text or None


# ---- exports ---------------------------------------------------------------------------------------


def conversation_markdown(conversation: StoredConversation) -> str:
    """A conversation as Markdown: each question, its answer, and the answer's numbered sources with their quotes."""
    lines = [f"# {conversation.title}", "", f"Started {conversation.created}.", ""]
    for number, stored in enumerate(conversation.turns, start=1):
        turn = stored.turn
        lines += [f"## {number}. {turn.question}", ""]
        if turn.standalone != turn.question:
            lines += [f"*Read as: {turn.standalone}*", ""]
        filters = {k: v for k, v in stored.options.items() if k != "collection"}
        if filters:
            lines += ["*Filters: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in filters.items()) + "*", ""]
        lines += [turn.answer.text, ""]
        for c in turn.answer.citations:
            lines += [f"[{c.number}] {c.title} ({c.date or 'undated'}) — `{c.source}`", "", f"> {c.quote}", ""]
    return "\n".join(lines).rstrip() + "\n"
