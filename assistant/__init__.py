"""Ask questions of a news-article collection; get short answers with cited passages.

    from assistant import Assistant
    a = Assistant(data_dir="data")
    a.ingest("seeds")
    answer = a.ask("When did Lavrov visit Pakistan?")
"""

from assistant.api import Assistant
from assistant.core.answer import Answer, Citation, Passage
from assistant.core.errors import AssistantError
from assistant.core.settings import Settings

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Passage", "Settings"]
