"""The agent of a warm slot: import the stack ahead, wait for one run, run it, exit.

Runs inside a sandbox as `python -I -c <this file's text>`, standalone (the judge
package is not importable there). The protocol with the judge (judge.sandbox.pool):

    agent -> judge   the READY line on stdout, once numpy, torch and scikit-learn are
                     imported (no tensor op is run: thread pools start after hand-off,
                     sized by the run's environment)
    judge -> agent   one line of JSON on stdin: {"argv": [script, *args], "env": {...},
                     "cwd": folder, "fsize": bytes}
    agent -> judge   the GO line on stdout once the run's environment, arguments,
                     working folder and file-size cap are set; everything after it on
                     stdout and stderr is the run's

The script then runs as `__main__` in a fresh module, as `python -I script args`
would run it: the same sys.path and flags, a traceback without the agent's frame,
SystemExit handled as the interpreter does. At the end the agent does what a normal
exit does for the run's outputs (waits for the run's threads, runs atexit handlers,
drops `__main__`'s globals so open files are flushed and closed, flushes stdio) and
then leaves with os._exit, skipping the slow teardown of torch's modules.

The slot is used once: the sandbox is destroyed after this process ends.
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import ModuleType
from typing import Any

READY = b"\x00olympiad-judge-warm-ready\n"
GO = b"\x00olympiad-judge-warm-go\n"
PRELOAD = ("numpy", "torch", "torch.nn.functional", "sklearn")
MAX_MESSAGE = 1 << 20


def _preload() -> None:
    import gc

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(name)
    # The stack's objects leave the collector's generations: the run's collections
    # walk only what the run made, not the modules it did not import.
    gc.collect()
    gc.freeze()


def _read_message() -> bytes:
    """Return the hand-off line read from fd 0, byte by byte (stdin's buffer stays empty)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(0, 65536)
        if not chunk:  # the judge closed the slot before handing anything off
            os._exit(0)
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\n") or size > MAX_MESSAGE:
            return b"".join(chunks)


def _exit_status(code: Any) -> int:
    """Return the exit status of SystemExit(code), printing it if it is a message."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{code}\n")
    return 1


def _run(path: str) -> tuple[int, ModuleType]:
    """Run the script at `path` as __main__; return its exit status."""
    import builtins
    import importlib.machinery

    module = ModuleType("__main__")
    module.__dict__.update(
        __file__=path,
        __builtins__=builtins,
        __cached__=None,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __spec__=None,
    )
    sys.modules["__main__"] = module
    try:
        with open(path, "rb") as handle:
            source = handle.read()
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except SystemExit as exc:
        return _exit_status(exc.code), module
    except BaseException as exc:  # what the interpreter would print, minus this frame
        traceback = exc.__traceback__.tb_next if exc.__traceback__ else None
        with contextlib.suppress(Exception):
            sys.excepthook(type(exc), exc.with_traceback(traceback), traceback)
        return 1, module
    return 0, module


def _finish(status: int, module: ModuleType) -> None:
    """Do what a normal exit does for the run's outputs, then leave at once."""
    import atexit
    import gc
    import threading

    try:
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
        module.__dict__.clear()
        gc.collect()
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def main() -> None:
    import json
    import resource

    _preload()
    os.write(1, READY)
    message = json.loads(_read_message())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.environ.clear()
    os.environ.update(message["env"])
    fsize = int(message["fsize"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    os.chdir(message["cwd"])
    sys.argv = list(message["argv"])
    os.write(1, GO)
    status, module = _run(sys.argv[0])
    _finish(status, module)


if __name__ == "__main__":
    main()
