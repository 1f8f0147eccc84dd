"""Every command has help text and appears in the README's command reference."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.main import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(command, path=()):
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from _commands(sub, path + (name,))
    else:
        yield path, command


def test_every_command_has_help_and_is_documented():
    root = typer.main.get_command(app)
    missing_help, undocumented = [], []
    for path, command in _commands(root):
        name = "crmseg " + " ".join(path)
        if not (command.help or "").strip():
            missing_help.append(name)
        if f"`{name}" not in README:
            undocumented.append(name)
    assert missing_help == []
    assert undocumented == []


def test_readme_gives_the_two_setup_commands():
    assert "make demo" in README and "make test" in README


def _all_commands(command, path=()):
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _all_commands(sub, path + (name,))


def test_every_command_and_group_help_shows_an_example():
    # `crmseg import --help` is where a new user starts, as much as `crmseg import contacts --help`.
    root = typer.main.get_command(app)
    without = ["crmseg " + " ".join(path) for path, command in _all_commands(root)
               if "Example: crmseg" not in (command.help or "")]
    assert without == []
