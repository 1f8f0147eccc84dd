"""Import: readers (CSV, Excel), header mapping, set-wise normalising, the contacts and events pipelines."""

from cli.importing.contacts import import_contacts
from cli.importing.events import import_events
from cli.importing.headers import map_headers, parse_map_option
from cli.importing.runs import ImportOptions, ImportSummary, import_history, import_problems

__all__ = [
    "ImportOptions",
    "ImportSummary",
    "import_contacts",
    "import_events",
    "import_history",
    "import_problems",
    "map_headers",
    "parse_map_option",
]
