"""What ccmon's own code imports is installed by `pip install ccmon` without extras (the demo
command installs no dev extras; the tests do, so a missing runtime dependency would pass
them and break the demo on a fresh machine: httpx once did)."""

from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("domain", "geofence", "store", "alerts", "ingest", "api", "simulators", "ccmon")


def _imported_top_levels() -> dict[str, str]:
    """Top-level modules imported by ccmon's parts -> one file importing it."""
    found: dict[str, str] = {}
    for part in PARTS:
        for path in (ROOT / part).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _wanted(requirements: list[str] | None, extras: set[str]) -> list[Requirement]:
    """The requirements that apply with these extras (and on this platform)."""
    out = []
    for text in requirements or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""}):
            out.append(requirement)
    return out


def _runtime_closure() -> set[str]:
    """ccmon's runtime requirements and theirs (with the extras asked for), without ccmon's
    own extras."""
    todo = _wanted(metadata.requires("ccmon"), set())
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        todo += _wanted(requires, set(requirement.extras))
    return {name for name, _ in seen}


def test_every_import_of_ccmon_is_a_runtime_dependency() -> None:
    ours = set(PARTS)
    installed = metadata.packages_distributions()
    runtime = _runtime_closure()
    missing = {}
    for module, where in _imported_top_levels().items():
        if module in ours or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = {canonicalize_name(d) for d in installed.get(module, [])}
        if not dists & runtime:
            missing[module] = where
    assert missing == {}, f"imported but not a runtime dependency: {missing}"
