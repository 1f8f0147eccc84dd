"""Segments: the YAML language (model, loader), its compiler to SQL, and the runner.

Public interface, kept stable for the other areas (lead scoring compiles its
rules' ``when`` with ``compile_condition``):

- ``compile_condition(condition, *, settings, as_of, con=None) -> CompiledQuery``
- ``compile_segment(spec, *, settings, as_of, ...) -> CompiledQuery``
- ``load_library(folder, settings)``, ``load_segment_file(path, settings)``
"""

from cli.segmenting.compiler import CompiledQuery, compile_condition, compile_segment
from cli.segmenting.loader import (
    SegmentLibrary,
    library_for,
    load_library,
    load_segment_file,
    load_segment_text,
    parse_condition,
)
from cli.segmenting.model import SegmentSpec

__all__ = [
    "CompiledQuery",
    "SegmentLibrary",
    "SegmentSpec",
    "compile_condition",
    "compile_segment",
    "library_for",
    "load_library",
    "load_segment_file",
    "load_segment_text",
    "parse_condition",
]
