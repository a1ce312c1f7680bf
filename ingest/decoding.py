"""Turn a file's bytes into text: refuse binary and undecodable files, detect legacy encodings."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes


class LoadError(Exception):
    """A file cannot be ingested; the message is the reason shown in the summary."""


def decode_bytes(data: bytes) -> str:
    """Decode `data` as UTF-8 (with or without BOM, or UTF-16 with BOM), else the most likely legacy encoding."""
    if not data.strip():
        raise LoadError("empty file")
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding)
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError("cannot decode the file as text in any known encoding; save it as UTF-8")
    text = str(best)
    if _looks_binary(text):
        raise LoadError("binary file, not text")
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls > len(sample) * 0.05
