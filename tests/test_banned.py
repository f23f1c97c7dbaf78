"""The static check of banned APIs: a table of banned uses, allowed look-alikes and flags."""

from __future__ import annotations

import pytest

from judge.banned import check_source
from judge.spec import BanRule

OPTIM = BanRule.model_validate({"api": "torch.optim"})
INV = BanRule.model_validate({"api": "numpy.linalg.inv"})
LOOP_IN_VECTORISE = BanRule.model_validate({"construct": "loop", "inside": ["vectorise"]})


@pytest.mark.parametrize(
    ("source", "line", "used"),
    [
        ("import torch.optim\n", 1, "torch.optim"),
        ("import torch.optim as o\n", 1, "torch.optim"),
        ("from torch import optim\n", 1, "torch.optim"),
        ("from torch.optim import SGD\n", 1, "torch.optim.SGD"),
        ("from torch.optim.lr_scheduler import StepLR\n", 1, "torch.optim.lr_scheduler.StepLR"),
        ("import torch\nx = torch.optim.SGD\n", 2, "torch.optim.SGD"),
        ("import torch as t\n\ndef f():\n    return t.optim.Adam\n", 4, "torch.optim.Adam"),
        ("import torch\ng = getattr(torch, 'optim')\n", 2, "torch.optim"),
        ("x = __import__('torch.optim')\n", 1, "torch.optim"),
        ("x = __import__('torch', fromlist=['optim'])\n", 1, "torch.optim"),
        ("import importlib\nm = importlib.import_module('torch.optim')\n", 2, "torch.optim"),
        ("import sys\nm = sys.modules['torch.optim']\n", 2, "torch.optim"),
        ("def f():\n    from torch import optim as o\n    return o\n", 2, "torch.optim"),
    ],
)
def test_banned_uses_are_found_with_their_line(source: str, line: int, used: str) -> None:
    report = check_source(source, [OPTIM])
    assert [(v.line, v.used) for v in report.violations][:1] == [(line, used)]


@pytest.mark.parametrize(
    "source",
    [
        "optim = 0.1\nprint(optim)\n",  # a local variable of the same name
        "def f(optim):\n    return optim.step()\n",  # a parameter of the same name
        "import torch\nx = torch.optimize\n",  # a longer name, not torch.optim
        "import torch\nx = torch.nn.Linear(2, 2)\n",
        "from mylib import optim\n",  # another package's optim
        "# torch.optim is banned\ns = 'torch.optim'\n",  # a comment and a string
        "import torch\nlr = torch.tensor(0.1)\n",
    ],
)
def test_look_alikes_are_allowed(source: str) -> None:
    report = check_source(source, [OPTIM])
    assert report.violations == () and report.flags == ()


def test_banning_one_function_leaves_its_module_free() -> None:
    source = "import numpy as np\na = np.linalg.norm([1])\nb = np.linalg.inv([[1]])\n"
    assert [(v.line, v.used) for v in check_source(source, [INV]).violations] == [
        (3, "numpy.linalg.inv")
    ]


@pytest.mark.parametrize(
    ("source", "flag"),
    [
        ("import torch\nm = getattr(torch, name)\n", "getattr on torch with a computed name"),
        ("exec('import torch.optim')\n", "exec() runs code the check cannot read"),
        ("m = __import__(name)\n", "__import__() of a computed module name"),
        ("from torch import *\n", "from torch import * (names unknown)"),
        ("import sys\nm = sys.modules[name]\n", "sys.modules[...] with a computed name"),
    ],
)
def test_dynamic_access_is_flagged_not_counted(source: str, flag: str) -> None:
    report = check_source(source, [OPTIM])
    assert report.violations == ()
    assert [f.what for f in report.flags] == [flag]


def test_a_loop_rule_applies_inside_the_named_function_and_what_it_calls() -> None:
    source = (
        "def helper(x):\n"
        "    return [v * 2 for v in x]\n"
        "def vectorise(x):\n"
        "    return helper(x)\n"
        "def elsewhere(x):\n"
        "    for v in x:\n"
        "        pass\n"
    )
    report = check_source(source, [LOOP_IN_VECTORISE])
    assert [(v.line, v.used) for v in report.violations] == [(2, "a loop")]
    assert report.violations[0].describe() == "submission.py line 2: a loop is banned here"


def test_a_file_that_does_not_parse_has_nothing_to_check() -> None:
    assert check_source("def broken(:\n", [OPTIM]).violations == ()


def test_no_rules_means_no_work() -> None:
    assert check_source("import torch.optim\n", []).violations == ()


ROWS = BanRule.model_validate({"attribute": "max_rows", "inside": ["accumulate"]})


def test_an_attribute_rule_finds_reads_writes_and_constant_getattr_in_scope() -> None:
    source = (
        "class Net:\n"
        "    def forward(self, x):\n"
        "        return self.max_rows\n"  # the given model's own code: not in scope
        "def make(n):\n"
        "    return Net(max_rows=n)\n"  # a keyword, not the attribute
        "def lift(model):\n"
        "    setattr(model, 'max_rows', 10**9)\n"
        "def accumulate(model):\n"
        "    model.max_rows = 64\n"
        "    lift(model)\n"
        "    return make(3)\n"
    )
    report = check_source(source, [ROWS])
    assert [(v.line, v.used) for v in report.violations] == [(7, ".max_rows"), (9, ".max_rows")]


def test_an_attribute_rule_flags_a_computed_name() -> None:
    source = "def accumulate(model, name):\n    setattr(model, name, 64)\n"
    report = check_source(source, [ROWS])
    assert report.violations == ()
    assert [f.what for f in report.flags] == ["setattr() with a computed attribute name"]


def test_a_rule_names_one_target() -> None:
    with pytest.raises(ValueError, match="exactly one of api, construct or attribute"):
        BanRule.model_validate({"attribute": "x", "construct": "loop"})
