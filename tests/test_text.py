"""Untrusted text made safe to show: what a terminal would act on is gone, the rest stays."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.text import printable

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.mark.parametrize(
    ("attack", "shown"),
    [
        ("\x1b[2J\x1b[HAC 100/100", "AC 100/100"),  # clear the screen, draw a fake verdict
        ("\x1b]0;pwned\x07title", "title"),  # window title
        ("\x1b]52;c;ZWNobyBoaQ==\x07clip", "clip"),  # OSC 52 clipboard write
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink
        ("a\x9b31mb", "ab"),  # the 8-bit CSI
        ("\x1bP+q544e\x1b\\dcs", "dcs"),  # a DCS query
        ("bell\x07 and back\x08space", "bell and backspace"),
        ("x\u202eevil", "xevil"),  # a right-to-left override
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("cut off at the end\x1b", "cut off at the end"),
    ],
)
def test_escape_sequences_and_controls_are_removed(attack: str, shown: str) -> None:
    assert printable(attack) == shown


def test_newlines_and_tabs_stay_unless_one_line_is_asked_for() -> None:
    assert printable("Traceback:\r\n\tline 1\nValueError") == "Traceback:\n\tline 1\nValueError"
    assert printable("a\n\tb\r\nc", keep_newlines=False) == "a b c"


def test_markup_is_left_alone_for_the_printer_to_show_as_text() -> None:
    assert printable("[/bold] <b>x</b>") == "[/bold] <b>x</b>"


@given(st.text())
def test_no_control_character_survives_any_text(text: str) -> None:
    shown = printable(text)
    assert not UNSAFE.search(shown)
    assert "\x1b" not in shown
    shown.encode("utf-8")  # never a lone surrogate


@given(st.text())
def test_cleaning_twice_changes_nothing(text: str) -> None:
    assert printable(printable(text)) == printable(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf"))))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert printable(text) == text
