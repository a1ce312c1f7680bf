"""The Gradio chat page. It only renders: asking and follow-up context belong to assistant.conversation, saved
conversations and feedback to assistant.history, confidence words to assistant.ranker.confidence.

    demo, url = launch(Assistant(data_dir=...), port=7860)   # serves on loopback, returns at once
    demo.block_thread()                                       # or demo.close()

Each browser tab has its own ui.session.ChatSession in a gr.State (its conversation, the answer behind every
message, the questions waiting); nothing about a chat is kept in a module global. Conversations are saved in
DATA_DIR/history.sqlite3 under a random id the browser keeps (gr.BrowserState), so a reload or a restart finds
them. The page's own script (ui/page.js, loaded in <head>) flashes passage n when [n] is clicked, copies an answer,
and switches between the light and the dark theme. One endpoint, /ask, is public for API clients
(gradio_client): it answers one question without conversation context and returns Answer.to_dict().
The Collection panel (ui/collections.py) picks the collection a tab asks, creates, renames and deletes collections,
and ingests dropped files and zipped folders (ingest/uploads.py) into the picked one.
launch() puts ui.guard.PageGuard in front of every route (foreign Origins, DNS rebinding, failed logins,
the API schema behind the login) and refuses a network address without a login.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence, cast

import gradio as gr
from starlette.middleware import Middleware

from assistant.conversation import MAX_TURNS, Conversation, Turn
from assistant.core.answer import Answer
from assistant.core.errors import AssistantError, ConfigError, InputError
from assistant.core.net import is_loopback
from assistant.history import History, StoredConversation, conversation_markdown, title_for
from assistant.llm.text import neutralise_markup
from assistant.ranker.confidence import for_answer
from assistant.text.question import MAX_QUESTION_CHARS
from assistant.text.timeframe import parse_day
from assistant.timeline import build_timeline
from ui import render
from ui.collections import AssistantPool, CollectionControls, collection_panel, wire_collections
from ui.guard import AUTH_ENV, NO_LOGIN_REFUSED, LoginThrottle, PageGuard, auth_from_env  # noqa: F401 (re-exported)
from ui.session import SHOWN_QUESTION_CHARS, Chat, ChatSession, Shown, Waiting, message, shown_question  # noqa: F401

if TYPE_CHECKING:
    from assistant.api import Assistant

log = logging.getLogger(__name__)

QUEUE_SIZE = 20  # requests waiting at most; more get "queue is full"
CONCURRENT_ANSWERS = 1  # questions answered at once (the model and store are shared by every session)
STREAM_DELAY = 0.02  # seconds between streamed words
MAX_WAITING = 5  # questions one tab may have waiting while another is answered
BROWSER_KEY = "news-assistant"  # the localStorage key of the browser's id
UNSUPPORTED_TITLE = "Not supported by the passage it cites"
CSS = (
    render.CSS
    + ".answer .unsupported { text-decoration: underline wavy var(--na-warn-fg); background: var(--na-warn-bg);"
    " color: var(--na-warn-fg); }"
    ".answer .unsupported::after { content: ' ⚠ unsupported'; font-size: 0.75em; }"
    ".answer.draft { opacity: 0.75; } .answer .draft-note { font-size: 0.8em; color: var(--na-meta); }"
)
HEAD = f"<script>{(Path(__file__).resolve().parent / 'page.js').read_text(encoding='utf-8')}</script>"
MAX_UPLOAD = "50mb"  # per uploaded file (an article, or a .zip of a folder; ingest.uploads bounds what it unpacks to)
UNEXPECTED = "Something went wrong while answering; the server log has the details. Try again or rephrase the question."


def draft_html(draft: str) -> str:
    """The LLM's text while it is being written: escaped, links and images removed, not yet checked."""
    return (
        f'<div class="answer draft">{render.text(neutralise_markup(draft))}<span class="draft-note"> '
        f'(checking…)</span></div>'
    )


