"""Decode a request target the way the application behind the ingress will read it."""

from __future__ import annotations

import binascii
import re
from urllib.parse import unquote

DECODE_ROUNDS = 4  # double encoding is common, triple is seen; the bound keeps the cost fixed
MAX_TARGET = 8192  # nginx's default large header buffer; longer targets are cut, not skipped

NGINX_ESCAPE = re.compile(r"\\x([0-9a-f]{2})")
INVALID_ESCAPE = re.compile(r"%(?![0-9a-f]{2})")
# Encodings `unquote` does not know: IIS %u escapes and overlong UTF-8 forms of . / and \.
ODD_ESCAPES = {
    "%u002e": ".",
    "%u002f": "/",
    "%u005c": "\\",
    "%u2215": "/",
    "%c0%ae": ".",
    "%c0%af": "/",
    "%c1%9c": "\\",
    "%e0%80%ae": ".",
    "%e0%80%af": "/",
}


def decode(text: str) -> str:
    """Lower-case, undo nginx's `\\xHH` log escapes and URL-encoding (bounded), `\\` to `/`."""
    if len(text) > MAX_TARGET:
        text = text[:MAX_TARGET]
    return decode_lowered(text.lower())


def decode_lowered(text: str) -> str:
    """`decode` for text already lower-case and within `MAX_TARGET` (the parser's hot path)."""
    if "\\x" in text:
        text = NGINX_ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)
    rounds = 0
    while "%" in text and rounds < DECODE_ROUNDS:
        rounds += 1
        if "%u" in text or "%c0" in text or "%c1" in text or "%e0%80" in text:
            for escape, plain in ODD_ESCAPES.items():
                text = text.replace(escape, plain)
        decoded = percent_decode(text)
        if decoded == text:
            break
        text = decoded.lower()
    return text.replace("\\", "/") if "\\" in text else text


def percent_decode(text: str) -> str:
    """`urllib.parse.unquote`, several times faster when every escape is well formed.

    Quoted-printable decoding (C code) is percent-decoding with `=` for `%`: escape the real `=`
    signs, swap the marks, decode. A stray `%` would not survive that swap unchanged, so any text
    holding one takes the standard library's path instead.
    """
    if INVALID_ESCAPE.search(text):
        return unquote(text, errors="replace")
    swapped = text.replace("=", "=3d").replace("%", "=")
    try:
        raw = binascii.a2b_qp(swapped)  # ASCII text, as nginx logs it, needs no encoding step
    except ValueError:
        raw = binascii.a2b_qp(swapped.encode())
    return raw.decode("utf-8", "replace")
