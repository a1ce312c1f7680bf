"""The sentence ranker (extractive.py; the default answerer checks it with the span reader), with its answer spans,
confidence words and the overlap baseline. Reading layer, beside assistant/reading/ (the span reader) and
assistant/llm/."""
