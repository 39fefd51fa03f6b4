"""The code's shape: the import-linter contracts hold, and no module hides an import of the
project's own code inside a function (the old way to dodge an import cycle).

The one sanctioned place for a deferred import is ``AppConfig.ready()``: Django loads apps
before models, and ``ready`` is where an app connects to the apps below it.
"""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("helpdesk", "workspaces", "tickets", "privacy")


def _source_files():
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _deferred_first_party_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def visit(node, function, klass):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, function, child.name)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name, klass)
            elif isinstance(child, ast.Import | ast.ImportFrom) and function is not None:
                names = (
                    [a.name for a in child.names] if isinstance(child, ast.Import) else [child.module or ""]
                )
                relative = isinstance(child, ast.ImportFrom) and child.level > 0
                ours = relative or any(name.split(".")[0] in FIRST_PARTY for name in names)
                in_ready = function == "ready" and path.name == "apps.py"
                if ours and not in_ready:
                    rel = path.relative_to(ROOT)
                    found.append(f"{rel}:{child.lineno} in {function}(): {', '.join(names)}")
            else:
                visit(child, function, klass)

    visit(tree, None, None)
    return found


def test_no_first_party_import_is_hidden_inside_a_function():
    hidden = [line for path in _source_files() for line in _deferred_first_party_imports(path)]
    assert hidden == [], "Import these at module level (a cycle means a layer is wrong):\n" + "\n".join(
        hidden
    )


def test_the_layer_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", "--config", str(ROOT / ".importlinter")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
