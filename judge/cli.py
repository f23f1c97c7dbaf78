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
import signal
import sys
import tempfile
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from judge.bank import Bank, LabelledSubmission, find_bank, labelled_submissions
from judge.batch import core_slots, cores_for, run_pinned, usable_cores
from judge.bundle import export_bundle, fetch_problem
from judge.data import Secret, resolve_secret
from judge.errors import InvalidSource, JudgeError, SandboxError, SpecError, UsageError
from judge.kinds import get_kind
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.judging import boards, judge_round, rejudge_problem
from judge.rounds.publish import SCOREBOARD_CSV, SCOREBOARD_HTML, Published, publish
from judge.rounds.roundfile import Round, load_round, round_path
from judge.rounds.standings import Standings
from judge.rounds.submissions import discover
from judge.runner import NOT_RUN, Judge, as_result
from judge.sandbox import CHOICES, Choice, Sandbox, open_sandbox
from judge.sandbox.process import ProcessSandbox
from judge.scaffold import scaffold_problem
from judge.spec import SECTIONS, Problem, ProblemSpec, spec_json_schema
from judge.teaching import HintLog, read_editorial
from judge.text import printable
from judge.validate import (
    MEMORY_MULTIPLIER,
    TIME_MULTIPLIER,
    BankReport,
    ProblemReport,
    Severity,
    ValidateOptions,
    calibrate_problem,
    validate_bank,
)
from judge.verdicts import Result, Verdict

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
    """Print a one-line error and exit; the message is shown as text, never as markup."""
    errors.print(
        f"[bold red]error:[/] {escape(printable(message))}", highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


def exit_code_for(exc: JudgeError) -> int:
    """Usage errors and bad submission files exit 2; broken problems and infrastructure 1."""
    return 2 if isinstance(exc, UsageError | InvalidSource) else 1


def check_jobs(jobs: int) -> None:
    """Refuse a --jobs this machine cannot pin, before any run; the message names the flag."""
    try:
        core_slots(jobs)
    except UsageError as exc:
        fewer = f"; use --jobs {len(usable_cores())} or fewer" if jobs > 1 else ""
        raise UsageError(f"--jobs {jobs}: {exc}{fewer}") from None


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
    """Configure logging for the whole command; a SIGTERM exits as Ctrl-C does, cleaning up."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # unwinds the command's context: warm slots are destroyed


def problem_listing(spec: ProblemSpec) -> dict[str, Any]:
    """One problem as `judge list --json` prints it (the issue's contract)."""
    listing: dict[str, Any] = {
        "slug": spec.id,
        "section": spec.section,
        "kind": spec.kind,
        "max_points": spec.max_points,
        "parts": [{"id": part.id, "points": part.points} for part in spec.scored_parts],
    }
    if (items := get_kind(spec.kind).item_count(spec)) is not None:
        listing["items"] = items
    return listing


@app.command("list")
def list_problems(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON list.")] = False,
) -> None:
    """List the problems in the bank."""
    bank = current_bank()
    table = Table("slug", "section", "kind", "points", "parts", "difficulty", "title")
    listed = []
    try:
        for problem in bank.problems():
            spec = problem.spec
            listed.append(problem_listing(spec))
            section = f"{spec.section}. {SECTIONS[spec.section]}"
            parts = " + ".join(f"{part.points:g}" for part in spec.scored_parts) or "-"
            table.add_row(
                spec.id,
                section,
                spec.kind,
                f"{spec.max_points:g}",
                parts,
                spec.difficulty,
                spec.title,
            )
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if as_json:
        typer.echo(json.dumps(listed, indent=2))
    else:
        console.print(table)


@app.command()
def show(slug: str) -> None:
    """Show a problem's statement and limits."""
    try:
        problem = current_bank().problem(slug)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    spec = problem.spec
    try:  # a quiz's items are drawn as `judge run` checks them; samples come with answers
        text = get_kind(spec.kind).statement(problem, current_bank(), current_secret(), None)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(Markdown(text))
    if spec.runs:
        limits = spec.limits
        facts = f"{limits.wall_s:g} s · {limits.memory_mb} MiB · {limits.cpus} cpu"
    else:
        facts = f"{spec.max_points:g} points · hand in {problem.starter.name}"
    console.print(f"\n[dim]{spec.kind} · section {spec.section} · {facts}[/]")


@app.command()
def schema() -> None:
    """Print the JSON Schema of spec.yaml, for editors."""
    typer.echo(spec_json_schema())


@app.command()
def fetch(slug: str, dest: Path) -> None:
    """Write a problem's statement, starter, public facts and practice data into DEST.

    Never writes reference solutions or the hidden split.
    """
    bank = current_bank()
    try:
        problem = bank.problem(slug)
        fetch_problem(problem, bank, current_secret(), dest)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if problem.spec.runs:
        wrote = f"{problem.starter.name}, problem.json, data/ (practice data and its answers)"
        after = f"score a file there: judge check {slug} FILE --folder {dest}"
    else:
        wrote = f"{problem.starter.name} (fill it in), problem.json; your items are in statement.md"
        after = f"check your answers: judge run {slug} {dest / problem.starter.name}"
    console.print(f"wrote {slug} to {dest}: statement.md, {wrote}\n{after}", highlight=False)


def hint_log() -> HintLog:
    """The hint log: JUDGE_HINT_LOG, else hints.json in the user's state folder."""
    if named := os.environ.get("JUDGE_HINT_LOG"):
        return HintLog(Path(named))
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return HintLog(state / "olympiad-judge" / "hints.json")


@app.command()
def hint(
    slug: str,
    again: Annotated[
        bool, typer.Option("--again", help="Show the hints revealed so far; reveal none.")
    ] = False,
) -> None:
    """Reveal the next hint of a problem (practice); the hint log remembers it."""
    log = hint_log()
    try:
        problem = current_bank().problem(slug)
        shown = log.shown(problem) if again else [log.reveal_next(problem)]
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if shown == [None]:
        console.print(
            f"every hint of {slug} is revealed: `judge hint {slug} --again` shows them, "
            f"`judge editorial {slug}` explains the solution",
            highlight=False,
        )
        return
    if not shown:
        console.print(f"no hint of {slug} revealed yet: `judge hint {slug}` reveals one")
    for item in shown:
        assert item is not None
        console.print(f"[bold]Hint {item.number} of {item.total}[/]")
        console.print(Markdown(item.text))


@app.command()
def editorial(slug: str) -> None:
    """Show the setter's editorial of a problem: the bug, the fix and why (spoilers)."""
    try:
        text = read_editorial(current_bank().problem(slug))
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(Markdown(text))


@app.command("export-bundle")
def export_bundle_command(
    dest: Annotated[Path, typer.Argument(help="The zip file to write, e.g. bundle.zip.")],
    slugs: Annotated[list[str] | None, typer.Argument(help="Problems (default: all).")] = None,
) -> None:
    """Write a contestant bundle (zip): statements, starters, public data and a README.

    Never includes reference solutions or hidden data.
    """
    bank = current_bank()
    try:
        problems = [bank.problem(s) for s in slugs] if slugs else bank.problems()
        members = export_bundle(problems, bank, current_secret(), dest)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(f"wrote {dest}: {len(problems)} problem(s), {len(members)} entries")


@app.command()
def new(
    slug: str,
    kind: Annotated[
        str, typer.Option(help="train-predict or function.", show_default=True)
    ] = "train-predict",
) -> None:
    """Scaffold a problem, its reference folder and its recipe; fill in every TODO(setter)."""
    bank = current_bank()
    try:
        written = scaffold_problem(bank, slug, kind)  # type: ignore[arg-type]
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    for path in written:
        console.print(f"wrote {path.relative_to(bank.root)}", highlight=False)
    console.print(
        f"next: fill in every TODO(setter) marker, then run `judge validate {slug}` "
        "until it passes",
        highlight=False,
    )


@app.command()
def calibrate(
    ctx: typer.Context,
    slug: str,
    runs: Annotated[int, typer.Option(min=1, max=50, help="Reference runs (secret draws).")] = 5,
    jobs: Annotated[int, typer.Option(min=1, help="Runs at a time, each on its own cores.")] = 1,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the reference several times on this machine and propose time and memory limits."""
    bank = current_bank()
    try:
        problem = bank.problem(slug)
        choice = opened(ctx, sandbox)  # cold: proposed limits must hold for a cold start
        warn_if_not_isolated(choice.sandbox)
        secret = current_secret()
        with Progress(console=errors, transient=True) as progress:
            task = progress.add_task(f"{slug}: reference", total=runs)

            def advance(done: int, total: int, label: str) -> None:
                progress.update(task, completed=done, total=total, description=label)

            found = calibrate_problem(problem, bank, choice.sandbox, secret, runs, jobs, advance)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if as_json:
        typer.echo(json.dumps(found.to_dict()))
        return
    table = Table("draw", "verdict", "metric", "wall s", "peak MiB")
    for record in found.runs:
        table.add_row(
            str(record.draw),
            str(record.verdict),
            _number(record.metric, 4),
            f"{record.wall_s:.2f}",
            f"{record.peak_mb:.0f}",
        )
    console.print(f"{slug}: the reference on {choice.sandbox.name}, {runs} secret draw(s)")
    console.print(table)
    slowest = max(r.wall_s for r in found.runs)
    peak = max(r.peak_mb for r in found.runs)
    console.print(
        f"proposed limits:\n"
        f"  wall_s: {found.wall_s:g}     (slowest {slowest:.2f} s x {TIME_MULTIPLIER:g}, "
        f"rounded up; now {found.current_wall_s:g})\n"
        f"  memory_mb: {found.memory_mb}  (peak {peak:.0f} MiB x {MEMORY_MULTIPLIER:g}, "
        f"rounded up; now {found.current_memory_mb})",
        highlight=False,
    )


NO_POOL_HELP = "Start every run in a fresh sandbox, without the warm pool (docker, bwrap)."


def opened(ctx: typer.Context, name: str, image: str | None = None, pool: bool = False) -> Choice:
    """Open the backend the options name, closed when the command's context ends.

    pool: put a warm pool in front of docker or bwrap (for commands that judge many
    runs; a single run would only wait for it).
    """
    choice = open_sandbox(name, image or os.environ.get("JUDGE_SANDBOX_IMAGE"), warm=pool)
    # Closed when the command's context ends: on return, on an error, on Ctrl-C and on
    # SIGTERM (raised as SystemExit), so a warm pool's slots never outlive the command.
    ctx.with_resource(closing(choice.sandbox))
    return choice


NOT_RUN_REASON = "nothing: the answers are checked, not run"


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
    value, public = result.metric.value, result.public_metric
    shown = "-" if value is None else f"{value:.4f} private (final)"
    if public is not None:
        shown += f", {public:.4f} public"
    table.add_row(result.metric.name, shown)
    score = f"{result.score:g} / {result.max_score:g} private (final)"
    if result.public_score is not None and public is not None:
        score += f", {result.public_score:g} public"
    table.add_row("score", score)
    if result.sandbox == NOT_RUN:  # a quiz: no time, memory or sandbox to show
        table.add_row("ran", NOT_RUN_REASON)
    else:
        table.add_row("time", f"{result.wall_s:.2f} s wall, {result.cpu_s:.2f} s cpu")
        table.add_row("memory", f"{result.peak_mb:.0f} MiB peak")
        table.add_row("sandbox", f"{result.sandbox} ({reason})")
    console.print(table)
    message = result.message
    if result.parts:
        parts = Table("part", "title", "points", "public", "", box=None)
        for part in result.parts:
            tint = "green" if part.full else "yellow"
            parts.add_row(
                part.id,
                part.title,
                f"[{tint}]{part.points:g} / {part.max_points:g}[/]",
                f"{part.public_points:g}",
                escape(printable(part.message, keep_newlines=False)),
            )
        console.print(parts)
        message = message.splitlines()[0]  # the rest names the parts the table shows
    notes = [str(note) for note in result.details.get("notes", [])]
    if notes:  # the message ends with them: print them once, below
        message = message.split("\n" + notes[0])[0]
    console.print(printable(message), highlight=False, markup=False)
    for part in result.parts:
        if part.explanation and not part.full:
            console.print(
                f"[bold]{escape(part.id)}[/]: {escape(printable(part.explanation))}",
                highlight=False,
            )
    for note in notes:
        console.print(printable(note), highlight=False, markup=False)
    for flag in result.details.get("flags", []):
        errors.print(f"[yellow]flag:[/] {escape(printable(str(flag)))}", highlight=False)


@app.command()
def run(
    ctx: typer.Context,
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
        problem = bank.problem(slug)
        if problem.spec.runs:
            choice = opened(ctx, sandbox, image)  # one run: a warm pool would only wait
            if not as_json:
                errors.print(f"[dim]sandbox: {choice.sandbox.name} ({choice.reason})[/]")
            warn_if_not_isolated(choice.sandbox)
        else:  # a quiz: the answers are checked, never run, so no sandbox is opened
            choice = Choice(ProcessSandbox(), NOT_RUN_REASON)
        secret = current_secret()
        with errors.status(f"judging {file.name} on {slug} in {choice.sandbox.name}..."):
            outcome = Judge(bank, choice.sandbox, secret).judge(problem, file)
            result = as_result(outcome, problem)
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
def check(
    ctx: typer.Context,
    slug: str,
    file: Path,
    folder: Annotated[
        Path | None,
        typer.Option(help="A practice folder from judge fetch (default: a fresh practice draw)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score FILE on SLUG's practice data: the verdict and points it would get there.

    Runs on this machine without a sandbox (it is your own file), on the practice
    folder's data and against its answers, never on the hidden split.
    """
    bank = current_bank()
    try:
        problem = bank.problem(slug)
        if not problem.spec.runs:
            raise UsageError(f"{slug} is a quiz: `judge run {slug} FILE` checks its answers")
        sandbox = ProcessSandbox()
        ctx.with_resource(closing(sandbox))
        secret = current_secret()
        with tempfile.TemporaryDirectory(prefix="judge-check-") as tmp:
            if folder is None:
                folder = Path(tmp) / slug
                fetch_problem(problem, bank, secret, folder)
            practice = folder / "data" if (folder / "data").is_dir() else folder
            with errors.status(f"checking {file.name} on {slug}'s practice data..."):
                outcome = Judge(bank, sandbox, secret).judge(problem, file, practice=practice)
                result = as_result(outcome, problem)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    where = f"practice data in {folder}" if folder.exists() else "a fresh practice draw"
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "practice": True}))
    else:
        console.print(
            f"[bold]PRACTICE[/] check on {escape(where)}, not the hidden split: "
            "the judged score comes from another draw.",
            highlight=False,
        )
        print_result(result, "your machine, no sandbox: a practice check of your own file")


