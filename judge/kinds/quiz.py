"""The quiz kind: short-answer and multiple-choice items, drawn per contestant, no code run.

A quiz's spec lists its items under `quiz:` (QuizSection). An item is single choice,
multiple choice (all right options and no wrong one), integer, number (within a
stated tolerance), shape (a list of ints) or text (one word of a stated set). Its
prompt and options may use `{param}` fields, drawn per contestant from the secret
(and per item, so adding an item changes no other draw); the statement a contestant
reads is rendered with their own values (`statement`).

The right answers come from the setter's trusted `reference/<slug>/answers.py`: one
function per item, named after the item id with `-` as `_`, taking the item's drawn
params (a dict) and returning the answer; its docstring, formatted with the params,
is the explanation shown in practice once the file is judged. A `check_<name>`
function beside it recomputes the answer another way (with real torch layers) for
`judge validate`.

Contestants hand in a small YAML or JSON mapping of item id to answer. Nothing of it
runs: the judge writes it to the output folder (`HANDED_IN`), and the scorer process
parses it strictly (a size cap, no YAML aliases, duplicate ids caught) and checks
each item apart: an unknown id, a wrong type, a number written as text or an id given
twice costs that item only, with a message naming it. Every item is a part of its
own unless the spec groups items into parts.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import yaml

from judge.bank import Bank
from judge.data import Secret, derive_seed
from judge.errors import InvalidOutput, InvalidSource, SpecError
from judge.kinds import (
    HANDED_IN,
    DataCheck,
    Memo,
    Note,
    Staged,
    import_setter_module,
    register,
)
from judge.outputs import read_untrusted_file
from judge.scoring import PartMeasure, Scores
from judge.spec import QUIZ, Problem, ProblemSpec, QuizItem, quiz_items

ANSWERS_MAX_BYTES = 64 * 1024
ANSWER_MODULE = "answers.py"
HOW_TO_ANSWER = {
    "single": "one option key, e.g. b",
    "multiple": "a list of every right option key, e.g. [a, c]",
    "integer": "an integer",
    "number": "a number",
    "shape": "a list of ints, e.g. [32, 10]",
    "text": "one of the listed words",
}


# -- drawing, answers and statements (in the judge) ------------------------------------


def draw_params(
    spec: ProblemSpec, item: QuizItem, secret: Secret, contestant: str | None
) -> dict[str, Any]:
    """The item's params for `contestant` (None: the shared draw `judge run` and fetch use)."""
    rng = np.random.default_rng(derive_seed(secret, spec.id, f"quiz:{item.id}", contestant))
    drawn: dict[str, Any] = {}
    for name, param in sorted(item.params.items()):
        if param.choices is not None:
            drawn[name] = param.choices[int(rng.integers(len(param.choices)))]
        else:
            assert param.low is not None and param.high is not None
            drawn[name] = int(rng.integers(param.low, param.high, endpoint=True))
    return drawn


def load_answers(problem: Problem) -> ModuleType:
    """Import the setter's reference/<slug>/answers.py by path; SpecError if it is missing."""
    path = problem.reference_folder / ANSWER_MODULE
    return import_setter_module(path, f"_judge_answers_{problem.id}", "the quiz's answer functions")


def right_answer(item: QuizItem, module: ModuleType, params: dict[str, Any]) -> Any:
    """Call the item's answer function; SpecError names the item when it fails or misfits."""
    where = f"{module.__file__}: {item.function}({params})"
    function = getattr(module, item.function, None)
    if not callable(function):
        raise SpecError(f"{module.__file__}: no answer function {item.function}() for {item.id}")
    try:
        answer = function(dict(params))
    except Exception as exc:
        raise SpecError(f"{where} raised {type(exc).__name__}: {exc}") from exc
    problem = _answer_misfit(item, answer)
    if problem:
        raise SpecError(f"{where} returned {answer!r}: {problem}")
    return answer


