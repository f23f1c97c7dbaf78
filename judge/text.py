"""Text that came from a submission, made safe to show: no control codes, no escapes.

Everything a contestant controls (stderr tails, file names, notebook fields, the text
of exceptions raised on their output) passes through `printable` before it reaches a
Result, a log line, a terminal, a JSON file or a page. It removes what a terminal or a
viewer would act on instead of showing:

- escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ST`, DCS/SOS/PM/APC
  strings up to ST, and two-byte `ESC x`): screen clearing, cursor moves, window
  titles, OSC 52 clipboard writes, hyperlinks;
- the other C0 controls (all but newline and tab), DEL and the C1 controls
  (U+0080-U+009F, among them the 8-bit CSI U+009B);
- bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a
  line read differently from what it holds;
- lone surrogates, which cannot be encoded and would crash a writer.

Markup is a separate matter: callers never pass this text to a markup parser (rich
prints it with markup off; Jinja escapes it).
"""

from __future__ import annotations

import re

# An escape sequence: CSI with its parameters, a string command ended by BEL or ST
# (or the end of the text), or ESC and one more character.
_ESCAPE = re.compile(
    r"""
    (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?     # CSI ... final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|$)  # OSC, DCS, SOS, PM, APC
    | \x1b [\x20-\x7e]?                                       # two-byte escapes
    """,
    re.VERBOSE | re.DOTALL,
)
# Left after the escapes are gone: C0 but tab and newline, DEL, C1, bidi controls,
# surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str, keep_newlines: bool = True) -> str:
    """Return `text` without escape sequences or control characters (see the module doc).

    keep_newlines: False turns newlines and tabs into spaces, for one-line messages.
    """
    cleaned = _UNSAFE.sub("", _ESCAPE.sub("", text.replace("\r\n", "\n")))
    if not keep_newlines:
        cleaned = " ".join(cleaned.split())
    return cleaned