def demo_submissions(problem: Problem, secret: Secret, folder: Path) -> list[LabelledSubmission]:
    """A problem's labelled submissions; for a quiz, also its answer key for this secret's
    shared draw (written into `folder`), which must be accepted."""
    found = labelled_submissions(problem)
    if problem.spec.kind == "quiz":
        from judge.kinds.quiz import answer_key

        path = folder / f"{problem.id}.yaml"
        path.write_text(answer_key(problem, secret), encoding="utf-8")
        found.append(LabelledSubmission(path, Verdict.AC, "answer key (this draw)"))
    return found


@app.command()
def demo(
    ctx: typer.Context,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    jobs: Annotated[int, typer.Option(min=1, help="Runs at a time, each on its own cores.")] = 1,
    slugs: Annotated[list[str] | None, typer.Argument(help="Problems (default: all).")] = None,
    no_pool: Annotated[bool, typer.Option("--no-pool", help=NO_POOL_HELP)] = False,
) -> None:
    """Judge every problem's starter and labelled reference submissions; print a verdict table."""
    bank = current_bank()
    try:
        check_jobs(jobs)
        choice = opened(ctx, sandbox, pool=not no_pool)
        problems = [bank.problem(s) for s in slugs] if slugs else bank.problems()
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(f"sandbox: [bold]{choice.sandbox.name}[/] ({choice.reason})", highlight=False)
    warn_if_not_isolated(choice.sandbox)
    secret = current_secret()
    keys = Path(tempfile.mkdtemp(prefix="judge-demo-"))
    ctx.call_on_close(lambda: shutil.rmtree(keys, ignore_errors=True))
    items = [(p, s) for p in problems for s in demo_submissions(p, secret, keys)]

    judge = Judge(bank, choice.sandbox, secret)
    for problem in problems:  # expected answers before any run, not on a run's path
        try:
            judge.load(problem)
        except JudgeError as exc:
            fail(f"{problem.id}: {exc}", exit_code_for(exc))

    def judge_one(item: tuple[Problem, LabelledSubmission], cpuset: tuple[int, ...]) -> Result:
        problem, submission = item
        pinned = cores_for(cpuset, problem.spec.cpus)
        return as_result(judge.judge(problem, submission.path, cpuset=pinned), problem)

    results: dict[tuple[str, str], Result] = {}
    with Progress(console=errors, transient=True) as progress:
        task = progress.add_task("judging", total=len(items))
        for (problem, item), outcome in run_pinned(judge_one, items, jobs):
            if isinstance(outcome, JudgeError):
                fail(f"{problem.id} {item.label}: {outcome}", exit_code_for(outcome))
            if isinstance(outcome, BaseException):
                raise outcome
            results[(problem.id, item.label)] = outcome
            progress.update(task, advance=1, description=f"{problem.id}: {item.label}")
    table = Table("problem", "submission", "expected", "verdict", "metric", "score", "wall s")
    mismatches = 0
    for problem, item in items:
        result = results[(problem.id, item.label)]
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
    console.print(table)
    if mismatches:
        fail(f"{mismatches} submission(s) did not get their expected verdict", 1)
    console.print(f"all {len(items)} submissions got their expected verdicts")


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_validation(report: BankReport) -> None:
    """Show validation's findings, then one summary row per problem."""
    for finding in report.findings:
        colour = "red" if finding.severity is Severity.ERROR else "yellow"
        console.print(
            f"[{colour}]{finding.severity}[/] (bank) {finding.check}: {finding.message}",
            highlight=False,
            soft_wrap=True,
        )
    table = Table("problem", "runs", "metric", "pass", "ref worst (margin)")
    table.add_column("starter best (margin)")
    table.add_column("ref wall / limit s")
    table.add_column("peak / limit MiB")
    table.add_column("errors")
    table.add_column("warnings")
    table.columns[0].no_wrap = True
    for problem in report.problems:
        for finding in problem.findings:
            colour = "red" if finding.severity is Severity.ERROR else "yellow"
            console.print(
                f"[{colour}]{finding.severity}[/] {problem.slug} {finding.check}: "
                f"{escape(printable(finding.message))}",
                highlight=False,
                soft_wrap=True,
            )
        table.add_row(*_summary_row(problem))
    console.print(table)
    verdict = "[green]passed[/]" if report.ok else "[red]failed[/]"
    console.print(
        f"validation {verdict}: {len(report.problems)} problem(s), {report.errors} error(s), "
        f"{report.warnings} warning(s) in {report.seconds:.0f} s"
    )


