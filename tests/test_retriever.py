"""`Assistant.as_retriever()`: a LangChain BaseRetriever over a real store, used in plain LCEL chains."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from assistant.core.errors import InputError

from conftest import write_folder

ARTICLES = {
    "city/bridge.txt": "date 2022-04-02\n\nBridge reopens\n\nThe Elm Street bridge in Haverford reopened after 18 "
                       "months of repairs costing $2.4m, the city council said.\n",
    "city/bridge-again.txt": "date 2022-06-20\n\nBridge closes again\n\nThe Elm Street bridge in Haverford closed "
                             "again for two weeks after a crack was found in a support beam, engineers said.\n",
    "port/harbour.txt": "date 2022-05-05\n\nHarbour dredging\n\nDredging of Nordport harbour will start in June and "
                        "cost 3 million euros, the port authority said.\n",
    "farm/cheese.txt": "date 2022-03-01\n\nCheese festival in Gouda\n\nThe Gouda cheese festival drew 40,000 visitors "
                       "on Saturday, organisers said.\n",
}
QUESTION = "What happened to the Elm Street bridge in Haverford?"
PROMPT = ChatPromptTemplate.from_template("Answer from these passages only.\n\n{context}\n\nQuestion: {question}")


def format_docs(documents: list[Document]) -> str:
    return "\n\n".join(f"[{n}] {d.metadata['title']} ({d.metadata['date']}, {d.metadata['source']})\n{d.page_content}"
                       for n, d in enumerate(documents, 1))


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder):
    """An Assistant on a real store (Chroma in a temp dir, the real model) of four short dated articles."""
    from assistant import Assistant

    root = tmp_path_factory.mktemp("retriever")
    assistant = Assistant(data_dir=root / "data")
    summary = assistant.ingest(write_folder(root / "news", ARTICLES))
    assert len(summary.added) == 4, summary.describe()
    yield assistant
    assistant.close()


def test_documents_are_the_passages_retrieve_gives_with_their_metadata(news):
    retriever = news.as_retriever(k=3)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke(QUESTION)
    passages = news.retrieve(QUESTION, 3)
    assert [d.page_content for d in documents] == [p.text for p in passages]
    assert [d.metadata["chunk_id"] for d in documents] == [p.chunk_id for p in passages]
    assert len(documents) == 3 and documents[0].metadata["source"].startswith("news/city/bridge")
    stored = {c.id: c.metadata for c in news.store.all_chunks()}
    for document in documents:
        meta = document.metadata
        assert {"chunk_id", "article_id", "title", "date", "source", "start", "end"} <= set(meta)
        assert stored[meta["chunk_id"]]["article_id"] == meta["article_id"]
        assert (stored[meta["chunk_id"]]["title"], stored[meta["chunk_id"]]["date"]) == (meta["title"], meta["date"])
        assert document.page_content in ARTICLES[meta["source"].removeprefix("news/")]


def test_the_retriever_in_a_plain_lcel_chain(news):
    chain = ({"context": news.as_retriever(k=2) | RunnableLambda(format_docs), "question": RunnablePassthrough()}
             | PROMPT)
    text = chain.invoke(QUESTION).to_string()
    assert text.startswith("Human: Answer from these passages only.")
    assert text.endswith(f"Question: {QUESTION}")
    assert "(2022-04-02, news/city/bridge.txt)" in text and "(2022-06-20, news/city/bridge-again.txt)" in text
    assert "reopened after 18 months" in text and "Gouda" not in text
    both = chain.batch([QUESTION, "How much will the Nordport dredging cost?"])
    assert "Harbour dredging (2022-05-05, news/port/harbour.txt)" in both[1].to_string()


def test_filters_and_as_of_are_those_of_retrieve(news):
    early = news.as_retriever(date_to="2022-04-30").invoke(QUESTION)
    assert early and all(d.metadata["date"] <= "2022-04-30" for d in early)
    port = news.as_retriever(source="news/port").invoke(QUESTION)
    assert [d.metadata["source"] for d in port] == ["news/port/harbour.txt"]
    as_of = news.as_retriever(as_of="2022-05-31", k=8).invoke(QUESTION)
    assert {d.metadata["source"] for d in as_of} == {"news/city/bridge.txt", "news/port/harbour.txt",
                                                      "news/farm/cheese.txt"}  # nothing published after as_of
    assert [d.page_content for d in as_of] == [p.text for p in news.retrieve(QUESTION, 8, as_of="2022-05-31")]
    assert news.as_retriever(date_from="2023-01-01").invoke(QUESTION) == []


def test_async_and_bad_arguments(news):
    documents = asyncio.run(news.as_retriever(k=1).ainvoke(QUESTION))
    assert len(documents) == 1 and documents[0].metadata["title"] in {"Bridge reopens", "Bridge closes again"}
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        news.as_retriever(date_from="last spring")
    with pytest.raises(InputError, match="k is the number of passages"):
        news.as_retriever(k=0)
    with pytest.raises(InputError, match="question is empty"):
        news.as_retriever().invoke("  ")
