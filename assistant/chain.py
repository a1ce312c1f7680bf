"""The answer path as a LangChain runnable: retriever -> answerer, the same shape for every backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.retriever import ArticleRetriever, document_to_passage, passage_to_document

if TYPE_CHECKING:
    from assistant.api import Assistant

__all__ = ["ArticleRetriever", "build_chain", "document_to_passage", "passage_to_document"]


def build_chain(assistant: "Assistant", mode: str = "hybrid", backend: str = "extractive") -> Runnable:
    """{"question", "k", "filters"} -> Answer; the answerer is the Assistant's one for `backend`, as in ask_stream."""
    retriever = ArticleRetriever(hybrid=HybridRetriever(assistant.store, assistant.embedder, assistant.lexical, mode),
                                 k=assistant.settings.k)
    answerer = assistant.answerer(backend)

    def retrieve(inputs: dict) -> list[Document]:
        # a plan of filters, tried in order until one finds passages ("this week" first, then any date)
        for filters in inputs.get("filter_plan") or [inputs.get("filters")]:
            documents = retriever.invoke(inputs["question"], k=inputs.get("k"), filters=filters)
            if documents:
                return documents
        return []

    def answer(inputs: dict):
        return answerer.answer(inputs["question"], [document_to_passage(d) for d in inputs["documents"]])

    return (RunnablePassthrough.assign(documents=RunnableLambda(retrieve).with_config(run_name="retrieve"))
            | RunnableLambda(answer).with_config(run_name="answer"))