def _summary_row(problem: ProblemReport) -> list[str]:
    colour = "green" if problem.ok else "red"
    return [
        f"[{colour}]{problem.slug}[/]",
        str(len(problem.runs)),
        problem.metric or "-",
        "-" if problem.threshold is None else f"{problem.threshold:g}",
        f"{_number(problem.reference_worst)} ({_number(problem.reference_margin)})",
        f"{_number(problem.starter_best)} ({_number(problem.starter_margin)})",
        f"{_number(problem.reference_wall_max_s, 1)} / {_number(problem.wall_limit_s, 0)}",
        f"{_number(problem.reference_peak_mb, 0)} / {problem.memory_limit_mb or '-'}",
        str(problem.errors),
        str(problem.warnings),
    ]


@app.command()
def validate(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Problems (default: all).")] = None,
    draws: Annotated[int, typer.Option(min=1, max=50, help="Secret draws for calibration.")] = 5,
    jobs: Annotated[int, typer.Option(min=1, help="Runs at a time, each on its own cores.")] = 1,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    audit: Annotated[
        bool, typer.Option(help="Scan the sandbox's readable files for hidden rows.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_pool: Annotated[bool, typer.Option("--no-pool", help=NO_POOL_HELP)] = False,
) -> None:
    """Check problems before contestants see them: files, verdicts, calibration, limits, leaks.

    Exits 0 only when every problem passes (warnings allowed).
    """
    bank = current_bank()
    try:
        choice = opened(ctx, sandbox, pool=not no_pool)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if not as_json:
        errors.print(f"[dim]sandbox: {choice.sandbox.name} ({choice.reason})[/]")
    warn_if_not_isolated(choice.sandbox)
    secret = current_secret()
    options = ValidateOptions(draws=draws, jobs=jobs, audit_sandbox=audit)
    with Progress(console=errors, transient=True) as progress:
        task = progress.add_task("checking files and data", total=None)

        def advance(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=label)

        try:
            report = validate_bank(bank, slugs, choice.sandbox, secret, options, advance)
        except JudgeError as exc:
            fail(str(exc), exit_code_for(exc))
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        print_validation(report)
    if not report.ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------
# Mock rounds

round_app = typer.Typer(
    help="Mock rounds: judge a folder of contestants' files, publish the scoreboard.",
    no_args_is_help=True,
)
app.add_typer(round_app, name="round")

ROUND_HELP = "A round file (rounds/NAME.yaml) or the NAME of one in the bank's rounds/."
RESULTS_HELP = "Where verdicts and scoreboards go (default: results/<round name>)."


def _open_round(bank: Bank, name: str) -> Round:
    return load_round(bank, round_path(bank, name))


def _results(round_: Round, results: Path | None) -> JsonlStore:
    return JsonlStore(results if results is not None else Path("results") / round_.name)


def _opened_sandbox(ctx: typer.Context, name: str, pool: bool) -> Sandbox:
    """Open a backend for a batch, say which one, and warn when it isolates nothing."""
    choice = opened(ctx, name, pool=pool)
    errors.print(f"[dim]sandbox: {choice.sandbox.name} ({choice.reason})[/]")
    warn_if_not_isolated(choice.sandbox)
    return choice.sandbox


def _publish(round_: Round, store: JsonlStore) -> tuple[Standings, tuple[Path, Path]]:
    """Rebuild the scoreboards from the stored verdicts and write them beside the verdicts."""
    manifest = store.read_manifest()
    records = store.load()
    private, public = boards(round_, manifest, records)
    published = publish(round_, private, public, list(records.values()), manifest)
    shown = private if round_.spec.leaderboard.publish_private else public
    return shown, _write_scoreboards(store.folder, published)


def _write_scoreboards(folder: Path, published: Published) -> tuple[Path, Path]:
    """Write scoreboard.csv and scoreboard.html into `folder`, each replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / SCOREBOARD_CSV, folder / SCOREBOARD_HTML)
    for path, text in zip(paths, (published.csv, published.html), strict=True):
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    return paths


def _print_standings(round_: Round, standings: Standings, limit: int = 20) -> None:
    table = Table("#", "contestant", *round_.slugs, "total", title=f"{standings.board} board")
    for row in standings.rows[:limit]:
        cells = [f"{row.cells[s].points:.0f} {row.cells[s].verdict}" for s in round_.slugs]
        table.add_row(str(row.rank), row.contestant, *cells, f"{row.total:.1f}")
    console.print(table)
    if len(standings.rows) > limit:
        console.print(f"... and {len(standings.rows) - limit} more in the scoreboard")


@round_app.command("check")
def round_check(
    round_name: Annotated[str, typer.Argument(metavar="ROUND", help=ROUND_HELP)],
) -> None:
    """Check a round file: fields, problems and points."""
    bank = current_bank()
    try:
        round_ = _open_round(bank, round_name)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    spec = round_.spec
    console.print(
        f"{round_.path}: {spec.title}, {len(spec.problems)} problems, "
        f"{sum(p.points for p in spec.problems):g} points, {spec.duration_minutes} minutes, "
        f"the {spec.counts} file counts",
        highlight=False,
    )


@round_app.command("judge")
def round_judge(
    ctx: typer.Context,
    round_name: Annotated[str, typer.Argument(metavar="ROUND", help=ROUND_HELP)],
    submissions: Annotated[
        Path, typer.Option(help="DIR/<contestant>/<slug>[.<stamp>].py or .ipynb")
    ],
    results: Annotated[Path | None, typer.Option(help=RESULTS_HELP)] = None,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    jobs: Annotated[int, typer.Option(min=1, help="Runs at a time, each on its own cores.")] = 1,
    no_pool: Annotated[bool, typer.Option("--no-pool", help=NO_POOL_HELP)] = False,
) -> None:
    """Judge every contestant's files (resumable), then write the verdicts and scoreboards."""
    bank = current_bank()
    try:
        round_ = _open_round(bank, round_name)
        store = _results(round_, results)
        check_jobs(jobs)  # a --jobs this machine cannot pin is an error before any run
        chosen = _opened_sandbox(ctx, sandbox, pool=not no_pool)
        secret = current_secret()
        with Progress(console=errors, transient=True) as progress:
            task = progress.add_task(f"judging {round_.name}", total=None)

            def advance(done: int, total: int, label: str) -> None:
                progress.update(task, completed=done, total=total, description=label)

            found = discover(round_, submissions)
            summary = judge_round(round_, bank, found, store, chosen, secret, jobs, advance)
        standings, (csv_path, html_path) = _publish(round_, store)
    except KeyboardInterrupt:
        saved = len(JsonlStore(store.folder).load())
        fail(
            f"interrupted: {saved} verdict(s) are saved in {store.path}; run the same command "
            "again to judge the rest",
            130,
        )
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    for notice in summary.notices:
        shown = escape(printable(notice, keep_newlines=False))
        errors.print(f"[yellow]notice:[/] {shown}", highlight=False)
    mix = Counter(str(r.result.verdict) for r in summary.records.values())
    console.print(
        f"judged {summary.judged} file(s), {summary.already} already judged; "
        f"{len(summary.discovery.contestants)} contestant(s), "
        f"{len(summary.discovery.missing)} missing file(s); verdicts: "
        + (", ".join(f"{v} {n}" for v, n in mix.most_common()) or "none"),
        highlight=False,
    )
    _print_standings(round_, standings)
    console.print(f"wrote {store.path}, {csv_path} and {html_path}", highlight=False)


@round_app.command("report")
def round_report(
    round_name: Annotated[str, typer.Argument(metavar="ROUND", help=ROUND_HELP)],
    results: Annotated[Path | None, typer.Option(help=RESULTS_HELP)] = None,
) -> None:
    """Rebuild scoreboard.csv and scoreboard.html from the stored verdicts, judging nothing."""
    bank = current_bank()
    try:
        round_ = _open_round(bank, round_name)
        store = _results(round_, results)
        standings, (csv_path, html_path) = _publish(round_, store)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    if store.torn_lines:
        errors.print(
            f"[yellow]warning:[/] {store.torn_lines} unreadable line(s) in {store.path} skipped",
            highlight=False,
        )
    _print_standings(round_, standings)
    console.print(f"wrote {csv_path} and {html_path}", highlight=False)


@round_app.command("rejudge")
def round_rejudge(
    ctx: typer.Context,
    round_name: Annotated[str, typer.Argument(metavar="ROUND", help=ROUND_HELP)],
    problem: Annotated[str, typer.Option(help="The problem whose files are judged again.")],
    results: Annotated[Path | None, typer.Option(help=RESULTS_HELP)] = None,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    jobs: Annotated[int, typer.Option(min=1, help="Runs at a time, each on its own cores.")] = 1,
    no_pool: Annotated[bool, typer.Option("--no-pool", help=NO_POOL_HELP)] = False,
) -> None:
    """Judge one problem's files again (after a fix) and show whose rank changed."""
    bank = current_bank()
    try:
        round_ = _open_round(bank, round_name)
        store = _results(round_, results)
        manifest = store.read_manifest()  # fail before opening a sandbox when nothing was judged
        check_jobs(jobs)
        chosen = _opened_sandbox(ctx, sandbox, pool=not no_pool)
        secret = current_secret()
        with Progress(console=errors, transient=True) as progress:
            task = progress.add_task(f"rejudging {problem}", total=None)

            def advance(done: int, total: int, label: str) -> None:
                progress.update(task, completed=done, total=total, description=label)

            found = discover(round_, Path(manifest.submissions_dir))
            outcome = rejudge_problem(
                round_, problem, bank, found, store, chosen, secret, jobs, advance
            )
        standings, (csv_path, html_path) = _publish(round_, store)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    console.print(f"rejudged {outcome.judged} file(s) of {problem}", highlight=False)
    for board, changes in (("private", outcome.private), ("public", outcome.public)):
        if not changes:
            console.print(f"{board} board: no rank changed")
            continue
        table = Table("contestant", "rank before", "rank after", title=f"{board} board")
        for change in changes:
            table.add_row(change.contestant, str(change.before or "-"), str(change.after))
        console.print(table)
    _print_standings(round_, standings)
    console.print(f"wrote {csv_path} and {html_path}", highlight=False)


# ---- the live service (the `service` extra: FastAPI, SQLAlchemy, uvicorn, httpx) --------

DATA_HELP = "The service's folder: its database, its secret."
user_app = typer.Typer(help="Accounts of the live service.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _service_settings(data: Path, **overrides: object) -> Any:
    try:
        from judge.service.config import load_settings
    except ImportError as exc:
        fail(f"the service is not installed ({exc.name}): pip install 'olympiad-judge[service]'", 2)
    from pydantic import ValidationError

    bank = current_bank()
    try:
        return load_settings(data, {"bank_dir": bank.root, **overrides})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"service settings: {where + ': ' if where else ''}{first['msg']}", 2)


@app.command()
def serve(
    data: Annotated[Path, typer.Option(help=DATA_HELP)] = Path("service-data"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0, help="Judging processes (default: one per core; 0: see `judge worker`)."
        ),
    ] = None,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    no_pool: Annotated[bool, typer.Option("--no-pool", help=NO_POOL_HELP)] = False,
    web_processes: Annotated[
        int,
        typer.Option(min=1, max=64, help="Processes answering web requests (one socket)."),
    ] = 1,
) -> None:
    """Run the live judge: the web app and API, a reaper and the workers, until Ctrl-C."""
    settings = _service_settings(data, sandbox=sandbox, pool=not no_pool)
    from judge.service.server import Started
    from judge.service.server import serve as run_service

    def announce(started: Started) -> None:
        console.print(f"serving on {started.url}  (Ctrl-C stops)", highlight=False)
        if started.secret_created:
            console.print(f"wrote a new random secret to {started.secret_source}", highlight=False)
        if started.organiser is not None:
            console.print(
                f"first organiser: {started.organiser.name} / password "
                f"{started.organiser.password} / API token {started.organiser.token}",
                highlight=False,
            )

    try:
        run_service(settings, host, port, _worker_count(workers), announce, web_processes)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))


