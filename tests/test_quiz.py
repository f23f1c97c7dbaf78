"""The quiz kind: every item type right, wrong and malformed; strict answer files; draws per
contestant; the bank's drills judged end to end; a broken template is the setter's error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from judge.bank import Bank
from judge.cli import app
from judge.data import Secret
from judge.errors import InvalidOutput, SpecError
from judge.kinds.quiz import (
    ANSWERS_MAX_BYTES,
    Quiz,
    answer_template,
    check_answer,
    draw_params,
    parse_answers,
)
from judge.rounds.judging import boards, judge_round
from judge.rounds.publish import publish
from judge.rounds.roundfile import load_round, round_path
from judge.rounds.submissions import discover
from judge.runner import Judge, as_result
from judge.sandbox.base import RunFacts
from judge.sandbox.fake import FakeSandbox
from judge.spec import QuizItem, load_spec, quiz_items
from judge.validate import ValidateOptions, validate_bank
from judge.verdicts import Result, Verdict
from tests.rounds.helpers import MemoryStore, hand_in

ROOT = Path(__file__).parent.parent
BANK = Bank(ROOT)
DRILLS = sorted(p.id for p in BANK.problems() if p.spec.kind == "quiz")
SECRET = Secret(b"quiz-tests", "test")
NEVER = RunFacts(1, None, 0.0, 0.0, 0.0, False, False, False)  # a quiz must never run


def item(**fields: Any) -> QuizItem:
    return QuizItem.model_validate({"id": "q", "points": 5, "prompt": "Which?", **fields})


SINGLE = item(type="single", options={"a": "one", "b": "two", "c": "three"})
MULTIPLE = item(type="multiple", options={"a": "one", "b": "two", "c": "three"})
INTEGER = item(type="integer")
NUMBER = item(type="number", tolerance={"abs": 0.01, "rel": 0.0})
RELATIVE = item(type="number", tolerance={"abs": 0.0, "rel": 0.001})
SHAPE = item(type="shape")
TEXT = item(type="text", choices=["sigmoid", "softmax", "identity"])


@pytest.mark.parametrize(
    ("quiz_item", "given", "right", "expected"),
    [
        (SINGLE, "b", "b", (True, "right")),
        (SINGLE, " B ", "b", (True, "right")),
        (SINGLE, "a", "b", (False, "wrong")),
        (SINGLE, "z", "b", (False, "'z' is not one of the options a, b, c")),
        (SINGLE, ["b"], "b", (False, "expected one option key, e.g. b")),
        (MULTIPLE, ["c", "a"], ["a", "c"], (True, "right")),
        (MULTIPLE, ["a"], ["a", "c"], (False, "wrong")),
        (MULTIPLE, ["a", "b", "c"], ["a", "c"], (False, "wrong")),
        (MULTIPLE, ["a", "a", "c"], ["a", "c"], (False, "an option is listed twice")),
        (
            MULTIPLE,
            "a, c",
            ["a", "c"],
            (False, "expected a list of every right option key, e.g. [a, c]"),
        ),
        (INTEGER, 7850, 7850, (True, "right")),
        (INTEGER, 7680, 7850, (False, "wrong")),
        (
            INTEGER,
            "7850",
            7850,
            (False, "a number written as text ('7850'); write it without quotes"),
        ),
        (INTEGER, 7850.0, 7850, (False, "expected an integer, got 7850.0")),
        (INTEGER, True, 1, (False, "expected an integer, got True")),
        (NUMBER, 0.693, 0.6931, (True, "right")),
        (NUMBER, 0.71, 0.6931, (False, "wrong")),
        (NUMBER, 1, 1.005, (True, "right")),
        (
            NUMBER,
            "0.69",
            0.6931,
            (False, "a number written as text ('0.69'); write it without quotes"),
        ),
        (NUMBER, float("nan"), 0.6931, (False, "expected a finite number, got nan")),
        (NUMBER, 10**400, 0.6931, (False, "expected a finite number, got " + repr(10**400)[:90])),
        (INTEGER, 10**400, 3, (False, "wrong")),
        (RELATIVE, 1000.9, 1000.0, (True, "right")),
        (RELATIVE, 1001.1, 1000.0, (False, "wrong")),
        (SHAPE, [32, 10], [32, 10], (True, "right")),
        (SHAPE, [10, 32], [32, 10], (False, "wrong")),
        (SHAPE, [32], [32, 10], (False, "wrong")),
        (SHAPE, "[32, 10]", [32, 10], (False, "expected a list of ints, e.g. [32, 10]")),
        (SHAPE, [32.0, 10], [32, 10], (False, "expected a list of ints, e.g. [32, 10]")),
        (TEXT, "Softmax", "softmax", (True, "right")),
        (TEXT, "sigmoid", "softmax", (False, "wrong")),
        (TEXT, "relu", "softmax", (False, "'relu' is not one of the listed words")),
        (TEXT, 3, "softmax", (False, "expected one of the listed words")),
        (INTEGER, None, 3, (False, "not answered")),
    ],
)
def test_every_item_type_is_right_wrong_or_malformed(
    quiz_item: QuizItem, given: Any, right: Any, expected: tuple[bool, str]
) -> None:
    assert check_answer(quiz_item, given, right) == expected


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"type": "single", "options": {"a": "x"}}, "at least two options"),
        ({"type": "single", "options": {"a": "x", "b": "x"}}, "two options read the same"),
        ({"type": "integer", "options": {"a": "x", "b": "y"}}, "options are for single"),
        ({"type": "number"}, "states its tolerance"),
        ({"type": "text"}, "lists its choices"),
        ({"type": "integer", "prompt": "Size {n}?"}, "{n} is not one of its params"),
        ({"type": "integer", "params": {"n": {"low": 3, "high": 1}}}, "low <= high"),
        ({"type": "integer", "params": {"n": {"low": 1, "choices": [1]}}}, "either"),
    ],
)
def test_a_malformed_item_is_a_spec_error(fields: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        item(**fields)


# -- the answers file --------------------------------------------------------------------


def test_yaml_and_json_answers_parse_to_the_same_mapping() -> None:
    text = "a: 1\nb: [2, 3]\nc: softmax\n"
    as_json = json.dumps({"a": 1, "b": [2, 3], "c": "softmax"}).encode()
    assert parse_answers(text.encode()) == parse_answers(as_json) == yaml.safe_load(text)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"x" * (ANSWERS_MAX_BYTES + 1), "over the 65536 byte cap"),
        (b"\xff\xfe", "not UTF-8"),
        (b"- 1\n- 2\n", "must map each item id"),
        (b"a: [1, 2\n", "neither JSON nor YAML"),
        (b'{"a": 1,', "neither JSON nor YAML"),
        (b"a: &x [1]\nb: *x\n", "aliases are not allowed"),
        (b"? [1, 2]\n: 3\n", "a key must be an item id"),
    ],
)
def test_a_broken_answers_file_is_invalid_output_saying_why(raw: bytes, error: str) -> None:
    with pytest.raises(InvalidOutput, match=error):
        parse_answers(raw)


def test_an_id_given_twice_costs_that_item_only() -> None:
    for raw in (b"a: 1\nb: 2\na: 1\n", b'{"a": 1, "b": 2, "a": 1}'):
        parsed = parse_answers(raw)
        assert check_answer(INTEGER, parsed["a"], 1) == (False, "given twice in the answers file")
        assert check_answer(INTEGER, parsed["b"], 2) == (True, "right")


def test_an_empty_answers_file_answers_nothing() -> None:
    assert parse_answers(b"") == {} and parse_answers(b"# nothing yet\n") == {}


# -- draws per contestant ----------------------------------------------------------------


def test_params_differ_between_contestants_and_stay_for_one() -> None:
    spec = BANK.problem("drill-6-cnns").spec
    conv = quiz_items(spec)[0]
    ana = [draw_params(spec, conv, SECRET, "ana") for _ in range(3)]
    assert ana[0] == ana[1] == ana[2]
    others = {json.dumps(draw_params(spec, conv, SECRET, f"c{n}")) for n in range(20)}
    assert len(others) > 15
    assert draw_params(spec, conv, Secret(b"other", "t"), "ana") != ana[0]


def test_a_contestants_statement_shows_their_own_numbers() -> None:
    problem = BANK.problem("drill-6-cnns")
    kind = Quiz()
    ana = kind.statement(problem, BANK, SECRET, "ana")
    bob = kind.statement(problem, BANK, SECRET, "bob")
    assert ana != bob and "### 1. `conv-output-shape` (5 points, shape)" in ana
    assert ana == kind.statement(problem, BANK, SECRET, "ana")


# -- the bank's drills, judged -----------------------------------------------------------


def right_answers(slug: str, contestant: str | None) -> dict[str, Any]:
    memo: dict[str, Any] = {}
    truth = Quiz()._truth(
        BANK.problem(slug), SECRET, contestant, lambda key, f: memo.setdefault(key, f())
    )
    answers: dict[str, Any] = truth["answers"]
    return answers


def judge_answers(slug: str, text: str, contestant: str | None) -> Result:
    judge = Judge(BANK, FakeSandbox(NEVER), SECRET)
    return as_result(judge.judge(BANK.problem(slug), text, contestant), BANK.problem(slug))


def test_the_bank_has_a_drill_per_section_with_forty_items_or_more() -> None:
    sections = {BANK.problem(slug).spec.section for slug in DRILLS}
    assert sections == set(range(1, 9))
    items = sum(len(quiz_items(BANK.problem(slug).spec)) for slug in DRILLS)
    assert items >= 40
    types = {i.type for slug in DRILLS for i in quiz_items(BANK.problem(slug).spec)}
    assert types == {"single", "multiple", "integer", "number", "shape", "text"}


@pytest.mark.parametrize("slug", DRILLS)
def test_each_drills_right_answers_are_accepted_for_each_contestant(slug: str) -> None:
    for contestant in ("ana", "bob"):
        text = yaml.safe_dump(right_answers(slug, contestant))
        result = judge_answers(slug, text, contestant)
        assert result.verdict is Verdict.AC, result.message
        assert result.score == result.max_score == BANK.problem(slug).spec.max_points
        assert result.sandbox == "none"


@pytest.mark.parametrize("slug", DRILLS)
def test_each_drills_blank_template_scores_nothing(slug: str) -> None:
    problem = BANK.problem(slug)
    assert problem.starter.read_text() == answer_template(problem.spec)
    result = judge_answers(slug, problem.starter.read_text(), "ana")
    assert result.verdict is Verdict.WA and result.score == 0.0
    assert {part.message for part in result.parts} == {"not answered"}


def test_anothers_answers_miss_the_items_drawn_for_you() -> None:
    slug = "drill-6-cnns"
    result = judge_answers(slug, yaml.safe_dump(right_answers(slug, "bob")), "ana")
    templated = {i.id for i in quiz_items(BANK.problem(slug).spec) if i.params}
    wrong = {part.id for part in result.parts if not part.full}
    assert wrong and wrong <= templated


def test_a_mixed_file_scores_the_good_items_and_names_the_bad_ones() -> None:
    slug = "drill-1-tensors-autograd"
    answers = right_answers(slug, "ana")
    answers["linear-param-count"] = str(answers["linear-param-count"])
    answers.pop("zero-grad-third-step")
    answers["no-such-item"] = 3
    result = judge_answers(slug, yaml.safe_dump(answers), "ana")
    by_id = {part.id: part for part in result.parts}
    assert by_id["linear-param-count"].points == 0.0
    assert "a number written as text" in by_id["linear-param-count"].message
    assert by_id["zero-grad-third-step"].message == "not answered"
    assert result.score == result.max_score - 10
    assert result.details["notes"] == ["unknown item id 'no-such-item' (not scored)"]
    assert "unknown item id 'no-such-item'" in result.message


def test_an_unreadable_answers_file_is_invalid_output_not_a_crash() -> None:
    result = judge_answers("drill-2-mlp", "a: &x [1]\nb: *x\n", "ana")
    assert result.verdict is Verdict.IO and "aliases are not allowed" in result.message


def test_explanations_come_with_the_result_for_practice() -> None:
    result = judge_answers("drill-6-cnns", "{}", "ana")
    assert all(part.explanation for part in result.parts)


def test_list_json_counts_a_quizs_items() -> None:
    out = CliRunner().invoke(app, ["list", "--json"], env={"JUDGE_BANK": str(ROOT)})
    assert out.exit_code == 0, out.output
    listed = {entry["slug"]: entry for entry in json.loads(out.stdout)}
    drill = listed["drill-6-cnns"]
    assert drill["kind"] == "quiz" and drill["items"] == 7
    assert [part["id"] for part in drill["parts"]][:2] == ["conv-output-shape", "conv-param-count"]
    assert drill["max_points"] == sum(part["points"] for part in drill["parts"])
    assert "items" not in listed["conv-geometry"]


# -- the setter's side -------------------------------------------------------------------


@pytest.fixture
def quiz_bank(tmp_path: Path) -> Bank:
    for folder in ("problems", "reference"):
        (tmp_path / folder).mkdir()
        shutil.copytree(ROOT / folder / "drill-6-cnns", tmp_path / folder / "drill-6-cnns")
    (tmp_path / "datasets").mkdir()
    return Bank(tmp_path)


def test_an_answer_function_that_fails_on_some_draw_is_a_validation_error(
    quiz_bank: Bank,
) -> None:
    answers = quiz_bank.reference_dir / "drill-6-cnns" / "answers.py"
    answers.write_text(
        answers.read_text() + "\n\n_old = conv_param_count\n\n"
        "def conv_param_count(p):\n"
        "    if p['k'] == 7:\n"
        "        raise ZeroDivisionError('a draw the setter forgot')\n"
        "    return _old(p)\n"
    )
    report = validate_bank(
        quiz_bank, None, FakeSandbox(NEVER), SECRET, ValidateOptions(draws=2, audit_sandbox=False)
    )
    errors = [f.message for f in report.problems[0].findings if f.severity.value == "error"]
    assert any("item conv-param-count" in e and "ZeroDivisionError" in e for e in errors), errors


def test_an_answer_that_disagrees_with_its_brute_force_check_is_a_validation_error(
    quiz_bank: Bank,
) -> None:
    answers = quiz_bank.reference_dir / "drill-6-cnns" / "answers.py"
    text = answers.read_text().replace(
        'return p["Cout"] * (p["Cin"] * p["k"] * p["k"] + 1)',
        'return p["Cout"] * p["Cin"] * p["k"] * p["k"]',  # forgets the bias
    )
    answers.write_text(text)
    report = validate_bank(
        quiz_bank, None, FakeSandbox(NEVER), SECRET, ValidateOptions(draws=2, audit_sandbox=False)
    )
    errors = [f.message for f in report.problems[0].findings if f.severity.value == "error"]
    assert any("check_conv_param_count" in e and "disagree" in e for e in errors), errors


def test_a_quiz_spec_takes_no_dataset_or_limits(tmp_path: Path) -> None:
    spec = (ROOT / "problems" / "drill-6-cnns" / "spec.yaml").read_text()
    path = tmp_path / "spec.yaml"
    path.write_text(spec + "limits: {wall_s: 10, memory_mb: 256}\n")
    with pytest.raises(SpecError, match="runs nothing and takes none"):
        load_spec(path)


# -- an offline round --------------------------------------------------------------------


def test_an_offline_round_judges_each_contestants_quiz_against_their_own_draw(
    tmp_path: Path,
) -> None:
    round_ = load_round(BANK, round_path(BANK, "mock-round-1"))
    subs = tmp_path / "subs"
    slug = "drill-6-cnns"
    hand_in(subs, "ana", f"{slug}.yaml", yaml.safe_dump(right_answers(slug, "ana")))
    hand_in(subs, "bob", f"{slug}.json", json.dumps(right_answers(slug, "ana")))  # ana's
    hand_in(subs, "cyd", f"{slug}.py", "print('not answers')\n")
    found = discover(round_, subs)
    assert any("cyd/drill-6-cnns.py: drill-6-cnns takes a .yaml" in n for n in found.notices)
    store = MemoryStore()
    summary = judge_round(round_, BANK, found, store, FakeSandbox(NEVER), SECRET)
    ana = summary.records[f"ana/{slug}.yaml"].result
    bob = summary.records[f"bob/{slug}.json"].result
    assert ana.verdict is Verdict.AC and ana.score == 35.0
    assert bob.verdict is Verdict.WA and bob.score < 35.0
    private, public = boards(round_, store.read_manifest(), summary.records)
    cells = {row.contestant: row.cells[slug] for row in private.rows}
    assert cells["ana"].points == 35.0 and cells["cyd"].verdict is Verdict.NS
    assert set(cells["ana"].parts) == {part.id for part in round_.problems[slug].spec.scored_parts}
    csv = publish(round_, private, public, list(summary.records.values()), store.read_manifest())
    assert f"{slug}/conv-output-shape" in csv.csv.splitlines()[0]


def test_the_pages_form_fields_become_an_answers_file() -> None:
    from judge.service.web import answers_from_form

    items = quiz_items(BANK.problem("drill-1-tensors-autograd").spec)
    by_type = {item.type: item for item in items}
    fields = {
        f"item:{by_type['shape'].id}": " [32, 10] ",
        f"item:{by_type['integer'].id}": "7850",
        f"item:{by_type['single'].id}": "b",
        f"item:{by_type['multiple'].id}": "a, c",
        "item:not-an-item": "3",
        "csrf": "token",
    }
    answers = json.loads(answers_from_form(items, fields))
    assert answers == {
        by_type["shape"].id: [32, 10],
        by_type["integer"].id: 7850,
        by_type["single"].id: "b",
        by_type["multiple"].id: ["a", "c"],
    }
    broken = json.loads(answers_from_form(items, {f"item:{by_type['shape'].id}": "[32, 10"}))
    assert broken == {by_type["shape"].id: "[32, 10"}  # kept as text: a wrong type, named


# -- untrusted answers never crash the scorer ---------------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_bytes_parse_to_a_mapping_or_invalid_output(raw: bytes) -> None:
    try:
        parsed = parse_answers(raw)
    except InvalidOutput:
        return
    assert isinstance(parsed, dict)


@given(JSONISH)
@settings(max_examples=300, deadline=None)
def test_any_value_is_right_or_wrong_for_every_item_type(value: Any) -> None:
    rights = [
        (SINGLE, "b"),
        (MULTIPLE, ["a"]),
        (INTEGER, 3),
        (NUMBER, 0.5),
        (SHAPE, [2]),
        (TEXT, "softmax"),
    ]
    for quiz_item, right in rights:
        ok, message = check_answer(quiz_item, value, right)
        assert isinstance(ok, bool) and isinstance(message, str) and message


def test_the_demo_hands_in_each_quizs_answer_key_and_it_is_accepted() -> None:
    env = {"JUDGE_BANK": str(ROOT), "JUDGE_SECRET": "quiz-demo"}
    result = CliRunner().invoke(app, ["demo", "drill-6-cnns", "--sandbox", "process"], env=env)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "answer key" in line)
    assert "AC" in row and "35.0/35" in row
    assert "all 2 submissions got their expected verdicts" in result.output
