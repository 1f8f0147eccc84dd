"""Safe YAML loading that remembers where each key stands.

Definitions (settings, segments) are validated after loading; to name the
line of a bad key we keep, beside the data, a map from key paths to line
numbers taken from PyYAML's node tree. Only ``SafeLoader`` is used, so a
``!!python/...`` tag is refused instead of constructed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cli.errors import InputError

KeyPath = tuple[Any, ...]


@dataclass
class YamlDocument:
    """Loaded YAML data with the 1-based line of every key path.

    ``plain`` keeps, per key path, the source text of an unquoted scalar that
    YAML read as something other than text (``01000`` is the octal 512,
    ``NO`` is false, ``1.10`` is 1.1), so that a text comparison can use what
    the user wrote.
    """

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    plain: dict[KeyPath, str] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """Line of ``key_path``, or of its nearest ancestor that has one."""
        path = tuple(key_path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def where(self, key_path: KeyPath) -> str:
        """``file, line N`` for messages."""
        line = self.line_of(key_path)
        return f"{self.path}, line {line}" if line else str(self.path)


def _repeated_key(node: yaml.Node) -> tuple[str, int, int] | None:
    """The first key written twice in one mapping: (key, first line, second line), or None.

    PyYAML keeps the last value of a repeated key without a word, so a second
    ``where:`` or ``all:`` would silently drop the first one's conditions.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    line = key_node.start_mark.line + 1
                    if key_node.value in seen:
                        return key_node.value, seen[key_node.value], line
                    seen[key_node.value] = line
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], plain: dict[KeyPath, str]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.tag not in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:null"):
            plain[path] = node.value
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), lines, plain)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _record_lines(item, path + (index,), lines, plain)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves date-like scalars as text.

    PyYAML turns an unquoted ``2026-02-30`` into a ValueError deep inside the
    loader; as text, the date reaches our validators, which name the file,
    the line and the problem like any other bad value.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse ``text`` (read from ``path``) safely; raise ``InputError`` on bad YAML."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        tabs = " YAML does not allow tabs for indentation: indent with spaces." if "\\t" in problem else ""
        raise InputError(
            f"{where}: this is not valid YAML ({problem}).{tabs} Fix the file and run the command again."
        ) from e
    repeated = _repeated_key(node) if node is not None else None
    if repeated is not None:
        key, first, second = repeated
        raise InputError(
            f"{path}, line {second}: the key `{key}` is written twice in the same mapping (first on line "
            f"{first}); YAML would keep only the last one. Merge them (under `all:` for conditions) or remove one."
        )
    lines: dict[KeyPath, int] = {}
    plain: dict[KeyPath, str] = {}
    if node is not None:
        _record_lines(node, (), lines, plain)
    return YamlDocument(path=path, data=data, lines=lines, plain=plain)


def load_yaml(path: Path) -> YamlDocument:
    """Read and parse the YAML file at ``path``."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as e:
        raise InputError(f"{path}: no such file.") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: is a folder; give the YAML file.") from e
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}).") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        # Notepad's "ANSI" (Windows-1252) is the usual culprit: é is one byte there.
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(
            f"{path}, line {line}: the file is not UTF-8 text (an accented letter saved as Windows-1252 or "
            "Latin-1?). Save it as UTF-8 in your editor and run the command again."
        ) from e
    return parse_yaml(text, Path(path))


def suggest(word: str, choices: list[str] | set[str]) -> str | None:
    """The closest of ``choices`` to ``word`` when it is close enough, else None.

    Case is ignored (``EQ`` -> ``eq``, ``f`` -> ``F``); a word cut short or run
    on matches the choice it begins or that begins it (``don`` -> ``donation``,
    ``equals`` -> ``eq``).

    >>> suggest("equals", ["eq", "ne", "in"])
    'eq'
    """
    from rapidfuzz import fuzz, process, utils

    if not choices:
        return None
    choices = list(choices)
    match = process.extractOne(str(word), choices, scorer=fuzz.ratio, processor=utils.default_process, score_cutoff=60)
    if match:
        return match[0]
    low = str(word).lower()
    if len(low) < 2:
        return None
    for choice in sorted(choices, key=lambda c: (len(str(c)), str(c))):
        text = str(choice).lower()
        if len(text) >= 2 and (text.startswith(low) or low.startswith(text)):
            return choice
    return None


def did_you_mean(word: str, choices: list[str] | set[str]) -> str:
    """`` did you mean `x`?`` or an empty string."""
    best = suggest(word, choices)
    return f" Did you mean `{best}`?" if best else ""