def _worker_count(workers: int | None) -> int:
    return len(usable_cores()) if workers is None else workers


@app.command()
def worker(
    data: Annotated[Path, typer.Option(help=DATA_HELP)] = Path("service-data"),
    workers: Annotated[
        int | None, typer.Option(min=1, help="Judging processes (default: one per core).")
    ] = None,
    sandbox: Annotated[str, typer.Option(help=f"Sandbox backend: {', '.join(CHOICES)}.")] = "auto",
    no_pool: Annotated[bool, typer.Option("--no-pool", help=NO_POOL_HELP)] = False,
    pid_dir: Annotated[
        Path | None,
        typer.Option(help="Celery workers write worker-N.pid here: the task-running pid."),
    ] = None,
    resources: Annotated[
        str | None,
        typer.Option(help="What the workers offer, comma separated: cpu, gpu (default cpu)."),
    ] = None,
) -> None:
    """Run only the service's workers, beside a `judge serve --workers 0`, until Ctrl-C.

    The web process can then be restarted while the workers go on judging. With
    JUDGE_DISPATCH=celery they are Celery workers on JUDGE_BROKER_URL, one per slot.
    """
    offered = tuple(part.strip() for part in resources.split(",")) if resources else None
    settings = _service_settings(
        data, sandbox=sandbox, pool=not no_pool, pid_dir=pid_dir, resources=offered
    )
    from judge.service.server import work

    try:
        work(settings, _worker_count(workers), lambda line: console.print(line, highlight=False))
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name: a-z, 0-9, '_', '.', '-'.")],
    data: Annotated[Path, typer.Option(help=DATA_HELP)] = Path("service-data"),
    organiser: Annotated[bool, typer.Option("--organiser", help="Run rounds, see all.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Add a user (works while the service runs); prints the password and API token once."""
    settings = _service_settings(data)
    from judge.service.accounts import add_user
    from judge.service.db import make_engine, session_factory
    from judge.service.migrate import upgrade
    from judge.service.models import Role

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.url())
    engine = make_engine(settings.url())
    try:
        with session_factory(engine)() as session:
            made = add_user(session, name, Role.ORGANISER if organiser else Role.CONTESTANT)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps({"name": made.name, "password": made.password, "token": made.token}))
    else:
        console.print(f"{made.role} {made.name}: password {made.password}, API token {made.token}")