def _answer_misfit(item: QuizItem, answer: Any) -> str:
    """Why a setter's answer does not fit its item ("" when it does)."""
    if item.type == "single" and answer not in item.options:
        return "not one of the option keys"
    if item.type == "multiple" and (
        not isinstance(answer, list) or not answer or not set(answer) <= set(item.options)
    ):
        return "not a non-empty list of option keys"
    if item.type == "integer" and (isinstance(answer, bool) or not isinstance(answer, int)):
        return "not an int"
    if item.type == "number" and not _finite(answer):
        return "not a finite number"
    if item.type == "shape" and (
        not isinstance(answer, list)
        or any(isinstance(d, bool) or not isinstance(d, int) for d in answer)
    ):
        return "not a list of ints"
    if item.type == "text" and answer not in item.choices:
        return "not one of the item's choices"
    return ""


def explanation(item: QuizItem, module: ModuleType, params: dict[str, Any]) -> str:
    """The answer function's docstring with the params filled in ("" without one)."""
    doc = getattr(getattr(module, item.function, None), "__doc__", None) or ""
    text = " ".join(doc.split())
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError) as exc:
        raise SpecError(f"{module.__file__}: {item.function}'s docstring: bad field {exc}") from exc


def answer_key(problem: Problem, secret: Secret, contestant: str | None = None) -> str:
    """The right answers of `contestant`'s draw (None: the shared one) as an answers.yaml:
    the accepted hand-in `judge demo` shows, since a quiz's answers depend on the draw."""
    module = load_answers(problem)
    answers = {
        item.id: right_answer(item, module, draw_params(problem.spec, item, secret, contestant))
        for item in quiz_items(problem.spec)
    }
    return yaml.safe_dump(json.loads(json.dumps(answers)), sort_keys=False)


def render_items(spec: ProblemSpec, secret: Secret, contestant: str | None) -> str:
    """The items as Markdown, with `contestant`'s params, and how to hand the answers in."""
    lines = ["", "## Items", ""]
    for n, item in enumerate(quiz_items(spec), start=1):
        params = draw_params(spec, item, secret, contestant)
        lines.append(f"### {n}. `{item.id}` ({item.points:g} points, {item.type})")
        lines += ["", item.prompt.format(**params).strip(), ""]
        for key, text in sorted(item.options.items()):
            lines.append(f"- **{key}.** {text.format(**params)}")
        if item.choices:
            lines.append("One of: " + ", ".join(f"`{choice}`" for choice in item.choices))
        if item.tolerance is not None:
            tol = item.tolerance
            lines.append(
                f"Right within {tol.abs:g} (absolute) or {tol.rel:g} (relative) of the answer."
            )
        lines += [f"Answer: {HOW_TO_ANSWER[item.type]}.", ""]
    return "\n".join(lines)


def answer_template(spec: ProblemSpec) -> str:
    """The blank answers file: every item id with null, and how to answer it."""
    lines = [f"# Answers to {spec.id}: replace each null with your answer (YAML)."]
    for item in quiz_items(spec):
        lines.append(f"{item.id}: null  # {item.type}: {HOW_TO_ANSWER[item.type]}")
    return "\n".join(lines) + "\n"


# -- parsing and checking a hand-in (in the scorer process) -----------------------------


class _Duplicate:
    """Marks an item id given more than once."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases (no expansion bombs) and with duplicate ids caught."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise InvalidOutput(f"line {event.start_mark.line + 1}: YAML aliases are not allowed")
        return super().compose_node(parent, index)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        value = loader.construct_object(value_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise InvalidOutput(f"line {key_node.start_mark.line + 1}: a key must be an item id")
        mapping[key] = _Duplicate() if key in mapping else value
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        mapping[key] = _Duplicate() if key in mapping else value
    return mapping


def parse_answers(raw: bytes) -> dict[str, Any]:
    """Parse a hand-in: a JSON object or a YAML mapping; InvalidOutput when it is neither."""
    if len(raw) > ANSWERS_MAX_BYTES:
        raise InvalidOutput(
            f"the answers file is {len(raw)} bytes, over the {ANSWERS_MAX_BYTES} byte cap"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidOutput(f"the answers file is not UTF-8 text (byte {exc.start})") from None
    try:
        if text.lstrip().startswith("{"):
            parsed = json.loads(text, object_pairs_hook=_json_pairs)
        else:
            parsed = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader, stricter
    except InvalidOutput:
        raise
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InvalidOutput(f"the answers file is neither JSON nor YAML: {reason}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise InvalidOutput("the answers file must map each item id to its answer")
    return {str(key): value for key, value in parsed.items()}


def _finite(value: Any) -> bool:
    """A number a float can hold (an int of 400 digits is not), not NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_type(item: QuizItem, value: Any) -> str:
    """Why an answer cannot be an answer to `item` ("" when its type fits)."""
    if isinstance(value, str) and item.type in ("integer", "number"):
        try:
            float(value)
        except ValueError:
            return f"expected {HOW_TO_ANSWER[item.type]}, got text"
        return f"a number written as text ({value.strip()!r}); write it without quotes"
    if item.type == "single" and not isinstance(value, str):
        return f"expected {HOW_TO_ANSWER['single']}"
    if item.type == "multiple" and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return f"expected {HOW_TO_ANSWER['multiple']}"
    if item.type == "integer" and not _is_int(value):
        return f"expected an integer, got {value!r}"[:120]
    if item.type == "number" and not _finite(value):
        return f"expected a finite number, got {value!r}"[:120]
    if item.type == "shape" and not (isinstance(value, list) and all(map(_is_int, value))):
        return f"expected {HOW_TO_ANSWER['shape']}"
    if item.type == "text" and not isinstance(value, str):
        return "expected one of the listed words"
    return ""


