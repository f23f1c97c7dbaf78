"""The warm agent on the host's interpreter, without a sandbox: it runs a script as
`python -I script` would, and exits the way a normal exit would for the outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from judge.sandbox import warm_agent
from judge.sandbox.slots import AgentOutput, Handoff, agent_command


def run_agent(script: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """Start the agent, hand it `script`, return (exit status, the run's stdout, stderr)."""
    path = tmp_path / "main.py"
    path.write_text(script, encoding="utf-8")
    proc = subprocess.Popen(
        agent_command(sys.executable),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.read(len(warm_agent.READY)) == warm_agent.READY
    env = {"PATH": "/usr/bin:/bin", "MARK": "handed-off"}
    handoff = Handoff([str(path), *args], env, str(tmp_path), 1 << 20)
    out, err = proc.communicate(handoff.encode(), timeout=60)
    output = AgentOutput()
    output.feed(0, warm_agent.READY + out)
    output.handed_off()
    output.feed(1, err)
    assert output.went.is_set()
    return proc.returncode, output.text(0), output.text(1)


@pytest.mark.slow
def test_the_script_runs_as_main_with_its_arguments_and_environment(tmp_path: Path) -> None:
    script = """
import os, sys
print(__name__, sys.argv[1:], os.environ["MARK"], "MARK" in os.environ, sys.flags.isolated)
print(sys.modules["__main__"].__file__ == __file__, __spec__ is None, os.getcwd())
"""
    status, out, err = run_agent(script, tmp_path, "a", "b")
    assert status == 0, err
    first, second = out.splitlines()
    assert first == "__main__ ['a', 'b'] handed-off True 1"
    assert second == f"True True {tmp_path}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "status", "in_stderr"),
    [
        ("import sys; sys.exit(3)", 3, ""),
        ("import sys; sys.exit('bad input')", 1, "bad input"),
        ("raise SystemExit", 0, ""),
        ("def f():\n    raise KeyError('boom')\nf()", 1, "KeyError: 'boom'"),
        ("x = (", 1, "SyntaxError"),
    ],
)
def test_exits_as_the_interpreter_would(
    tmp_path: Path, body: str, status: int, in_stderr: str
) -> None:
    code, _, err = run_agent(body, tmp_path)
    assert code == status
    assert in_stderr in err
    assert "<string>" not in err  # no frame of the agent in a traceback


@pytest.mark.slow
def test_a_normal_exit_is_done_for_the_outputs(tmp_path: Path) -> None:
    """Unclosed files are flushed, atexit handlers and non-daemon threads run."""
    script = f"""
import atexit, threading, time
held = open({str(tmp_path / "held.txt")!r}, "w")
held.write("written without close")
atexit.register(lambda: open({str(tmp_path / "atexit.txt")!r}, "w").write("ran"))
def late():
    time.sleep(0.3)
    open({str(tmp_path / "thread.txt")!r}, "w").write("joined")
threading.Thread(target=late).start()
"""
    code, _, err = run_agent(script, tmp_path)
    assert code == 0, err
    assert (tmp_path / "held.txt").read_text() == "written without close"
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert (tmp_path / "thread.txt").read_text() == "joined"


@pytest.mark.slow
def test_the_stack_is_imported_before_ready_and_stdin_is_empty_after(tmp_path: Path) -> None:
    script = """
import sys
print(sorted(m for m in ("numpy", "torch", "sklearn") if m in sys.modules))
print(repr(sys.stdin.read()))
"""
    code, out, err = run_agent(script, tmp_path)
    assert code == 0, err
    assert out.splitlines() == ["['numpy', 'sklearn', 'torch']", "''"]


def test_markers_split_across_chunks_are_found_and_dropped() -> None:
    output = AgentOutput()
    stream = b"import noise\n" + warm_agent.READY + warm_agent.GO + b"hello\n"
    for at in range(0, len(stream), 3):
        output.feed(0, stream[at : at + 3])
    output.feed(1, b"agent warning\n")
    assert output.ready.is_set() and output.went.is_set()
    output.handed_off()
    output.feed(1, b"run error\n")
    output.feed(0, warm_agent.GO + b"more\n")  # after GO, a forged marker is just output
    assert output.text(0) == "hello\n" + warm_agent.GO.decode() + "more\n"
    assert output.text(1) == "run error\n"
    assert output.agent_log() == "agent warning\n"


def test_the_handoff_is_one_line_of_json() -> None:
    line = Handoff(["/s.py", "x\ny"], {"A": "1"}, "/w", 5).encode()
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert json.loads(line) == {
        "argv": ["/s.py", "x\ny"],
        "env": {"A": "1"},
        "cwd": "/w",
        "fsize": 5,
    }
