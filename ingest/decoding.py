"""Turn a file's bytes into text: refuse binary and undecodable files, detect legacy encodings.

- A NUL byte anywhere makes the file binary: it is refused and reported, never read as text. (No news text
  holds a NUL; UTF-16, the one text encoding full of them, is read when it starts with a byte-order mark.)
- Mostly-valid UTF-8 stays UTF-8: the few invalid bytes become U+FFFD and a warning counts them, instead of
  the whole file being re-read in a legacy code page ("café" turning into "cafĂ©").
- Otherwise a legacy encoding: Windows-1252 when it reads as Latin text, else the detector's best guess.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from charset_normalizer import from_bytes


class LoadError(Exception):
    """A file cannot be ingested; the message is the reason shown in the summary."""


# Invalid UTF-8 sequences allowed per valid multi-byte character for a file to count as UTF-8 with a few bad bytes.
# Legacy (cp1252) text almost never holds a valid UTF-8 multi-byte sequence (it would take an accented capital
# followed by a symbol), while every accented letter in it is an invalid one; UTF-8 text with a few stray bytes
# has its accented letters valid.
INVALID_PER_VALID = 4
_REPLACEMENT_BYTES = "\ufffd".encode("utf-8")


@dataclass
class Decoded:
    """A file's text, and what was lost decoding it (shown as warnings in the ingest summary)."""

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def decode_bytes(data: bytes) -> str:
    """Decode `data` as UTF-8 (with or without BOM, or UTF-16 with BOM), else the most likely legacy encoding."""
    return decode(data).text


def decode(data: bytes) -> Decoded:
    """Like decode_bytes, with the encoding used and warnings about replaced bytes. Raises LoadError."""
    if not data.strip():
        raise LoadError("empty file")
    bom = _with_bom(data)
    if bom is not None:
        return bom
    nul = data.find(b"\x00")
    if nul >= 0:
        raise LoadError(f"binary file (a NUL byte at byte {nul}), not text; if it is UTF-16 text, save it as UTF-8")
    decoded = _utf8(data)
    if decoded is None:
        decoded = _legacy(data)
    if _looks_binary(decoded.text):
        raise LoadError("binary file, not text")
    return decoded


def _with_bom(data: bytes) -> Decoded | None:
    if data.startswith(codecs.BOM_UTF8):
        decoded = _utf8(data[len(codecs.BOM_UTF8):])
        if decoded is None:
            raise LoadError("starts with a UTF-8 byte-order mark but is mostly not UTF-8; save it as UTF-8")
        return decoded
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            try:
                return Decoded(data.decode("utf-16"), "utf-16")
            except UnicodeDecodeError as exc:
                raise LoadError(
                    f"starts with a utf-16 byte-order mark but is not valid utf-16 ({exc.reason}); save it as UTF-8"
                ) from None
    return None


def _utf8(data: bytes) -> Decoded | None:
    """UTF-8, with invalid bytes replaced when they are few next to the valid non-ASCII text; None when not UTF-8."""
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count(_REPLACEMENT_BYTES)
    valid = (len(text) - len(text.encode("ascii", errors="ignore"))) - invalid  # non-ASCII characters that decoded
    if valid < 1 or invalid > INVALID_PER_VALID * valid:
        return None
    where = "at the end (a truncated file?)" if first_bad >= len(data) - 3 else f"the first at byte {first_bad}"
    return Decoded(text, "utf-8", [f"{invalid} invalid UTF-8 byte sequence(s) replaced with U+FFFD ({where}); "
                                   "the rest of the file is read as UTF-8"])


def _legacy(data: bytes) -> Decoded:
    text = _legacy_western(data)
    if text is not None:
        return Decoded(text, "cp1252")
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError("cannot decode the file as text in any known encoding; save it as UTF-8")
    return Decoded(str(best), best.encoding)


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
