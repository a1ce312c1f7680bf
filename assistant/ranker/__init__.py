"""The sentence ranker, the default answerer (extractive.py), with its answer spans, confidence words and the
overlap baseline. Reading layer, beside assistant/reading/ (the span reader) and assistant/llm/."""
