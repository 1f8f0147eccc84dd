"""Reading segment files into validated ``SegmentSpec`` values.

One segment per YAML file in the segments folder; its name defaults to the
file stem. Loading never runs anything: it parses safely (``!!python/...``
tags are refused by ``SafeLoader``), checks the top-level keys, parses the
``where`` tree (``ConditionParser``), the export block, and reports every
problem of the file at once as one ``SegmentError``. ``SegmentLibrary``
holds the whole folder, so that ``in_segment`` can be resolved and its
cycles found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli.errors import InputError, NotFoundError, SegmentError
from cli.fields import known_fields
from cli.segmenting.model import (
    EXPORT_KEYS,
    FORMATS,
    PRESETS,
    PURPOSES,
    SEGMENT_KEYS,
    SEGMENT_NAME,
    ConditionParser,
    ExportSpec,
    Node,
    Problems,
    SegmentSpec,
    hint,
)
from cli.settings import Settings
from cli.yamlfile import YamlDocument, load_yaml, parse_yaml

SEGMENT_SUFFIXES = (".yaml", ".yml")


def parse_condition(data: Any, settings: Settings, *, label: str = "condition",
                    document: YamlDocument | None = None, path: tuple = ()) -> Node:
    """Parse one condition (a lead-scoring rule's ``when``, a test's tree); ``SegmentError`` if invalid."""
    problems = Problems(document, label)
    node = ConditionParser(settings, problems).parse(data, path)
    if problems.messages:
        raise SegmentError("\n".join(problems.messages))
    return node


def definition_hash(data: Any) -> str:
    """A stable hash of a segment's YAML data (key order does not matter)."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def segment_from_document(document: YamlDocument, settings: Settings) -> SegmentSpec:
    """Validate a loaded segment file; ``SegmentError`` naming file and line for every problem."""
    problems = Problems(document, str(document.path))
    data = document.data
    if data is None:
        raise SegmentError(f"{document.path}: the file is empty; a segment needs at least a `where:` condition "
                           "(`where: {all: []}` for everyone).")
    if not isinstance(data, dict):
        raise SegmentError(f"{document.path}: a segment file is a mapping with at least a `where:` key.")
    for key in data:
        if key not in SEGMENT_KEYS:
            problems.add((key,), f"unknown key `{key}`{hint(str(key), SEGMENT_KEYS)}")
    name = data.get("name", document.path.stem)
    if not isinstance(name, str) or not SEGMENT_NAME.match(name):
        problems.add(("name",), f"`{name}` is not a usable segment name: use letters, digits, `-`, `_` or `.`, "
                                "without spaces (it names the export file).")
        name = str(name)
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.add(("description",), "`description` is text.")
    purpose = data.get("purpose", "email")
    if purpose not in PURPOSES:
        problems.add(("purpose",), f"unknown purpose `{purpose}`{hint(str(purpose), PURPOSES)}"
                                   f" (one of {', '.join(PURPOSES)})")
    include_inactive = data.get("include_inactive", False)
    if not isinstance(include_inactive, bool):
        problems.add(("include_inactive",), "`include_inactive` is true or false.")
        include_inactive = False
    if "where" not in data:
        problems.add((), "the segment has no `where:` condition (use `where: {all: []}` for everyone).")
        where: Node | None = None
    else:
        where = ConditionParser(settings, problems).parse(data["where"], ("where",))
    export = _parse_export(data.get("export"), settings, problems)
    if problems.messages:
        raise SegmentError("\n".join(problems.messages))
    return SegmentSpec(
        name=name,
        where=where,
        description=description,
        purpose=purpose,
        include_inactive=include_inactive,
        export=export,
        source=document.path,
        definition=data,
        lines=dict(document.lines),
    )


