"""Text hygiene on both sides of the model: article text going in, model output coming out.

Going in, article text is data: chat-template control tokens are removed, passage numbering
that an article could fake is neutralised, and sentences that address instructions to the
assistant ("ignore previous instructions and …") are replaced by a notice, before the text is
fenced in the prompt.

Coming out, nothing the model writes may make a renderer fetch anything: Markdown images and
HTML tags are removed, links keep only their text, bare URLs are replaced. Citation markers in
the forms small models use ("[1, 2]", "[Passage 3]", "[1][2]") become plain "[1] [2]".
"""

from __future__ import annotations

import logging
import re

from assistant.text.sentences import split_sentences

log = logging.getLogger(__name__)

REDACTED = "[instruction-like text removed]"
LINK_REMOVED = "(link removed)"

# Control tokens of common chat templates (ChatML, Llama 2/3, Gemma, Mistral): as article text they could open a new
# turn.
_CONTROL = re.compile(
    r"<\|[^<>|\n]{0,40}\|>|</?s>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|"
    r"<\|?(?:im_start|im_end|endoftext|eot_id)\|?>",
    re.IGNORECASE,
)
_FAKE_MARKER = re.compile(r"\[(\d{1,3})\]")
_INSTRUCTION = re.compile(
    r"""\b(?:ignore|disregard|forget|override|bypass)\b\W+(?:\w+\W+){0,4}?
        (?:instructions?|prompts?|rules|directions|guidelines|directives)\b
      | \b(?:system|developer)\s+(?:prompt|message|instructions?)\b
      | \byou\s+are\s+now\b
      | \b(?:new|updated|real)\s+instructions?\s*:
      | \b(?:as\s+an?|you\s+are\s+an?)\s+(?:ai|language\s+model|large\s+language\s+model|llm|chatbot|ai\s+assistant)\b
      | \b(?:reply|respond|answer|say|output|print|write|return)\b[^.!?\n]{0,60}?
        ["'“‘]?\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+
      | \b(?:ai|assistants?|chatbots?|language\s+models?|llms?)\b[^.!?\n]{0,80}?
        \b(?:must|should|shall|have\s+to|need\s+to|are\s+(?:required|instructed|told)\s+to)\b
    """, re.IGNORECASE | re.VERBOSE)

_IMAGE = re.compile(r"!\[[^\]]*\]\s*(?:\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*[^)\s]*(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REFERENCE_DEFINITION = re.compile(r"^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_URL = re.compile(r"<?\b(?:https?|ftp|file|data|javascript|mailto):[^\s<>()\]]+>?", re.IGNORECASE)
_WWW = re.compile(r"\bwww\.[^\s<>()\]]+", re.IGNORECASE)

_CITATION_GROUP = re.compile(
    r"[\[【]\s*(?:(?:passages?|sources?|articles?|p\.?)\s*)?#?(\d{1,3}(?:\s*(?:,|;|and|&|-|–)\s*#?\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(
    r"^(?:(?:the\s+)?answer(?:\s+is)?|based on the passages?,?(?:\s+the answer is)?)\s*:\s*", re.IGNORECASE
)
_WORDED_CITATION = re.compile(r"\((?:passages?|sources?)\s+(\d{1,3})\)", re.IGNORECASE)


def clean_passage(text: str) -> tuple[str, int]:
    """Article text made safe to fence in a prompt; returns (text, number of sentences redacted).

    One line (no paragraph breaks to fake a new block), no control tokens, "[3]" written "(3)"
    so the only passage numbers in a prompt are ours, and instruction-like sentences replaced by a notice.
    """
    text = _CONTROL.sub(" ", text)
    text = _FAKE_MARKER.sub(r"(\1)", text)
    pieces: list[str] = []
    redacted = 0
    for span in split_sentences(text):
        sentence = text[span.start:span.end]
        if _INSTRUCTION.search(sentence):
            redacted += 1
            if not pieces or pieces[-1] != REDACTED:
                pieces.append(REDACTED)
        else:
            pieces.append(sentence)
    return " ".join(" ".join(pieces).split()), redacted


def looks_like_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


def neutralise_markup(text: str) -> str:
    """Model output with no image, link, HTML tag or URL left that a Markdown or HTML renderer would fetch or follow."""
    text = _REFERENCE_DEFINITION.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _URL.sub(LINK_REMOVED, text)
    text = _WWW.sub(LINK_REMOVED, text)
    return text


def normalise_citations(text: str) -> str:
    """"[1, 2]", "[1-3]", "[Passage 2]", "(passage 2)", "【1】" -> "[1] [2]" …; other brackets are left alone."""

    def expand(match: re.Match) -> str:
        numbers: list[int] = []
        for part in re.split(r"\s*(?:,|;|and|&)\s*", match.group(1), flags=re.IGNORECASE):
            bounds = [int(n) for n in re.findall(r"\d+", part)]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 20:
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
        return " ".join(f"[{n}]" for n in numbers)

    text = _WORDED_CITATION.sub(lambda m: f"[{m.group(1)}]", text)
    return _CITATION_GROUP.sub(expand, text)


def tidy(text: str) -> str:
    """Collapse the white space left by removals; keep paragraph breaks out of a short answer."""
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\s*\n\s*", " ", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = _PREAMBLE.sub("", text.strip())
    return text.strip()
