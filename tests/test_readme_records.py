"""The README's table of record texts lists exactly the texts the code writes, under its command.

The texts are read from the source: the message argument of every call on a logger (`log`,
`self._log`, `js.log`, ...): `info`/`warning`/`error`/`debug(TEXT, ...)` and
`log`/`emitter`/`record_emitter`/`line_format(LEVEL, TEXT, ...)`. A text passed through a
parameter (`self._warn(TEXT)`, `inbox.serve(..., TEXT, ...)`) is read at the callers; the few
texts picked from data are listed in DYNAMIC, and a new such call fails the test until it is.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from nats_pubsub.logs import loss

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "src" / "nats_pubsub"
_FIRST = {"info", "warning", "error", "debug"}  # the text is the first argument
_SECOND = {"log", "emitter", "record_emitter", "line_format"}  # after the level
# Calls whose text is data, and the texts they write (None: nats-server's own lines).
DYNAMIC: dict[tuple[str, str], set[str] | None] = {
    ("logs/loss.py", "text"): {text for text, _ in loss._RECORDS.values()},
    ("services/nats_server.py", "text"): None,
}
# Modules of one command, and its row in the table (shared modules may be in any row).
ROWS = {
    "services/publisher.py": "publish",
    "services/payments.py": "payments",
    "services/subscriber.py": "subscribe",
    "services/monitor.py": "monitor",
    "services/replay.py": "replay",
    "connection/replay_feed.py": "replay",
    "services/streams_admin.py": "streams",
    "services/discovery.py": "services",
    "services/nats_server.py": "server",
    "services/up.py": "up",
    "services/up_stack.py": "up",
    "gateway/service.py": "gateway",
    "gateway/app.py": "gateway",
    "gateway/api_messages.py": "gateway",
    "gateway/api_consumers.py": "gateway",
    "gateway/ws.py": "gateway",
    "gateway/dashboard/feed.py": "gateway",
    "chaos/runner.py": "chaos",
    "chaos/inject.py": "chaos",
}


def _is_logger(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name in ("log", "_log")


def _text_arg(call: ast.Call) -> ast.expr | None:
    func = call.func
    if not isinstance(func, ast.Attribute) or not _is_logger(func.value):
        return None
    index = 0 if func.attr in _FIRST else 1 if func.attr in _SECOND else None
    return call.args[index] if index is not None and len(call.args) > index else None


class _Walk(ast.NodeVisitor):
    """Every call in a module, with the functions (and their parameters) it is inside."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, list[str]]] = []
        self.calls: list[tuple[ast.Call, list[tuple[str, list[str]]]]] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scopes.append((node.name, [a.arg for a in node.args.args if a.arg != "self"]))
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        self.calls.append((node, list(self.scopes)))
        self.generic_visit(node)


def _code_texts() -> dict[str, set[str]]:
    """Record texts by module (relative to the package); bench/ writes no product records."""
    texts: dict[str, set[str]] = defaultdict(set)
    forwarded: list[tuple[str, str, int]] = []  # (module, function, argument index)
    calls: list[tuple[str, ast.Call, list[tuple[str, list[str]]]]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith("bench/") or module == "logs/logger.py":  # the logger itself
            continue
        walk = _Walk()
        walk.visit(ast.parse(path.read_text()))
        for call, scopes in walk.calls:
            calls.append((module, call, scopes))
            arg = _text_arg(call)
            if arg is None:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                texts[module].add(arg.value)
                continue
            assert isinstance(arg, ast.Name), ast.unparse(call)
            owner = [(name, params) for name, params in scopes if arg.id in params]
            if owner:
                name, params = owner[-1]
                forwarded.append((module, name, params.index(arg.id)))
            else:
                known = DYNAMIC[(module, arg.id)]  # KeyError: a new kind of record text
                texts[module] |= known or set()
    # A text passed on through functions (e.g. `_warn(text)` calling `watch.warn(text)` calling
    # `log.warning(text)`): followed until the calls that pass it as a constant.
    seen = set(forwarded)
    while forwarded:
        module, name, index = forwarded.pop()
        for caller, call, scopes in calls:
            func = call.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called != name or len(call.args) <= index:
                continue
            arg = call.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                texts[caller if caller in ROWS else module].add(arg.value)
            elif isinstance(arg, ast.Name):
                owner = [(fn, params) for fn, params in scopes if arg.id in params]
                if owner:
                    fn, params = owner[-1]
                    step = (caller, fn, params.index(arg.id))
                    if step not in seen:
                        seen.add(step)
                        forwarded.append(step)
    return texts


def _readme_rows() -> dict[str, set[str]]:
    """The Logs table of the README: row name -> texts in backticks in its second column."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Logs\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == 2 and cells[0] not in ("service", "---"):
            rows[cells[0]] = set(re.findall(r"`([^`]+)`", cells[1]))
    return rows


def test_the_table_lists_every_record_text_and_no_other() -> None:
    """Each text the code writes is in the README's table, and the table has no stale text."""
    in_code = set().union(*_code_texts().values())
    in_readme = set().union(*_readme_rows().values())
    assert in_code - in_readme == set(), "missing from the README"
    assert in_readme - in_code == set(), "in the README but written nowhere"


def test_each_command_has_its_texts_in_its_row() -> None:
    """A command's own records are in its row (or with every client's, or JetStream's)."""
    rows = _readme_rows()
    shared = rows["all clients"] | rows["with `--jetstream`"]
    for module, texts in _code_texts().items():
        if module in ROWS:
            missing = texts - rows[ROWS[module]] - shared
            assert missing == set(), (module, missing)


def test_the_texts_found_include_the_ones_users_missed() -> None:
    """The walk finds texts made in every way: direct, through a parameter, from data."""
    found = set().union(*_code_texts().values())
    assert {
        "Credit card accepted",
        "Credit card declined",
        "Payment publisher metrics",
        "Message captured",  # log.record_emitter(level, TEXT, ...)
        "Monitor metrics",  # inbox.serve(..., TEXT, ...)
        "Messages lost",  # loss._RECORDS
        "Batch acknowledgement timed out",  # self._warn(TEXT)
        "Connected to NATS",  # log.log(level, TEXT, fields)
    } <= found