def answer_html(answer: Answer, asked: str | None = None, index: int | None = None,
                options: dict[str, str] | None = None, backend: str | None = None) -> str:
    """render.answer_html with the confidence in words (what it has meant for `backend`, the configured answerer),
    and the sentences no cited passage supports marked (or, when left out, counted). index: the message's place
    in the chat (its actions need it)."""
    words = for_answer(answer, backend)
    html = render.answer_html(answer, asked=asked, index=index, confidence=words, options=options)
    left_out = 0
    for sentence in answer.unsupported:
        shown = render.answer_body(sentence)
        if sentence and shown in html:
            html = html.replace(shown, f'<span class="unsupported" title="{UNSUPPORTED_TITLE}">{shown}</span>', 1)
        else:
            left_out += 1
    if left_out and not answer.refused:
        note = (
            f"{left_out} sentence{'s' if left_out > 1 else ''} the model wrote {'were' if left_out > 1 else 'was'} "
            f"left out: "
            f"the retrieved passages do not support {'them' if left_out > 1 else 'it'}."
        )
        html += f'<div class="answer-meta unsupported-note">{render.text(note)}</div>'
    return html


class ChatPage:
    """The event handlers of one app; per-tab data comes in and goes out through a ChatSession in a gr.State.

    Asking is two steps: `submit` (outside the queue, so it runs at once even while an answer streams) puts the
    question on the tab's waiting list and shows it; `answer_waiting` (in the queue, one answer at a time) answers
    the waiting questions in order. A question typed while another is answered is shown as waiting until its turn.
    """

    def __init__(
        self, assistant: "Assistant", stream_delay: float = STREAM_DELAY, history: History | None = None
    ) -> None:
        self.assistant = assistant
        self.stream_delay = stream_delay
        self.history = history
        self.pool = AssistantPool(assistant)  # the page's collection and the others a tab picks

    # ---- answering one question ----------------------------------------------------------------------

    def respond(
        self,
        question: str,
        conversation: Conversation,
        messages: list[dict],
        as_of: str = "",
        date_from: str = "",
        date_to: str = "",
        source: str = "",
        collection: str | None = None,
    ) -> Iterator[tuple]:
        """Answer `question` in `conversation` from `collection` (None: the page's own): yields (chat, sources,
        conversation, messages, textbox) as the answer streams in. The answer's message carries its index in
        `messages` (class msg-N), and the final sources panel is that answer's. A message refused as too long
        leaves the typed text in the box."""
        if not question or not question.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        options = filter_options(date_from, date_to, source, as_of)
        messages = messages + [message("user", render.user_html(shown_question(question)))]
        keep = len(question) > MAX_QUESTION_CHARS
        yield (
            messages + [message("assistant", render.pending_html())],
            gr.skip(),
            gr.skip(),
            gr.skip(),
            gr.skip() if keep else "",
        )
        try:
            assistant = self.pool.get(collection)
            if assistant.store.is_empty():
                raise InputError(
                    f"The collection {assistant.settings.collection} holds no articles yet: add some under "
                    "Collection (drop files or a .zip of a folder), or pick another collection."
                )
        except Exception as exc:
            yield self._failed(question, exc, conversation, messages)
            return
        answer, draft = None, ""
        try:
            for event in conversation.ask_stream(assistant, question, **options):
                if isinstance(event, Turn):
                    answer = event.answer
                    break
                draft += event  # a backend that writes as it goes (an LLM): its draft, then the checked answer
                yield messages + [message("assistant", draft_html(draft))], gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except Exception as exc:
            yield self._failed(question, exc, conversation, messages)
            return
        assert answer is not None  # ask_stream ends with the Turn
        index = len(messages)
        if not draft:  # an answer given whole: revealed a few words at a time
            for partial in render.answer_prefixes(answer.text):
                yield (
                    messages + [message("assistant", render.answer_html(answer, partial=partial))],
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                )
                if self.stream_delay:
                    time.sleep(self.stream_delay)
        shown = answer_html(
            answer, asked=question, index=index, options=options, backend=self.assistant.settings.backend
        )
        messages.append(message("assistant", shown))
        yield messages, render.sources_html(answer, index, question), conversation, messages, gr.skip()

    @staticmethod
    def _failed(question: str, exc: Exception, conversation: Conversation, messages: list[dict]) -> tuple:
        """The chat update for a failed question: the message of an error the user can act on, else a generic one.
        The box keeps a message refused as too long, so it can be shortened."""
        if isinstance(exc, AssistantError):
            error = str(exc)
        else:
            log.error("answering %r failed", question[:200], exc_info=exc)
            error = UNEXPECTED
        messages.append(message("assistant", render.error_html(error)))
        box = gr.skip() if len(question) > MAX_QUESTION_CHARS else ""
        return messages, render.sources_html(None), conversation, messages, box

    # ---- the queue of one tab --------------------------------------------------------------------------

    def submit(self, question: str, session: ChatSession, date_from: str = "", date_to: str = "", source: str = "",
               as_of: str = "") -> tuple:
        """Put a typed question on the tab's waiting list (with the filters set now): (textbox, chat)."""
        if not question or not question.strip():
            return gr.skip(), gr.skip()
        if len(session.waiting) >= MAX_WAITING:
            gr.Warning(f"{MAX_WAITING} questions are already waiting; ask this one when they are answered.")
            return gr.skip(), gr.skip()
        session.waiting.append(Waiting(question, filter_options(date_from, date_to, source, as_of), session.collection))
        return (gr.skip() if len(question) > MAX_QUESTION_CHARS else ""), session.view()

    def submit_example(self, question: str):
        def run(session: ChatSession, date_from: str = "", date_to: str = "", source: str = "", as_of: str = "") -> Any:
            return self.submit(question, session, date_from, date_to, source, as_of)[1]

        return run

    def answer_waiting(self, session: ChatSession, browser: dict | None) -> Iterator[tuple]:
        """Answer the tab's waiting questions in order: yields (chat, sources, browser storage, conversation list,
        title). One run answers every question waiting, also those typed while it runs; each way of asking triggers
        it with trigger_mode "always_last", so a question typed as a run ends gets a run after it."""
        if not session.waiting:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        while session.waiting:
            yield from self._answer(session, session.waiting.pop(0), browser)

    def _answer(self, session: ChatSession, item: Waiting, browser: dict | None) -> Iterator[tuple]:
        chat = session.chat  # "New conversation" or opening another one meanwhile: this answer still goes here
        before = chat.conversation.turns[-1] if chat.conversation.turns else None
        messages, sources = chat.messages, render.sources_html(None)
        for shown, update, _, final, _ in self.respond(item.question, chat.conversation, chat.messages, **item.options,
                                                       collection=item.collection):
            if isinstance(final, list):  # the finished answer (or error): shown below, once it is saved
                messages, sources = final, update
            elif session.chat is chat and isinstance(shown, list):
                session.live = shown[len(chat.messages):]
                yield session.view(), update, gr.skip(), gr.skip(), gr.skip()
        chat.messages = messages
        if session.chat is chat:
            session.live = []
        turn = chat.conversation.turns[-1] if chat.conversation.turns else None
        browser_update, listing = gr.skip(), gr.skip()
        if turn is not None and turn is not before:
            shown = Shown(turn, item.options, collection=item.collection or self.pool.default)
            chat.answers[len(messages) - 1] = shown
            if self._save(session, chat, shown, browser):
                browser_update = {"id": session.owner, "conversation": session.chat.stored_id}
                listing = self._listing(session)
        # The answer, its sources and where it is saved go out together, so a reload right after finds it.
        if session.chat is chat:
            yield session.view(), sources, browser_update, listing, chat.title
        else:  # another conversation is open now: only the list and the browser's id change
            yield gr.skip(), gr.skip(), browser_update, listing, gr.skip()

    def _save(self, session: ChatSession, chat: Chat, shown: Shown, browser: dict | None) -> bool:
        """Store the turn in the history (starting the conversation, and the browser's id, on its first turn)."""
        if self.history is None:
            return False
        try:
            session.owner = session.owner or (browser or {}).get("id") or secrets.token_urlsafe(16)
            if chat.stored_id is None:
                chat.title = title_for(shown.turn.question)
                chat.stored_id = self.history.start(session.owner, chat.title)
            shown.turn_id = self.history.add_turn(
                chat.stored_id, shown.turn, {**shown.options, "collection": shown.collection}
            )
            return True
        except (sqlite3.Error, OSError, AssistantError) as exc:
            log.error("saving the conversation failed: %s", exc)
            return False

    # ---- sources and feedback of earlier answers ---------------------------------------------------------

    def show_sources(self, session: ChatSession, evt: gr.SelectData) -> Any:
        """A click on a message (or its "sources" link, or an [n] in it): that answer's passages in the panel."""
        found = session.chat.answer_at(evt.index)
        if found is None:
            return gr.skip()
        index, shown = found
        return render.sources_html(shown.turn.answer, index, shown.turn.question)

    def rate(self, session: ChatSession, evt: gr.LikeData) -> tuple:
        """Thumbs up or down on an answer: stored at once; the feedback box then asks for the correct answer."""
        found = session.chat.answer_at(evt.index)
        if found is None or found[0] != evt.index:
            return gr.update(visible=True), render.note_html("Only answers can be rated."), gr.skip()
        index, shown = found
        if shown.turn_id is None or self.history is None:
            return (
                gr.update(visible=True),
                render.note_html("This answer was not saved, so it cannot be rated."),
                gr.skip(),
            )
        liked = evt.liked is True or evt.liked == "Like"
        try:
            self.history.rate(shown.turn_id, 1 if liked else -1)
        except (sqlite3.Error, AssistantError) as exc:
            return (
                gr.update(visible=True),
                render.error_html(str(exc) if isinstance(exc, AssistantError) else UNEXPECTED),
                gr.skip(),
            )
        session.rating = index
        note = (f"Saved: the answer to “{shown_question(shown.turn.question)}” marked {'right' if liked else 'wrong'}. "
                "If you know the correct answer, type it and press Save (optional).")
        return gr.update(visible=True), render.note_html(note), ""

    def save_correction(self, correction: str, session: ChatSession) -> Any:
        shown = session.chat.answers.get(session.rating) if session.rating is not None else None
        if shown is None or shown.turn_id is None or self.history is None:
            return render.note_html("Rate an answer first (thumbs up or down under it).")
        try:
            self.history.correct(shown.turn_id, correction)
        except AssistantError as exc:
            return render.error_html(str(exc))
        return render.note_html(
            "Saved the correct answer, thank you." if (correction or "").strip() else "Cleared the correct answer."
        )

    # ---- conversations: new, restore, open, rename, delete, export ---------------------------------------

    def new_conversation(self, session: ChatSession, browser: dict | None) -> tuple:
        """A fresh chat (the old one stays in the list): (chat, sources, textbox, browser storage, list, title,
        export)."""
        session.new_chat()
        stored = {"id": session.owner, "conversation": None} if session.owner else gr.skip()
        return [], render.sources_html(None), "", stored, self._listing(session), "", _no_file()

    def restore(self, browser: dict | None, session: ChatSession) -> tuple:
        """The browser's storage was read (page load or reload): list its conversations and reopen the current one."""
        owner = (browser or {}).get("id")
        if not owner or self.history is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        session.owner = owner
        wanted = (browser or {}).get("conversation")
        busy = session.chat.messages or session.live or session.waiting
        if busy or not wanted or session.chat.stored_id == wanted:
            return gr.skip(), gr.skip(), self._listing(session), gr.skip()
        return self._open(session, wanted)[:2] + (self._listing(session), session.chat.title)

    def open_conversation(self, conversation_id: str | None, session: ChatSession) -> tuple:
        """A conversation picked in the list: (chat, sources, browser storage, title, export)."""
        if not conversation_id or not session.owner or conversation_id == session.chat.stored_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        chat, sources = self._open(session, conversation_id)
        return (
            chat,
            sources,
            {"id": session.owner, "conversation": session.chat.stored_id},
            session.chat.title,
            _no_file(),
        )

    def _open(self, session: ChatSession, conversation_id: str) -> tuple:
        owner = cast(str, session.owner)  # restore and open_conversation return early without one
        stored = self.history.load(conversation_id, owner) if self.history else None
        if stored is None:
            return gr.skip(), gr.skip()
        session.new_chat(self._chat_from(stored))
        last = session.chat.last_answer()
        sources = (
            render.sources_html(last[1].turn.answer, last[0], last[1].turn.question)
            if last
            else render.sources_html(None)
        )
        return session.view(), sources

    def _chat_from(self, stored: StoredConversation) -> Chat:
        chat = Chat(stored_id=stored.id, title=stored.title)
        for item in stored.turns:
            turn = item.turn
            filters = {k: v for k, v in item.options.items() if k != "collection"}
            chat.messages.append(message("user", render.user_html(shown_question(turn.question))))
            index = len(chat.messages)
            shown = answer_html(turn.answer, asked=turn.question, index=index, options=filters,
                                backend=self.assistant.settings.backend)
            chat.messages.append(message("assistant", shown))
            chat.answers[index] = Shown(turn, filters, item.id, item.options.get("collection"))
        chat.conversation = Conversation(turns=[t.turn for t in stored.turns][-MAX_TURNS:])
        return chat

    def rename(self, title: str, session: ChatSession) -> Any:
        if not session.chat.stored_id or not session.owner or self.history is None:
            gr.Warning("Ask a question first: a conversation is saved with its first answer.")
            return gr.skip()
        try:
            self.history.rename(session.chat.stored_id, session.owner, title)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return gr.skip()
        session.chat.title = title_for(title)
        return self._listing(session)

    def delete(self, session: ChatSession) -> tuple:
        """Delete the open conversation: (chat, sources, browser storage, list, title, export)."""
        if session.chat.stored_id and session.owner and self.history is not None:
            self.history.delete(session.chat.stored_id, session.owner)
        session.new_chat()
        stored = {"id": session.owner, "conversation": None} if session.owner else gr.skip()
        return [], render.sources_html(None), stored, self._listing(session), "", _no_file()

    def export(self, session: ChatSession) -> Any:
        """The open conversation as a Markdown file to download, its citations under each answer."""
        stored = (self.history.load(session.chat.stored_id, session.owner)
                  if self.history and session.chat.stored_id and session.owner else None)
        if stored is None:
            gr.Warning("Nothing to export yet: ask a question first.")
            return _no_file()
        slug = re.sub(r"[^a-z0-9]+", "-", stored.title.lower()).strip("-")[:40] or "conversation"
        return gr.update(value=_export(conversation_markdown(stored), ".md", f"conversation-{slug}-"), visible=True)

    def _listing(self, session: ChatSession) -> Any:
        """The conversation list of this browser, the open one selected."""
        if not session.owner or self.history is None:
            return gr.update(choices=[], value=None)
        choices = [(f"{c.title} · {c.updated[:10]}", c.id) for c in self.history.conversations(session.owner)]
        return gr.update(choices=choices, value=session.chat.stored_id)

    # ---- filters, examples, timeline, API ----------------------------------------------------------------

    def chips(self, date_from: str = "", date_to: str = "", source: str = "", as_of: str = "") -> str:
        """The active filters as chips above the chat; a date that is not one is marked with why."""
        options = filter_options(date_from, date_to, source, as_of)
        problems = {}
        for name, what in (("date_from", "start date"), ("date_to", "end date"), ("as_of", "as-of date")):
            try:
                parse_day(options.get(name), what)
            except AssistantError as exc:
                problems[name] = str(exc)
        return render.filter_chips(options, problems)

    def timeline(self, topic: str, date_from: str = "", date_to: str = "",
                 session: ChatSession | None = None) -> tuple[str, str | None, str | None]:
        """Timeline tab (of the tab's collection): the events as HTML, and the Markdown and JSON exports as files."""
        if not topic or not topic.strip():
            return render.error_html("Type a topic, e.g. a person, a company or an event."), None, None
        try:
            assistant = self.pool.get(session.collection if session else None)
            result = build_timeline(assistant, " ".join(topic.split())[:200], (date_from or "").strip() or None,
                                    (date_to or "").strip() or None)
        except AssistantError as exc:
            return render.error_html(str(exc)), None, None
        return render.timeline_html(result), _export(result.to_markdown(), ".md"), _export(result.to_json(), ".json")

    def api_ask(self, question: str) -> dict[str, Any]:
        """Answer one question from the collection (no conversation context); returns the Answer as a dict."""
        try:
            return Conversation().ask(self.assistant, question).answer.to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None


