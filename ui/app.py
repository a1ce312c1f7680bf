"""The Gradio chat page. It only renders: asking, and follow-up context, belong to assistant.conversation.

    demo, url = launch(Assistant(data_dir=...), port=7860)   # serves on loopback, returns at once
    demo.block_thread()                                       # or demo.close()

Each browser session has its own Conversation in a gr.State; nothing about a chat is kept
in a module global. One endpoint, /ask, is public for API clients (gradio_client): it
answers one question without conversation context and returns Answer.to_dict().
launch() puts ui.guard.PageGuard in front of every route (foreign Origins, DNS rebinding, failed logins,
the API schema behind the login) and refuses a network address without a login.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import gradio as gr
from starlette.middleware import Middleware

from assistant.answer import Answer
from assistant.conversation import Conversation, Turn
from assistant.errors import AssistantError, ConfigError, InputError
from ui import render
from ui.guard import AUTH_ENV, NO_LOGIN_REFUSED, LoginThrottle, PageGuard, auth_from_env, is_loopback_name  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from assistant.api import Assistant

log = logging.getLogger(__name__)

QUEUE_SIZE = 20  # requests waiting at most; more get "queue is full"
CONCURRENT_ANSWERS = 1  # questions answered at once (the model and store are shared by every session)
STREAM_DELAY = 0.02  # seconds between streamed words
SHOWN_QUESTION_CHARS = 500  # an over-long message is echoed cut to this length
UNSUPPORTED_TITLE = "Not supported by the passage it cites"
CSS = (render.CSS + ".answer .unsupported { text-decoration: underline wavy #b45309; background: #fef3c7; }"
       ".answer .unsupported::after { content: ' ⚠ unsupported'; font-size: 0.75em; color: #b45309; }"
       ".answer.draft { opacity: 0.75; } .answer .draft-note { font-size: 0.8em; opacity: 0.7; }")
UNEXPECTED = "Something went wrong while answering; the server log has the details. Try again or rephrase the question."


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def draft_html(draft: str) -> str:
    """The LLM's text while it is being written: escaped, links and images removed, not yet checked."""
    from assistant.llm.text import neutralise_markup

    return f'<div class="answer draft">{render.text(neutralise_markup(draft))}<span class="draft-note"> (checking…)</span></div>'


def answer_html(answer: Answer, asked: str | None = None) -> str:
    """render.answer_html, with the sentences no cited passage supports marked (or, when left out, counted)."""
    html = render.answer_html(answer, asked=asked)
    left_out = 0
    for sentence in answer.unsupported:
        shown = render.answer_body(sentence)
        if sentence and shown in html:
            html = html.replace(shown, f'<span class="unsupported" title="{UNSUPPORTED_TITLE}">{shown}</span>', 1)
        else:
            left_out += 1
    if left_out and not answer.refused:
        note = (f"{left_out} sentence{'s' if left_out > 1 else ''} the model wrote {'were' if left_out > 1 else 'was'} left out: "
                f"the retrieved passages do not support {'them' if left_out > 1 else 'it'}.")
        html += f'<div class="answer-meta unsupported-note">{render.text(note)}</div>'
    return html


def _shown_question(question: str) -> str:
    if len(question) > SHOWN_QUESTION_CHARS:
        return question[:SHOWN_QUESTION_CHARS] + "…"
    return question


