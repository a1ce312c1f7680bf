"""Turn a file's bytes into text: refuse binary and undecodable files, detect legacy encodings."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes


class LoadError(Exception):
    """A file cannot be ingested; the message is the reason shown in the summary."""


def decode_bytes(data: bytes) -> str:
    """Decode `data` as UTF-8 (with or without BOM, or UTF-16 with BOM), else the most likely legacy encoding."""
    if not data.strip():
        raise LoadError("empty file")
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(f"starts with a {encoding} byte-order mark but is not valid {encoding} ({exc.reason}); save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = _legacy_western(data)
    if text is None:
        best = from_bytes(data).best()
        if best is None or best.encoding is None:
            raise LoadError("cannot decode the file as text in any known encoding; save it as UTF-8")
        text = str(best)
    if _looks_binary(text):
        raise LoadError("binary file, not text")
    return text


# Western news text that is not UTF-8 is nearly always Windows-1252 (a superset of Latin-1's printable range).
# Detectors guess among many single-byte code pages on little evidence, and guess wrong on short texts
# (cp932 for "£", cp1250 for "ï"), so try cp1252 first and accept it when the result reads as Latin text.
_LATIN_TEXT = re.compile(r"[A-Za-z0-9\s.,;:!?'\"()\-–—‘’“”£€$%&/…\u00c0-\u00ff]")


def _legacy_western(data: bytes) -> str | None:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    sample = text[:20000]
    latin = sum(1 for ch in sample if _LATIN_TEXT.match(ch))
    return text if latin >= 0.97 * len(sample) else None


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls > len(sample) * 0.05