def filter_options(date_from: str = "", date_to: str = "", source: str = "", as_of: str = "") -> dict[str, str]:
    """The page's filter fields as Assistant.ask options, the empty ones left out."""
    values = {"date_from": date_from, "date_to": date_to, "source": source, "as_of": as_of}
    return {name: " ".join(str(value).split()) for name, value in values.items() if value and str(value).strip()}


def _no_file() -> Any:
    """The export box emptied and hidden (it shows once there is a file)."""
    return gr.update(value=None, visible=False)


def _export(text: str, suffix: str, prefix: str = "timeline-") -> str:
    with tempfile.NamedTemporaryFile("w", suffix=suffix, prefix=prefix, delete=False, encoding="utf-8") as handle:
        handle.write(text)
        return handle.name


def build_app(assistant: "Assistant", examples: Sequence[str] = (), stream_delay: float = STREAM_DELAY) -> gr.Blocks:
    """The chat page for `assistant` (whose collection must already be open or ingested)."""
    history = History.in_data_dir(assistant.settings.data_dir)
    page = ChatPage(assistant, stream_delay, history)
    collections = CollectionControls(page.pool)
    infos = page.pool.infos()
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        session = gr.State(ChatSession())
        # A random id per browser, kept (encrypted) in its localStorage: a reload or a restart finds its conversations.
        browser = gr.BrowserState({"id": None, "conversation": None}, storage_key=BROWSER_KEY, secret=history.secret())
        ui = _conversations_sidebar()
        with gr.Row():
            gr.Markdown("## Ask the news articles\nShort answers, each resting on numbered passages from the articles.")
            gr.Button("◐ Light / dark", size="sm", elem_id="theme-toggle", scale=0)  # ui/page.js switches the theme
        with gr.Tabs():
            with gr.Tab("Chat", elem_id="chat-tab"):
                ui |= _chat_tab(infos, page.pool.default, examples)
            with gr.Tab("Timeline", elem_id="timeline-tab"):
                _timeline_tab(page, session)
        _wire_chat(page, ui, session, browser)
        _wire_conversations(page, ui, session, browser)
        wire_collections(collections, ui["collections"], session, demo)
        gr.api(page.api_ask, api_name="ask", concurrency_id="answer")
    demo.assistant_pool = page.pool  # launch() closes the collections a tab opened when the page closes
    return demo


