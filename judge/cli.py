"""The `judge` command line: parse input, call the library, print for people or as JSON.

Exit codes: 0 judged (whatever the verdict) or done; 1 the judge or a problem is
broken (spec error, sandbox infrastructure); 2 usage errors (unknown slug, bad
submission file, bad option).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import Progress
from rich.table import Table

from judge.bank import Bank, find_bank, labelled_submissions
from judge.data import (
    Secret,
    draw_function_calls,
    draw_train_predict,
    resolve_secret,
    write_calls,
    write_public_train_predict,
)
from judge.errors import InvalidSource, JudgeError, SandboxError, SpecError, UsageError
from judge.runner import run_submission
from judge.sandbox import CHOICES, Sandbox, open_sandbox
from judge.spec import SECTIONS, spec_json_schema
from judge.verdicts import Result

app = typer.Typer(
    help="Olympiad judge: practise deep-learning problems and judge submissions on hidden data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
if not console.is_terminal:  # logs and CI: wide enough for the verdict tables
    console = Console(width=140)
errors = Console(stderr=True)

DEFAULT_SECRET_FILE = Path.home() / ".config" / "olympiad-judge" / "secret"


def fail(message: str, code: int) -> NoReturn:
    """Print a one-line error and exit."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def exit_code_for(exc: JudgeError) -> int:
    """Usage errors and bad submission files exit 2; broken problems and infrastructure 1."""
    return 2 if isinstance(exc, UsageError | InvalidSource) else 1


def current_bank() -> Bank:
    """The bank named by JUDGE_BANK, else the one at or above the working folder or the package."""
    if named := os.environ.get("JUDGE_BANK"):
        return Bank(Path(named))
    for start in (Path.cwd(), Path(__file__).resolve().parent.parent):
        try:
            return find_bank(start)
        except SpecError:
            continue
    fail("no problem bank found: run inside the repository or set JUDGE_BANK", 2)


