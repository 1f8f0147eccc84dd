"""Layering: only cli/commands/ and cli/main.py may import typer or rich."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parent.parent / "cli"


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_do_not_import_typer_or_rich():
    offenders = []
    for path in CLI.rglob("*.py"):
        relative = path.relative_to(CLI)
        if relative.parts[0] == "commands" or relative == Path("main.py"):
            continue
        if _imported_roots(path) & {"typer", "rich", "click"}:
            offenders.append(str(relative))
    assert offenders == []


def test_the_check_itself_sees_imports(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from rich.console import Console\n")
    assert "rich" in _imported_roots(sample)
