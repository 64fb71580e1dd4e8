"""deploy/requirements.lock is in step with pyproject.toml, and the image installs from it.

pyproject.toml keeps version ranges for library users; the lock pins one version of every
package the image needs, with hashes (`make lock` rewrites it). Each requirement of pyproject
(with the `fast` extra, for Linux) must be locked at a version its range allows.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "deploy" / "requirements.lock"
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
# The image: CPython 3.11 on Linux (Alpine), any machine.
_IMAGE = {**default_environment(), "sys_platform": "linux", "platform_system": "Linux"}
_IMAGE.update(python_version="3.11", python_full_version="3.11.0")


def _locked() -> dict[str, tuple[Version, str]]:
    """Each locked package: its version and its whole entry (requirement line and hashes)."""
    text = LOCK.read_text()
    starts = [match.start() for match in _ENTRY.finditer(text)] + [len(text)]
    locked = {}
    for match, end in zip(_ENTRY.finditer(text), starts[1:], strict=True):
        name = canonicalize_name(match.group(1))
        assert name not in locked, f"{name} is locked twice"
        locked[name] = (Version(match.group(2)), text[match.start() : end])
    return locked


def _required() -> list[Requirement]:
    """pyproject's runtime requirements and those of the `fast` extra the image installs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["fast"]]
    return [Requirement(text) for text in wanted]


def test_every_requirement_is_locked_within_its_range() -> None:
    """Names match, and each locked version satisfies pyproject's range."""
    locked = _locked()
    for requirement in _required():
        if requirement.marker is not None and not requirement.marker.evaluate(_IMAGE):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in the lock: make lock"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is locked, but pyproject.toml wants {requirement.specifier}: "
            "make lock"
        )


def test_every_locked_package_has_hashes() -> None:
    """pip's hash-checking mode needs a sha256 for every locked package."""
    locked = _locked()
    assert len(locked) >= len(_required())
    for name, (_, entry) in locked.items():
        assert _HASH.search(entry), f"{name} has no --hash"


def test_the_lock_was_written_by_make_lock() -> None:
    """The header says how to regenerate it."""
    assert "make lock" in LOCK.read_text().splitlines()[1]


def test_the_image_installs_from_the_lock_with_hashes() -> None:
    """The Dockerfile's dependencies come from the lock in hash-checking mode, and the runtime
    stage installs exactly those wheels (no index, no resolution)."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY deploy/requirements.lock" in text
    assert re.search(r"pip wheel .*--require-hashes .*-r requirements\.lock", text)
    assert re.search(r"pip wheel .*--no-deps", text)
    assert re.search(r"pip install .*--no-index --no-deps /wheels/\*\.whl", text)


@pytest.mark.parametrize(
    ("specifier", "broken"),
    [("nats-py>=99", "nats-py"), ("left-pad>=1", "left-pad")],
)
def test_a_requirement_out_of_step_is_caught(specifier: str, broken: str) -> None:
    """The check above fails for a range the lock does not satisfy or a name it lacks."""
    locked = _locked()
    requirement = Requirement(specifier)
    name = canonicalize_name(requirement.name)
    assert name not in locked or not requirement.specifier.contains(locked[name][0]), broken