def _conversations_sidebar() -> dict[str, Any]:
    with gr.Sidebar(label="Conversations", open=True, elem_id="history-sidebar"):
        gr.Markdown("### Conversations\nSaved on this computer, for this browser.")
        clear = gr.Button("New conversation", size="sm", variant="primary", elem_id="clear")
        listing = gr.Radio(choices=[], label="Open a conversation", elem_id="history", show_label=False)
        title = gr.Textbox(
            label="Title", elem_id="history-title", max_lines=1, placeholder="the open conversation's title"
        )
        with gr.Row():
            rename = gr.Button("Rename", size="sm", elem_id="history-rename")
            delete = gr.Button("Delete", size="sm", variant="stop", elem_id="history-delete")
        export = gr.Button("Export as Markdown", size="sm", elem_id="history-export")
        exported = gr.File(label="Markdown", elem_id="history-file", interactive=False, visible=False)
    return {
        "listing": listing,
        "title": title,
        "rename": rename,
        "delete": delete,
        "export": export,
        "exported": exported,
        "clear": clear,
    }


def _chat_tab(infos: list, current: str, examples: Sequence[str]) -> dict[str, Any]:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chips = gr.HTML(render.filter_chips({}), elem_id="filters", js_on_load=None)
            # Messages are HTML made by ui.render (render_markdown off: an article's [x](javascript:…) or ![](http://…)
            # stays text); no Gradio copy buttons, which would copy that HTML (each answer has its own, ui/page.js);
            # thumbs up/down for feedback; no share button, which uploads to Hugging Face.
            chatbot = gr.Chatbot(
                label="Chat",
                elem_id="chat",
                height=560,
                render_markdown=False,
                sanitize_html=True,
                latex_delimiters=[],
                feedback_options=("Like", "Dislike"),
                buttons=[],
                allow_file_downloads=False,
                placeholder="Ask a question about the articles, e.g. one of the examples on the right.",
            )
            with gr.Row(visible=False, elem_id="feedback") as feedback:
                with gr.Column():
                    feedback_note = gr.HTML(elem_id="feedback-note", js_on_load=None)
                    with gr.Row():
                        correction = gr.Textbox(
                            label="Correct answer (optional)", elem_id="correction", max_lines=2, scale=4
                        )
                        save_correction = gr.Button("Save", size="sm", elem_id="save-correction", scale=1)
            with gr.Row():
                box = gr.Textbox(show_label=False, placeholder="Ask a question about the articles…", elem_id="question",
                                 lines=1, max_lines=4, scale=6, autofocus=True)
                ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            with gr.Row(equal_height=True):
                date_from = gr.Textbox(
                    label="From (YYYY-MM-DD)",
                    placeholder="any date",
                    elem_id="date-from",
                    max_lines=1,
                    scale=1,
                    min_width=120,
                )
                date_to = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="any date", elem_id="date-to", max_lines=1,
                                     scale=1, min_width=120)
                source = gr.Textbox(label="Source starts with", placeholder="e.g. bbc/sport", elem_id="source",
                                    max_lines=1, scale=1, min_width=120)
                as_of = gr.Textbox(
                    label="As of (YYYY-MM-DD)",
                    placeholder="newest article",
                    elem_id="as-of",
                    max_lines=1,
                    scale=1,
                    min_width=120,
                    info="'This week', 'latest' are read against this date.",
                )
        with gr.Column(scale=2):
            gr.Markdown("### Sources")
            sources = gr.HTML(render.sources_html(None), elem_id="sources", js_on_load=None, max_height=560)
            with gr.Accordion("Collection", open=True, elem_id="collection"):
                collections = collection_panel(infos, current)
                buttons = []
                if examples:
                    gr.Markdown("Try:")
                    for number, question in enumerate(examples):
                        buttons.append(
                            (
                                question,
                                gr.Button(
                                    question,
                                    size="sm",
                                    variant="secondary",
                                    elem_classes=["example"],
                                    elem_id=f"example-{number}",
                                ),
                            )
                        )
    return {"chips": chips, "chatbot": chatbot, "feedback": feedback, "feedback_note": feedback_note,
            "correction": correction, "save_correction": save_correction, "box": box, "ask": ask,
            "filters": [date_from, date_to, source, as_of], "sources": sources, "examples": buttons,
            "collections": collections}