class ChatPage:
    """The event handlers of one app; per-session data comes in and goes out through gr.State."""

    def __init__(self, assistant: "Assistant", stream_delay: float = STREAM_DELAY) -> None:
        self.assistant = assistant
        self.stream_delay = stream_delay

    def respond(self, question: str, conversation: Conversation, messages: list[dict], as_of: str = "") -> Iterator[tuple]:
        """Chat handler: yields (chat, sources, conversation, messages, textbox) as the answer streams in."""
        if not question or not question.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        messages = messages + [_message("user", render.user_html(_shown_question(question)))]
        yield messages + [_message("assistant", render.pending_html())], gr.skip(), gr.skip(), gr.skip(), ""
        if self._llm_streams():
            yield from self._respond_streaming(question, conversation, messages, as_of)
            return
        try:
            turn = conversation.ask(self.assistant, question, as_of=(as_of or "").strip() or None)
        except Exception as exc:
            yield self._failed(question, exc, conversation, messages)
            return
        answer = turn.answer
        for partial in render.answer_prefixes(answer.text):
            yield messages + [_message("assistant", render.answer_html(answer, partial=partial))], gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if self.stream_delay:
                time.sleep(self.stream_delay)
        messages.append(_message("assistant", answer_html(answer, asked=question)))
        yield messages, render.sources_html(answer), conversation, messages, gr.skip()

    @staticmethod
    def _failed(question: str, exc: Exception, conversation: Conversation, messages: list[dict]) -> tuple:
        """The chat update for a failed question: the message of an error the user can act on, else a generic one."""
        if isinstance(exc, AssistantError):
            message = str(exc)
        else:
            log.error("answering %r failed", question[:200], exc_info=exc)
            message = UNEXPECTED
        messages.append(_message("assistant", render.error_html(message)))
        return messages, render.sources_html(None), conversation, messages, ""

    def _llm_streams(self) -> bool:
        """True when the configured backend is an LLM that streams (a broken backend shows its error when asked)."""
        from assistant.backends import LLM_BACKENDS

        return self.assistant.settings.backend in LLM_BACKENDS

    def _respond_streaming(self, question: str, conversation: Conversation, messages: list[dict],
                           as_of: str = "") -> Iterator[tuple]:
        """The LLM's draft as it is written, then the checked answer in its place (unsupported sentences marked)."""
        from assistant.api import MAX_QUESTION_CHARS

        answer, draft = None, ""
        try:
            if len(question) > MAX_QUESTION_CHARS:
                raise InputError(f"Your message is {len(question)} characters long; questions are limited to "
                                 f"{MAX_QUESTION_CHARS} characters. Shorten it and ask again.")
            question = " ".join(question.split())
            standalone = conversation.standalone(question)
            standalone = question if len(standalone) > MAX_QUESTION_CHARS else standalone
            for event in self.assistant.ask_stream(standalone, as_of=(as_of or "").strip() or None):
                if isinstance(event, Answer):
                    answer = event
                    break
                draft += event
                yield messages + [_message("assistant", draft_html(draft))], gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except Exception as exc:
            yield self._failed(question, exc, conversation, messages)
            return
        conversation.turns = (conversation.turns + [Turn(question, standalone, answer)])[-conversation.max_turns:]
        messages.append(_message("assistant", answer_html(answer, asked=question)))
        yield messages, render.sources_html(answer), conversation, messages, gr.skip()

    def ask_example(self, question: str):
        def run(conversation: Conversation, messages: list[dict], as_of: str = "") -> Iterator[tuple]:
            yield from self.respond(question, conversation, messages, as_of)

        return run

    @staticmethod
    def clear() -> tuple:
        conversation = Conversation()
        return [], render.sources_html(None), conversation, [], ""

    def timeline(self, topic: str, date_from: str = "", date_to: str = "") -> tuple[str, str | None, str | None]:
        """Timeline tab: the events as HTML, and the Markdown and JSON exports as files to download."""
        from assistant.timeline import build_timeline

        if not topic or not topic.strip():
            return render.error_html("Type a topic, e.g. a person, a company or an event."), None, None
        try:
            result = build_timeline(self.assistant, " ".join(topic.split())[:200], (date_from or "").strip() or None,
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


def _export(text: str, suffix: str) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=suffix, prefix="timeline-", delete=False, encoding="utf-8") as handle:
        handle.write(text)
        return handle.name


