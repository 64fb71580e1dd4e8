"""The package's layout holds what docs/architecture.md says: layers as folders, few modules at
the top, every module with its purpose and its names, thin services, tests that share helpers
only through tests/helpers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "nats_pubsub"
TESTS = ROOT / "tests"
MAX_TOP_LEVEL = 8  # modules beside the layer folders, __init__ and __main__ not counted
MAX_SERVICE_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    """Our modules (not those protoc generates, which ruff and mypy leave alone too)."""
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts and not p.name.endswith("_pb2.py")
    )


def test_few_modules_at_the_top() -> None:
    """At most eight modules sit beside the layer folders."""
    top = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(top) <= MAX_TOP_LEVEL, sorted(top)


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_layer_says_what_it_may_import(package: str) -> None:
    """Each subpackage's docstring says what it is for and what it may import."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc, package
    assert re.search(r"\bimport", doc), f"{package}: the docstring names no import rule"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_opens_with_its_purpose_and_names_its_exports(path: Path) -> None:
    """A one-line-first docstring, and `__all__` (the entry point `__main__` excepted)."""
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), path
    if path.name != "__main__.py":
        names = {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name)
        }
        assert "__all__" in names, path


def _long_functions(source: str, limit: int) -> list[str]:
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]


@pytest.mark.parametrize("path", sorted((PACKAGE / "services").glob("*.py")), ids=lambda p: p.name)
def test_services_are_thin(path: Path) -> None:
    """No function in the services layer is longer than 60 lines (nested ones included)."""
    assert _long_functions(path.read_text(), MAX_SERVICE_FUNCTION_LINES) == []


def test_the_length_check_sees_a_long_function() -> None:
    """A 61-line function is reported (so the check above can fail)."""
    source = "def long() -> None:\n" + "    x = 1\n" * 60
    assert _long_functions(source, MAX_SERVICE_FUNCTION_LINES) == ["long (61 lines)"]


_TEST_IMPORT = re.compile(r"^\s*(from|import)\s+tests\.(\w+\.)*test_\w+", re.MULTILINE)


def test_tests_share_helpers_only_through_helper_modules() -> None:
    """No test file imports another test file (helpers live in tests/helpers or conftest)."""
    found = [
        str(path.relative_to(TESTS))
        for path in sorted(TESTS.rglob("*.py"))
        if _TEST_IMPORT.search(path.read_text())
    ]
    assert found == []
    assert _TEST_IMPORT.search("from tests.services.test_metrics_e2e import get")
