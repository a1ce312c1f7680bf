"""The answer path as a LangChain runnable: retriever -> answerer, the same shape for every backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from assistant.answer import Passage
from assistant.retrieval import Filters, HybridRetriever

if TYPE_CHECKING:
    from assistant.api import Assistant


class ArticleRetriever(BaseRetriever):
    """A LangChain retriever over the collection: hybrid by default; pass k and filters per call."""

    hybrid: Any  # HybridRetriever; typed loosely because pydantic does not know it
    k: int = 8

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None,
                                filters: Filters | None = None) -> list[Document]:
        passages = self.hybrid.retrieve(query, k or self.k, filters)
        return [passage_to_document(p) for p in passages]


def passage_to_document(passage: Passage) -> Document:
    meta = passage.to_dict()
    text = meta.pop("text")
    return Document(page_content=text, metadata=meta)


def document_to_passage(document: Document) -> Passage:
    return Passage(text=document.page_content, **document.metadata)


def build_chain(assistant: "Assistant", mode: str = "hybrid", backend: str = "extractive") -> Runnable:
    """{"question", "k", "filters"} -> Answer."""
    from assistant.backends import make_answerer

    retriever = ArticleRetriever(hybrid=HybridRetriever(assistant.store, assistant.embedder, assistant.lexical, mode), k=assistant.settings.k)
    answerer = make_answerer(backend, assistant)

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