def current_secret() -> Secret:
    """The secret from JUDGE_SECRET, JUDGE_SECRET_FILE or ~/.config; warn on the development one."""
    secret_file = Path(os.environ.get("JUDGE_SECRET_FILE", str(DEFAULT_SECRET_FILE)))
    secret = resolve_secret(os.environ.get("JUDGE_SECRET"), secret_file)
    if secret.is_development:
        errors.print(
            "[yellow]warning:[/] using the built-in development secret: hidden data is "
            "predictable. Set JUDGE_SECRET or write a secret file for real rounds.",
            highlight=False,
        )
    return secret


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what the judge does.")
    ] = False,
) -> None:
    """Configure logging for the whole command."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command("list")
def list_problems() -> None:
    """List the problems in the bank."""
    bank = current_bank()
    table = Table("slug", "section", "kind", "difficulty", "title")
    try:
        for problem in bank.problems():
            spec = problem.spec
            section = f"{spec.section}. {SECTIONS[spec.section]}"
            table.add_row(spec.id, section, spec.kind, spec.difficulty, spec.title)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(table)


@app.command()
def show(slug: str) -> None:
    """Show a problem's statement and limits."""
    try:
        problem = current_bank().problem(slug)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(Markdown(problem.statement.read_text(encoding="utf-8")))
    limits = problem.spec.limits
    console.print(
        f"\n[dim]{problem.spec.kind} · section {problem.spec.section} · "
        f"{limits.wall_s:g} s · {limits.memory_mb} MiB · {limits.cpus} cpu[/]"
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of spec.yaml, for editors."""
    typer.echo(spec_json_schema())


@app.command()
def fetch(slug: str, dest: Path) -> None:
    """Write a problem's statement, starter and public practice data into DEST.

    Never writes reference solutions or the hidden split.
    """
    bank = current_bank()
    try:
        problem = bank.problem(slug)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        fail(f"{dest} already exists and is not an empty folder; choose a new folder", 2)
    secret = current_secret()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=dest.parent))
    try:
        shutil.copyfile(problem.statement, staging / "statement.md")
        shutil.copyfile(problem.starter, staging / "starter.py")
        spec = problem.spec
        if spec.kind == "train-predict":
            train = draw_train_predict(spec, bank.datasets_dir, secret)
            practice = draw_train_predict(spec, bank.datasets_dir, secret, purpose="practice")
            write_public_train_predict(train, staging / "data", include_test=False)
            np.save(staging / "data" / "test_X.npy", practice.hidden_X, allow_pickle=False)
        else:
            calls = draw_function_calls(spec, bank.datasets_dir, secret, purpose="practice")
            write_calls(calls, staging / "data")
        (staging / "output").mkdir()
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
    except JudgeError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        fail(str(exc), exit_code_for(exc))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    console.print(f"wrote {slug} to {dest}: statement.md, starter.py, data/ (public practice data)")


def warn_if_not_isolated(sandbox: Sandbox) -> None:
    """Say plainly when the chosen backend isolates nothing."""
    if not sandbox.isolates:
        errors.print(
            f"[yellow]warning:[/] the {sandbox.name} sandbox does not isolate: the submission "
            "can read any file and reach the network; use it only for trusted code.",
            highlight=False,
        )


def print_result(result: Result, reason: str) -> None:
    """Show a result for people."""
    colour = {"AC": "green", "WA": "yellow"}.get(result.verdict, "red")
    table = Table(show_header=False, box=None)
    table.add_row("verdict", f"[bold {colour}]{result.verdict}[/]")
    value = result.metric.value
    table.add_row(result.metric.name, "-" if value is None else f"{value:.4f}")
    table.add_row("score", f"{result.score:g} / {result.max_score:g}")
    table.add_row("time", f"{result.wall_s:.2f} s wall, {result.cpu_s:.2f} s cpu")
    table.add_row("memory", f"{result.peak_mb:.0f} MiB peak")
    table.add_row("sandbox", f"{result.sandbox} ({reason})")
    console.print(table)
    console.print(result.message, highlight=False, markup=False)


@app.command()
def run(
    slug: str,
    file: Path,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    image: Annotated[
        str | None, typer.Option(help="Docker image of the sandbox (docker backend).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Judge FILE as a submission to problem SLUG on the hidden split."""
    bank = current_bank()
    try:
        if sandbox not in CHOICES:
            raise UsageError(f"unknown sandbox {sandbox!r}; choose one of {', '.join(CHOICES)}")
        problem = bank.problem(slug)
        choice = open_sandbox(sandbox, image or os.environ.get("JUDGE_SANDBOX_IMAGE"))
        if not as_json:
            errors.print(f"[dim]sandbox: {choice.sandbox.name} ({choice.reason})[/]")
        warn_if_not_isolated(choice.sandbox)
        secret = current_secret()
        with errors.status(f"judging {file.name} on {slug} in {choice.sandbox.name}..."):
            result = run_submission(problem, file, choice.sandbox, secret, bank)
    except SandboxError as exc:
        fail(str(exc), 1)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if as_json:
        data = result.to_dict()
        data["sandbox_reason"] = choice.reason
        typer.echo(json.dumps(data))
    else:
        print_result(result, choice.reason)


@app.command()
def demo(
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    slugs: Annotated[list[str] | None, typer.Argument(help="Problems (default: all).")] = None,
) -> None:
    """Judge every problem's starter and labelled reference submissions; print a verdict table."""
    bank = current_bank()
    try:
        choice = open_sandbox(sandbox, os.environ.get("JUDGE_SANDBOX_IMAGE"))
        problems = [bank.problem(s) for s in slugs] if slugs else bank.problems()
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(f"sandbox: [bold]{choice.sandbox.name}[/] ({choice.reason})", highlight=False)
    warn_if_not_isolated(choice.sandbox)
    secret = current_secret()
    table = Table("problem", "submission", "expected", "verdict", "metric", "score", "wall s")
    mismatches = 0
    jobs = [(p, s) for p in problems for s in labelled_submissions(p)]
    with Progress(console=errors, transient=True) as progress:
        task = progress.add_task("judging", total=len(jobs))
        for problem, item in jobs:
            progress.update(task, description=f"{problem.id}: {item.label}")
            try:
                result = run_submission(problem, item.path, choice.sandbox, secret, bank)
            except JudgeError as exc:
                fail(str(exc), exit_code_for(exc))
            ok = result.verdict is item.expected
            mismatches += not ok
            value = result.metric.value
            table.add_row(
                problem.id,
                item.label,
                str(item.expected),
                f"[{'green' if ok else 'red'}]{result.verdict}[/]",
                "-" if value is None else f"{result.metric.name} {value:.4f}",
                f"{result.score:.1f}/{result.max_score:g}",
                f"{result.wall_s:.1f}",
            )
            progress.advance(task)
    console.print(table)
    if mismatches:
        fail(f"{mismatches} submission(s) did not get their expected verdict", 1)
    console.print(f"all {len(jobs)} submissions got their expected verdicts")
