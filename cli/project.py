"""Creating a new project: the database, a commented ``crmseg.yaml`` and ``segments/``.

The templates ship inside the package (``cli/templates``) so that ``init``
works from an installed wheel. Existing files are never overwritten.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cli.settings import CONFIG_FILE_NAME, load_settings
from cli.store import LATEST_VERSION, current_version, open_database


@dataclass
class InitResult:
    """What ``init_project`` created, and what it found already there."""

    database: Path
    config: Path
    segments_dir: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    schema_version: int = LATEST_VERSION


def init_project(db_path: Path, config_path: Path | None = None, *, wait: float = 30.0) -> InitResult:
    """Create the database, settings file and example segments folder beside ``db_path``."""
    db_path = Path(db_path)
    config_path = Path(config_path) if config_path else db_path.parent / CONFIG_FILE_NAME
    # A settings file already there is kept, and its segments folder is the one to fill;
    # a broken one is reported (file, line) before anything is created.
    segments_dir = load_settings(config_path).segments_path if config_path.exists() else config_path.parent / "segments"
    result = InitResult(database=db_path, config=config_path, segments_dir=segments_dir)

    existed = db_path.exists()
    # `init` is where a project's folders begin: the database's, and the settings file's when --config names another.
    db_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    con = open_database(db_path, wait=wait)
    result.schema_version = current_version(con)
    con.close()
    (result.kept if existed else result.created).append(str(db_path))

    templates = resources.files("cli") / "templates"
    if config_path.exists():
        result.kept.append(str(config_path))
    else:
        config_path.write_text((templates / "crmseg.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        result.created.append(str(config_path))

    if segments_dir.exists():
        result.kept.append(str(segments_dir))
    else:
        segments_dir.mkdir(parents=True)
        for template in (templates / "segments").iterdir():
            if template.name.endswith(".yaml"):
                with resources.as_file(template) as source:
                    shutil.copyfile(source, segments_dir / template.name)
        result.created.append(str(segments_dir))
    return result
