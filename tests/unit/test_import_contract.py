"""The floor plan of ``src/valgus`` (README "Code layout"), checked on the source text: each
package imports only from the floors beneath it, the pure core imports no I/O, model, UI or
database library, only the estimator imports mediapipe, only ``app/`` imports streamlit, and no
two modules import each other, directly or round a longer circle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "valgus"

# Floor of each room (top-level module or package of valgus). A module may import from lower
# floors and from its own room, never from a room on its own floor or above.
FLOORS: dict[str, int] = {
    "__init__": 0, "config": 0, "errors": 0, "landmarks": 0, "files": 0, "paths": 0,
    "core": 1,
    "runtime": 2,
    "pipeline": 3,
    "present": 4,
    "live": 5, "store": 5,
    "report": 6, "batch": 6,
    "cli": 7, "app": 7, "synth": 7,
}
CORE_THIRD_PARTY = {"numpy", "scipy"}
STDLIB = set(sys.stdlib_module_names)


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "migrations" in parts:  # Alembic scripts, run by Alembic, not imported
            continue
        out[".".join(parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from valgus.core import kinematics` names a module too.
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


MODULES = _modules()


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _project_imports(module: str) -> set[str]:
    """The project's modules that ``module`` imports (resolved to existing modules)."""
    out = set()
    for name in _imports(MODULES[module]):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module and name.startswith("valgus"):
            out.add(name)
    return out


def test_every_room_has_a_floor() -> None:
    rooms = {_room(m) for m in MODULES}
    assert rooms <= set(FLOORS), f"rooms without a floor: {sorted(rooms - set(FLOORS))}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_from_floors_beneath(module: str) -> None:
    room = _room(module)
    wrong = sorted(
        f"{other} (floor {FLOORS[_room(other)]})"
        for other in _project_imports(module)
        if other != "valgus" and _room(other) != room and FLOORS[_room(other)] >= FLOORS[room]
    )
    assert not wrong, f"{module} (floor {FLOORS[room]}) imports from its floor or above: {wrong}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _room(m) in ("core",)
                                          or FLOORS[_room(m)] == 0))
def test_core_and_ground_floor_import_no_io_model_ui_or_database(module: str) -> None:
    third_party = {
        name.split(".")[0] for name in _imports(MODULES[module])
        if name.split(".")[0] not in STDLIB and not name.startswith("valgus")
    }
    allowed = CORE_THIRD_PARTY | ({"platformdirs"} if module == "valgus.paths" else set())
    assert third_party <= allowed, f"{module} imports {sorted(third_party - allowed)}"


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize(("library", "allowed_rooms"), [
    ("streamlit", {"app"}),
    ("streamlit_webrtc", {"app"}),
    ("mediapipe", {"runtime.estimator"}),
    ("cv2", {"runtime", "present", "live", "report", "app", "synth"}),
    ("av", {"runtime", "synth"}),
    ("sqlalchemy", {"store"}),
    ("alembic", {"store"}),
    ("plotly", {"present", "app"}),
])
def test_library_used_only_in_its_rooms(library: str, allowed_rooms: set[str]) -> None:
    users = sorted(
        m for m, path in MODULES.items()
        if any(_top(n) == library for n in _imports(path))
        and _room(m) not in allowed_rooms and ".".join(m.split(".")[1:3]) not in allowed_rooms
    )
    assert not users, f"{library} imported outside {sorted(allowed_rooms)}: {users}"


def test_no_import_circles() -> None:
    graph = {m: _project_imports(m) - {"valgus"} for m in MODULES}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                circles.append([*path[path.index(n):], n])
            elif n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    # A package's __init__ re-exporting its own modules is not a circle of rooms.
    circles = [c for c in circles if not all(x == c[0] or x.startswith(c[0] + ".") for x in c)
               and not all(c[0].startswith(x + ".") or x == c[0] for x in c)]
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_the_contract_can_fail() -> None:
    """The checks above read real imports: a made-up core module importing cv2 and the app
    would be caught by them."""
    bad = ast.parse("import cv2\nfrom valgus.app import review\n")
    names = {a.name for n in ast.walk(bad) if isinstance(n, ast.Import) for a in n.names}
    assert "cv2" in names
    assert FLOORS["app"] > FLOORS["core"]