def _unknown_option(item: QuizItem, value: Any) -> str:
    keys = [value] if item.type == "single" else value
    normal = [str(key).strip().lower() for key in keys]
    if unknown := [key for key in normal if key not in item.options]:
        return f"{unknown[0]!r} is not one of the options {', '.join(sorted(item.options))}"
    if len(set(normal)) != len(normal):
        return "an option is listed twice"
    return ""


def check_answer(item: QuizItem, value: Any, right: Any) -> tuple[bool, str]:
    """Whether `value` answers `item` right, and what to tell the contestant (never `right`)."""
    if isinstance(value, _Duplicate):
        return False, "given twice in the answers file"
    if value is None:
        return False, "not answered"
    if problem := _wrong_type(item, value):
        return False, problem
    if item.type in ("single", "multiple") and (problem := _unknown_option(item, value)):
        return False, problem
    if item.type == "single":
        ok = value.strip().lower() == right
    elif item.type == "multiple":
        ok = {v.strip().lower() for v in value} == set(right)
    elif item.type == "number":
        assert item.tolerance is not None
        bound = max(item.tolerance.abs, item.tolerance.rel * abs(right))
        ok = abs(float(value) - float(right)) <= bound
    elif item.type == "text":
        word = value.strip().lower()
        if word not in {choice.lower() for choice in item.choices}:
            return False, f"{value.strip()[:40]!r} is not one of the listed words"
        ok = word == right.lower()
    else:  # integer, shape
        ok = value == right
    return ok, "right" if ok else "wrong"