def _timeline_tab(page: ChatPage, session: gr.State) -> None:
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder="a person, company or event", elem_id="timeline-topic",
                           max_lines=1, scale=4)
        since = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="timeline-from", max_lines=1, scale=1)
        until = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="timeline-to", max_lines=1, scale=1)
        show = gr.Button("Show timeline", variant="primary", elem_id="timeline-show", scale=1)
    events = gr.HTML(elem_id="timeline")
    with gr.Row():
        as_markdown = gr.File(label="Markdown", elem_id="timeline-md")
        as_json = gr.File(label="JSON", elem_id="timeline-json")
    show.click(page.timeline, [topic, since, until, session], [events, as_markdown, as_json], api_visibility="private",
               concurrency_id="answer")
    topic.submit(page.timeline, [topic, since, until, session], [events, as_markdown, as_json],
                 api_visibility="private", concurrency_id="answer")


def _wire_chat(page: ChatPage, ui: dict[str, Any], session: gr.State, browser: gr.BrowserState) -> None:
    chatbot, sources, box, filters = ui["chatbot"], ui["sources"], ui["box"], ui["filters"]
    private = {"api_visibility": "private"}
    at_once = {"queue": False, "show_progress": "hidden", **private}
    # Every way of asking shares one concurrency group: the queue's limit is on answers at once, not per button.
    # A run answers every question waiting; one triggered while another runs waits for it ("always_last").
    answering = {"concurrency_id": "answer", "trigger_mode": "always_last", "show_progress": "hidden", **private}
    answer_outputs = [chatbot, sources, browser, ui["listing"], ui["title"]]
    # Putting a question on the waiting list runs for every question ("multiple"; Gradio's default would drop a
    # second Enter while the first is still on its way).
    queueing = {**at_once, "trigger_mode": "multiple"}
    for trigger in (box.submit, ui["ask"].click):
        trigger(page.submit, [box, session, *filters], [box, chatbot], **queueing).then(
            page.answer_waiting, [session, browser], answer_outputs, **answering)
    for question, button in ui["examples"]:
        button.click(page.submit_example(question), [session, *filters], [chatbot], **queueing).then(
            page.answer_waiting, [session, browser], answer_outputs, **answering)
    for field in filters:
        field.change(page.chips, filters, [ui["chips"]], **at_once)
    chatbot.select(page.show_sources, [session], [sources], **at_once)
    chatbot.like(page.rate, [session], [ui["feedback"], ui["feedback_note"], ui["correction"]], **at_once)
    ui["save_correction"].click(page.save_correction, [ui["correction"], session], [ui["feedback_note"]], **at_once)
    ui["correction"].submit(page.save_correction, [ui["correction"], session], [ui["feedback_note"]], **at_once)


