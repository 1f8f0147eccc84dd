"""Writing segment lists to files: CSV, Excel, JSON, Parquet.

``write_export`` takes a Polars frame and writes it atomically (temporary
file in the same folder, then ``os.replace``), so a cron job never leaves a
half-written list. CSV and Excel cells are made safe against formula
injection (``cli.exporting.safe``); presets rename columns to the headers an
emailing tool's importer expects (``cli.exporting.presets``).
"""

from cli.exporting.presets import PRESET_HEADERS, apply_preset
from cli.exporting.safe import neutralise_frame, neutralise_text
from cli.exporting.writers import FORMATS, format_for_path, write_export

__all__ = [
    "FORMATS",
    "PRESET_HEADERS",
    "apply_preset",
    "format_for_path",
    "neutralise_frame",
    "neutralise_text",
    "write_export",
]