class Quiz:
    """Draw, check and hand out a quiz."""

    name = "quiz"
    rules = QUIZ

    def _truth(
        self, problem: Problem, secret: Secret, contestant: str | None, memo: Memo
    ) -> dict[str, Any]:
        """Every item's right answer and explanation for `contestant`'s draw, memoized."""

        def compute() -> dict[str, Any]:
            module = load_answers(problem)
            answers, explanations = {}, {}
            for item in quiz_items(problem.spec):
                params = draw_params(problem.spec, item, secret, contestant)
                answers[item.id] = right_answer(item, module, params)
                explanations[item.id] = explanation(item, module, params)
            return {"answers": answers, "explanations": explanations}

        path = problem.reference_folder / ANSWER_MODULE
        digest = hashlib.sha256(path.read_bytes() if path.is_file() else b"").hexdigest()
        key = f"quiz:{problem.id}:{contestant}:{digest}"
        truth: dict[str, Any] = memo(key, compute)
        return truth

    def stage(
        self,
        problem: Problem,
        bank: Bank,
        secret: Secret,
        contestant: str | None,
        code: Path,
        data: Path,
        memo: Memo,
    ) -> Staged:
        """Nothing runs: the truth is each item's right answer (the judge hands the file in)."""
        return Staged([], self._truth(problem, secret, contestant, memo), [])

    def score(
        self, spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
    ) -> Scores:
        """Check every item apart; a quiz has no hidden split, so public equals private."""
        raw = read_untrusted_file(output / HANDED_IN, ANSWERS_MAX_BYTES + 1)
        given = parse_answers(raw)
        items = quiz_items(spec)
        known = {item.id for item in items}
        unknown = sorted(key for key in given if key not in known)
        earned: dict[str, tuple[bool, str]] = {}
        for item in items:
            ok, message = check_answer(item, given.get(item.id), truth["answers"][item.id])
            earned[item.id] = (ok, message)
        parts = []
        for part in spec.scored_parts:
            right = [earned[item][0] for item in part.items]
            share = sum(right) / len(right)
            notes = [f"{item}: {earned[item][1]}" for item in part.items]
            message = notes[0].split(": ", 1)[1] if len(notes) == 1 else "; ".join(notes)
            explained = " ".join(truth["explanations"][item] for item in part.items).strip()
            parts.append(PartMeasure(part.id, share, share, message, message, "", explained))
        total = sum(item.points for item in items)
        points = sum(item.points for item in items if earned[item.id][0]) / total
        notes = [f"unknown item id {key[:40]!r} (not scored)" for key in unknown[:5]]
        return Scores(points, points, tuple(parts), notes=tuple(notes))

    def load(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None, memo: Memo
    ) -> None:
        """Compute the right answers of this draw once, before any hand-in."""
        self._truth(problem, secret, contestant, memo)

    def check_data(self, problem: Problem, bank: Bank, secret: Secret) -> DataCheck:
        """Every template draws valid params, and the answers agree with the setter's checks."""
        return DataCheck(check_quiz(problem, secret))

    def write_practice(self, problem: Problem, bank: Bank, secret: Secret, folder: Path) -> None:
        """No practice data: the items are in the statement, the template is the starter."""

    def stage_practice(self, problem: Problem, practice: Path, code: Path, data: Path) -> Staged:
        """A quiz has no hidden data: `judge run` is its practice check."""
        raise InvalidSource(f"{problem.id} is a quiz: judge run checks its answers directly")

    def item_count(self, spec: ProblemSpec) -> int | None:
        return len(quiz_items(spec))

    def statement(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None
    ) -> str:
        """The statement with the items rendered with `contestant`'s params."""
        text = problem.statement.read_text(encoding="utf-8").rstrip() + "\n"
        return text + render_items(problem.spec, secret, contestant)


QUIZ_DRAWS = 200  # draws per template item in `judge validate`
QUIZ_CHECKS = 20  # of which compared with the setter's check_<name>


def check_quiz(problem: Problem, secret: Secret) -> list[Note]:
    """Draw every template item many times: its answer function must work on each draw and
    agree with its check_<name> (a brute force, e.g. a real nn.Conv2d) where one exists."""
    try:
        module = load_answers(problem)
    except SpecError as exc:
        return [Note("error", "data", str(exc))]
    notes = []
    for item in quiz_items(problem.spec):
        check = getattr(module, f"check_{item.function}", None)
        draws = QUIZ_DRAWS if item.params else 1
        for n in range(draws):
            owner = None if n == 0 else f"validate-{n}"
            params = draw_params(problem.spec, item, secret, owner)
            try:
                answer = right_answer(item, module, params)
                explanation(item, module, params)
                item.prompt.format(**params)
                for text in item.options.values():
                    text.format(**params)
            except (SpecError, KeyError, IndexError, ValueError) as exc:
                notes.append(Note("error", "data", f"item {item.id}, draw {params}: {exc}"))
                break
            if callable(check) and n < QUIZ_CHECKS:
                try:
                    checked = check(dict(params))
                except Exception as exc:
                    message = f"item {item.id}: check_{item.function}({params}) raised {exc!r}"
                    notes.append(Note("error", "data", message))
                    break
                ok, _ = check_answer(item, checked, answer)
                if not ok:
                    message = (
                        f"item {item.id}: the answer {answer!r} and check_{item.function}'s "
                        f"{checked!r} disagree on {params}"
                    )
                    notes.append(Note("error", "data", message))
                    break
        if item.params and not callable(check) and item.type in ("integer", "number", "shape"):
            notes.append(
                Note("warning", "data", f"item {item.id}: no check_{item.function} confirms it")
            )
    return notes


KIND = register(Quiz())