def _parse_export(data: Any, settings: Settings, problems: Problems) -> ExportSpec:
    if data is None:
        return ExportSpec()
    if not isinstance(data, dict):
        problems.add(("export",), "`export` is a mapping (columns, format, preset).")
        return ExportSpec()
    for key in data:
        if key not in EXPORT_KEYS:
            problems.add(("export", key), f"unknown key `{key}` in `export`{hint(str(key), EXPORT_KEYS)}")
    columns = data.get("columns")
    if columns is not None:
        fields = known_fields(settings)
        if not isinstance(columns, list) or not columns:
            problems.add(("export", "columns"), "`columns` is a list of field names.")
            columns = None
        else:
            for index, column in enumerate(columns):
                if not isinstance(column, str):
                    problems.add(("export", "columns", index), "each column is a field name")
                elif column not in fields:
                    problems.add(("export", "columns", index), f"unknown field `{column}`{hint(str(column), fields)}")
                elif column in columns[:index]:
                    problems.add(("export", "columns", index), f"`{column}` is listed twice in `columns`")
            columns = tuple(str(c) for c in columns)
    fmt = data.get("format")
    if fmt is not None and fmt not in FORMATS:
        problems.add(("export", "format"), f"unknown format `{fmt}`{hint(str(fmt), FORMATS)} (one of {', '.join(FORMATS)})")
    preset = data.get("preset")
    if preset is not None and preset not in PRESETS:
        problems.add(("export", "preset"), f"unknown preset `{preset}`{hint(str(preset), PRESETS)} (one of {', '.join(PRESETS)})")
    return ExportSpec(columns=columns, format=fmt, preset=preset)


def load_segment_file(path: Path, settings: Settings) -> SegmentSpec:
    """Load and validate one segment file."""
    try:
        document = load_yaml(Path(path))
    except SegmentError:
        raise
    except InputError as e:
        raise SegmentError(str(e)) from e
    return segment_from_document(document, settings)


def load_segment_text(text: str, settings: Settings, path: Path = Path("segment.yaml")) -> SegmentSpec:
    """Load a segment from YAML text (tests, the golden fixtures)."""
    try:
        document = parse_yaml(text, path)
    except InputError as e:
        raise SegmentError(str(e)) from e
    return segment_from_document(document, settings)


@dataclass
class SegmentLibrary:
    """Every segment of a folder: the valid ones and, per file, the errors of the others."""

    folder: Path | None
    segments: dict[str, SegmentSpec] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # name (file stem or name) -> message
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(set(self.segments) | set(self.errors))

    def get(self, name: str) -> SegmentSpec:
        """The valid segment ``name``; ``SegmentError`` if its file is invalid, ``NotFoundError`` if none."""
        if name in self.segments:
            return self.segments[name]
        if name in self.errors:
            raise SegmentError(self.errors[name])
        where = f" in {self.folder}" if self.folder else ""
        raise NotFoundError(f"no segment named `{name}`{where}{hint(name, self.names)}"
                            f"{'' if hint(name, self.names) else '. `crmseg segment list` shows them.'}")

    def add(self, spec: SegmentSpec) -> None:
        self.segments[spec.name] = spec
        if spec.source is not None:
            self.files[spec.name] = spec.source


def load_library(folder: Path | None, settings: Settings) -> SegmentLibrary:
    """Load every ``*.yaml`` / ``*.yml`` of ``folder`` (missing folder: an empty library)."""
    library = SegmentLibrary(folder=folder)
    if folder is None or not Path(folder).is_dir():
        return library
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix in SEGMENT_SUFFIXES and p.is_file())
    for path in paths:
        try:
            spec = load_segment_file(path, settings)
        except SegmentError as e:
            library.errors[path.stem] = str(e)
            library.files[path.stem] = path
            continue
        if spec.name in library.segments:
            other = library.files[spec.name]
            library.errors[spec.name] = (f"{path}: the segment name `{spec.name}` is also used by {other}; "
                                         "give each segment its own name.")
            del library.segments[spec.name]
            continue
        library.add(spec)
    return library


def library_for(settings: Settings) -> SegmentLibrary:
    """The library of the settings' segments folder."""
    return load_library(settings.segments_path, settings)