def build_app(assistant: "Assistant", examples: Sequence[str] = (), stream_delay: float = STREAM_DELAY) -> gr.Blocks:
    """The chat page for `assistant` (whose collection must already be open or ingested)."""
    page = ChatPage(assistant, stream_delay)
    info = assistant.info()
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        conversation = gr.State(Conversation())
        messages = gr.State([])
        gr.Markdown("## Ask the news articles\nShort answers, each resting on numbered passages from the articles.")
        with gr.Tabs():
            with gr.Tab("Chat", elem_id="chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        # Messages are HTML made by ui.render (render_markdown off: an article's [x](javascript:…) or ![](http://…)
                        # stays text); no copy buttons, which would copy that HTML; no share button, which uploads to Hugging Face.
                        chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=560, render_markdown=False, sanitize_html=True,
                                             latex_delimiters=[], feedback_options=None, buttons=[], allow_file_downloads=False,
                                             placeholder="Ask a question about the articles, e.g. one of the examples on the right.")
                        with gr.Row():
                            box = gr.Textbox(show_label=False, placeholder="Ask a question about the articles…", elem_id="question",
                                             lines=1, max_lines=4, scale=6, autofocus=True)
                            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                        with gr.Row():
                            clear = gr.Button("New conversation", size="sm", elem_id="clear")
                            as_of = gr.Textbox(label="As of (YYYY-MM-DD)", placeholder="newest article", elem_id="as-of",
                                               max_lines=1, scale=1, info="'This week', 'latest' are read against this date.")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render.sources_html(None), elem_id="sources", js_on_load=None, max_height=560)
                        with gr.Accordion("Collection", open=True, elem_id="collection"):
                            gr.HTML(render.collection_html(info), js_on_load=None)
                            if examples:
                                gr.Markdown("Try:")
                                for number, question in enumerate(examples):
                                    button = gr.Button(question, size="sm", variant="secondary", elem_classes=["example"], elem_id=f"example-{number}")
                                    button.click(page.ask_example(question), [conversation, messages, as_of], [chatbot, sources, conversation, messages, box],
                                                 api_visibility="private", concurrency_id="answer")

            with gr.Tab("Timeline", elem_id="timeline-tab"):
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
                show.click(page.timeline, [topic, since, until], [events, as_markdown, as_json], api_visibility="private",
                           concurrency_id="answer")
                topic.submit(page.timeline, [topic, since, until], [events, as_markdown, as_json],
                             api_visibility="private", concurrency_id="answer")

        outputs = [chatbot, sources, conversation, messages, box]
        # Every way of asking shares one concurrency group: the queue's limit is on answers at once, not per button.
        box.submit(page.respond, [box, conversation, messages, as_of], outputs, api_visibility="private",
                   concurrency_id="answer")
        ask.click(page.respond, [box, conversation, messages, as_of], outputs, api_visibility="private",
                  concurrency_id="answer")
        clear.click(page.clear, None, outputs, api_visibility="private", queue=False)
        chatbot.clear(page.clear, None, outputs, api_visibility="private", queue=False)  # the chat's own bin button
        gr.api(page.api_ask, api_name="ask", concurrency_id="answer")
    return demo


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
    if not is_loopback_name(host) and auth is None and not insecure_no_login:
        raise ConfigError(NO_LOGIN_REFUSED.format(host=host))
    demo = build_app(assistant, examples, stream_delay)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENT_ANSWERS)
    guard = Middleware(PageGuard, login=auth is not None, local_only=is_loopback_name(host), allowed_hosts=allowed_hosts,
                       throttle=login_throttle)
    try:
        demo.launch(server_name=host, server_port=port, share=False, ssr_mode=False, auth=auth, prevent_thread_lock=True,
                    show_error=False, quiet=quiet, inbrowser=False, blocked_paths=[assistant.settings.data_dir],
                    max_file_size="100kb", enable_monitoring=False, mcp_server=False, run_history=False, pwa=False,
                    footer_links=["api"], css=CSS, theme=gr.themes.Default(), app_kwargs={"middleware": [guard]})
    except OSError:
        raise ConfigError(f"Cannot listen on {host}:{port}: another program uses the port, or the address is not one of "
                          "this machine's. Pass another --port (or --host).") from None
    if not any(m.cls is PageGuard for m in getattr(demo.app, "user_middleware", ())):
        demo.close()  # a Gradio that ignores app_kwargs would serve the page unguarded: refuse instead
        raise RuntimeError("the page guard is not installed on the app Gradio built (app_kwargs['middleware'] ignored?)")
    url = f"http://{'[' + host + ']' if ':' in host else host}:{demo.server_port}/"
    return demo, url
