"""The answer path as a LangChain runnable: retriever -> answerer, the same shape for every backend.

`invoke` gives the Answer; `stream` gives the backend's text pieces as it writes them and then the Answer (always
last). `Assistant.ask`, `Assistant.ask_stream`, the conversation, the page and `assistant eval` all run this chain.
An answerer that can stand in when its server fails (the LLM backends, setting llm_error_fallback) is wrapped with
`with_fallbacks`: a BackendError raised before anything was written is answered by its `on_error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnablePassthrough

from assistant.core.answer import Answer
from assistant.core.errors import BackendError
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.retriever import ArticleRetriever, document_to_passage, passage_to_document

if TYPE_CHECKING:
    from assistant.api import Assistant

__all__ = ["AnswerStep", "ArticleRetriever", "build_chain", "document_to_passage", "passage_to_document"]


class AnswerStep(Runnable[dict, Any]):
    """{"question", "documents"} -> the answerer's Answer; streamed: its text pieces, then the Answer."""

    def __init__(self, answerer: Any) -> None:
        self.answerer = answerer

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self.answerer.answer(input["question"], _passages(input))

    def stream(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[str | Answer]:
        yield from self.answerer.stream(input["question"], _passages(input))


class ErrorFallbackStep(AnswerStep):
    """The answerer's stand-in answer after its server failed; the error comes in the input under "error"."""

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self.answerer.on_error(input["question"], _passages(input), input["error"])

    def stream(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[str | Answer]:
        yield self.invoke(input, config)


def _passages(inputs: dict) -> list:
    return [document_to_passage(d) for d in inputs["documents"]]


def answer_step(answerer: Any, fall_back_on_error: bool) -> Runnable:
    """The answering step; with a fallback for server errors when the answerer has one and the setting asks."""
    step: Runnable = AnswerStep(answerer)
    if fall_back_on_error and callable(getattr(answerer, "on_error", None)):
        step = step.with_fallbacks([ErrorFallbackStep(answerer)], exceptions_to_handle=(BackendError,),
                                   exception_key="error")
    return step.with_config(run_name="answer")


def build_chain(assistant: "Assistant", mode: str = "hybrid", backend: str = "extractive") -> Runnable:
    """{"question", "k", "filters", "filter_plan"} -> Answer, with the Assistant's answerer for `backend`."""
    retriever = ArticleRetriever(hybrid=HybridRetriever(assistant.store, assistant.embedder, assistant.lexical, mode),
                                 k=assistant.settings.k)

    def retrieve(inputs: dict) -> list[Document]:
        # a plan of filters, tried in order until one finds passages ("this week" first, then any date)
        return retriever.invoke(inputs["question"], k=inputs.get("k"), filters=inputs.get("filters"),
                                filter_plan=inputs.get("filter_plan"))

    return (RunnablePassthrough.assign(documents=RunnableLambda(retrieve).with_config(run_name="retrieve"))
            | answer_step(assistant.answerer(backend), assistant.settings.llm_error_fallback))
