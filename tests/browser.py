"""Headless Chromium for browser tests: Debian's chromium driven by Playwright (never a
browser download), started with every background connection off and a fresh profile,
so it makes no connection off this machine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_context(profile: Path, offline: bool = True, width: int = 1280) -> Iterator[Any]:
    """Yield a Playwright browser context; skip (fail under CI) without Debian's chromium.

    offline: block every request (a standalone page); a test of a service on
    127.0.0.1 passes False, and the page then reaches only that listener.
    """
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} missing: apt-get install chromium (make host does)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": 900},
            offline=offline,
        )
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)
