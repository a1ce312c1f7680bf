"""Text: functions on strings (sentences, tokens, terms, names, time expressions, the question check, grounding).

Imports only assistant.core; spaCy (linguistics.py) is loaded on first use."""