def _wire_conversations(page: ChatPage, ui: dict[str, Any], session: gr.State, browser: gr.BrowserState) -> None:
    chatbot, sources, listing, title = ui["chatbot"], ui["sources"], ui["listing"], ui["title"]
    at_once: dict[str, Any] = {"queue": False, "show_progress": "hidden", "api_visibility": "private"}
    exported = ui["exported"]
    fresh = [chatbot, sources, ui["box"], browser, listing, title, exported]
    ui["clear"].click(page.new_conversation, [session, browser], fresh, **at_once)
    chatbot.clear(page.new_conversation, [session, browser], fresh, **at_once)  # the chat's own bin button
    browser.change(page.restore, [browser, session], [chatbot, sources, listing, title], **at_once)
    listing.input(page.open_conversation, [listing, session], [chatbot, sources, browser, title, exported], **at_once)
    ui["rename"].click(page.rename, [title, session], [listing], **at_once)
    title.submit(page.rename, [title, session], [listing], **at_once)
    ui["delete"].click(page.delete, [session], [chatbot, sources, browser, listing, title, exported], **at_once)
    ui["export"].click(page.export, [session], [exported], **at_once)


def launch(assistant: "Assistant", *, host: str = "127.0.0.1", port: int = 7860, examples: Sequence[str] = (),
           auth: tuple[str, str] | None = None, stream_delay: float = STREAM_DELAY, quiet: bool = True,
           insecure_no_login: bool = False, allowed_hosts: Sequence[str] = (),
           login_throttle: LoginThrottle | None = None) -> tuple[gr.Blocks, str]:
    """Serve the chat page and return (demo, url) at once; call demo.block_thread() or demo.close().

    No share link, no server-side rendering (gradio 6.27-6.31 has an authentication bypass
    through SSR), no allowed_paths, and the store directory is blocked outright. ui.guard.PageGuard
    sits in front of every route: foreign Origins cannot change state, a loopback server answers
    only to loopback host names and `allowed_hosts` (a reverse proxy's), failed logins are slowed,
    and FastAPI's schema needs the login.
    A host other than loopback needs `auth` unless `insecure_no_login` says otherwise.
    """
    if not is_loopback(host) and auth is None and not insecure_no_login:
        raise ConfigError(NO_LOGIN_REFUSED.format(host=host))
    demo = build_app(assistant, examples, stream_delay)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENT_ANSWERS)
    guard = Middleware(PageGuard, login=auth is not None, local_only=is_loopback(host), allowed_hosts=allowed_hosts,
                       throttle=login_throttle)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            ssr_mode=False,
            auth=auth,
            prevent_thread_lock=True,
            show_error=False,
            quiet=quiet,
            inbrowser=False,
            blocked_paths=[assistant.settings.data_dir],
            max_file_size=MAX_UPLOAD,
            enable_monitoring=False,
            mcp_server=False,
            run_history=False,
            pwa=False,
            footer_links=["api"],
            css=CSS,
            head=HEAD,
            theme=gr.themes.Default(),
            app_kwargs={"middleware": [guard]},
        )
    except OSError:
        raise ConfigError(
            f"Cannot listen on {host}:{port}: another program uses the port, or the address is not one of "
            "this machine's. Pass another --port (or --host)."
        ) from None
    if not any(m.cls is PageGuard for m in getattr(demo.app, "user_middleware", ())):
        demo.close()  # a Gradio that ignores app_kwargs would serve the page unguarded: refuse instead
        raise RuntimeError(
            "the page guard is not installed on the app Gradio built (app_kwargs['middleware'] ignored?)"
        )
    _close_pool_with(demo)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{demo.server_port}/"
    return demo, url


def _close_pool_with(demo: gr.Blocks) -> None:
    """demo.close() also closes the Assistants the page opened for other collections (the page's own stays open)."""
    close = demo.close

    def close_all(*args: Any, **kwargs: Any) -> Any:
        try:
            return close(*args, **kwargs)
        finally:
            demo.assistant_pool.close()  # type: ignore[attr-defined]  # our attribute, set by build_app

    demo.close = close_all  # type: ignore[method-assign]  # wraps this instance's close
