"""LangChain retrievers over the collection, and the Passage <-> Document conversion they share.

`AssistantRetriever` is what `Assistant.as_retriever()` returns: a `BaseRetriever` to put in any LangChain chain.
It retrieves exactly as `Assistant.retrieve` does (hybrid dense + BM25, the question's time words as a date window,
nothing after `as_of`). Each Document's page_content is the passage; its metadata holds the passage's fields:

    chunk_id, article_id, source, title, date (YYYY-MM-DD or None), url, start, end (character span in the article),
    score, dense_rank, lexical_rank

`ArticleRetriever` is the lower-level one inside the answer chain (assistant/chain.py): k and filters per call.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.core.answer import Passage
from assistant.retrieval.hybrid import Filters


class AssistantRetriever(BaseRetriever):
    """The collection as a LangChain retriever: `retriever.invoke("When did Lavrov visit Pakistan?")` -> Documents.

    Made by `Assistant.as_retriever(k=..., date_from=..., date_to=..., source=..., as_of=..., mode=...)`; the
    filters are fixed per retriever (make another for other filters)."""

    assistant: Any  # assistant.api.Assistant; typed loosely because pydantic does not know it
    k: int | None = None  # None: the setting k
    date_from: date | None = None
    date_to: date | None = None
    source: str | None = None
    as_of: date | None = None
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.assistant.retrieve(query, self.k, date_from=self.date_from, date_to=self.date_to,
                                           source=self.source, mode=self.mode, as_of=self.as_of)
        return [passage_to_document(p) for p in passages]


class ArticleRetriever(BaseRetriever):
    """Hybrid retrieval as a LangChain retriever, k and filters given per call (the answer chain's first step):
    `filters`, or a `filter_plan` of filters tried in order until one finds passages (HybridRetriever.retrieve_first).
    """

    hybrid: Any  # assistant.retrieval.hybrid.HybridRetriever; typed loosely because pydantic does not know it
    k: int = 8

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None,
                                filters: Filters | None = None,
                                filter_plan: list[Filters | None] | None = None) -> list[Document]:
        passages = self.hybrid.retrieve_first(query, k or self.k, filter_plan or [filters])
        return [passage_to_document(p) for p in passages]


def passage_to_document(passage: Passage) -> Document:
    meta = passage.to_dict()
    text = meta.pop("text")
    return Document(page_content=text, metadata=meta)


def document_to_passage(document: Document) -> Passage:
    return Passage(text=document.page_content, **document.metadata)