@user_app.command("import")
def user_import(
    csv_file: Annotated[
        Path, typer.Argument(help="One name per row; optional 2nd column: organiser.")
    ],
    data: Annotated[Path, typer.Option(help=DATA_HELP)] = Path("service-data"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON list.")] = False,
) -> None:
    """Add every user a CSV lists (all or none); prints each password and token once."""
    settings = _service_settings(data)
    from judge.service.accounts import import_users
    from judge.service.db import make_engine, session_factory
    from judge.service.migrate import upgrade

    try:
        text = csv_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{csv_file}: cannot read it ({exc})", 2)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.url())
    engine = make_engine(settings.url())
    try:
        with session_factory(engine)() as session:
            made = import_users(session, text)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(
            json.dumps([{"name": m.name, "password": m.password, "token": m.token} for m in made])
        )
        return
    table = Table("name", "role", "password", "API token")
    for m in made:
        table.add_row(m.name, str(m.role), m.password, m.token)
    console.print(table)


ServerOption = Annotated[
    str, typer.Option(help="The service's address, e.g. http://127.0.0.1:8000.")
]
TokenOption = Annotated[str | None, typer.Option(help="Your API token (default: $JUDGE_TOKEN).")]
WaitOption = Annotated[bool, typer.Option("--wait", help="Follow the run until the verdict.")]
WaitSecondsOption = Annotated[float, typer.Option("--wait-s", help="Give up waiting after this.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _client(server: str, token: str | None) -> Any:
    try:
        from judge.service.client import Client
    except ImportError as exc:
        fail(f"the client is not installed ({exc.name}): pip install 'olympiad-judge[service]'", 2)
    return Client(server, token or os.environ.get("JUDGE_TOKEN", ""))


def _follow(client: Any, submission_id: int, wait_s: float) -> dict[str, Any]:
    """Wait for the verdict, with a spinner on a terminal."""
    with console.status("queued", spinner="dots") as status:

        def progress(found: dict[str, Any]) -> None:
            place = found.get("queue_place")
            state = "judging" if found["state"] == "running" else found["state"]
            where = f", place {place} in the queue" if place else ""
            status.update(f"submission {submission_id}: {state}{where}")

        found: dict[str, Any] = client.wait(submission_id, wait_s, progress)
        return found


def _show_submission(found: dict[str, Any], as_json: bool) -> None:
    if found.get("result") is not None:
        result = Result.from_dict(found["result"])
        if as_json:
            typer.echo(json.dumps(result.to_dict()))
        else:
            print_result(result, "judged by the service")
        return
    if as_json:
        typer.echo(json.dumps(found))
        return
    line = f"submission {found['id']} ({found['problem']}): {found['state']}"
    console.print(line + (f" - {found['error']}" if found.get("error") else ""), highlight=False)


@app.command()
def submit(
    problem: Annotated[str, typer.Argument(help="The problem's slug.")],
    file: Annotated[Path, typer.Argument(help="Your .py file or .ipynb notebook.")],
    server: ServerOption = "http://127.0.0.1:8000",
    token: TokenOption = None,
    wait: WaitOption = False,
    wait_s: WaitSecondsOption = 600,
    as_json: JsonOption = False,
) -> None:
    """Submit a file to the live service (practice outside a round)."""
    try:
        client = _client(server, token)
        made = client.submit(problem, file)
        if not wait:
            _show_submission(made, as_json)
            return
        _show_submission(_follow(client, made["id"], wait_s), as_json)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))


@app.command()
def status(
    submission_id: Annotated[int | None, typer.Argument(help="Default: your latest.")] = None,
    server: ServerOption = "http://127.0.0.1:8000",
    token: TokenOption = None,
    wait: WaitOption = False,
    wait_s: WaitSecondsOption = 600,
    as_json: JsonOption = False,
) -> None:
    """Show a submission's state, or its verdict once judged."""
    try:
        client = _client(server, token)
        found = client.submission(submission_id) if submission_id else client.latest()
        if wait:
            found = _follow(client, found["id"], wait_s)
        _show_submission(found, as_json)
    except JudgeError as exc:
        fail(str(exc), exit_code_for(exc))
