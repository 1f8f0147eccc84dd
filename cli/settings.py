"""Project settings from ``crmseg.yaml`` (SPEC §7).

Every key is optional and has a default; a missing file means all defaults.
The models refuse unknown keys, and the error names the file, the line, the
key and the closest valid key, because a misspelt threshold silently left at
its default is worse than a refused file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from cli.errors import ConfigError
from cli.yamlfile import YamlDocument, did_you_mean, load_yaml

CONFIG_FILE_NAME = "crmseg.yaml"

FieldType = Literal["text", "select", "multiselect", "phone", "number", "date", "boolean", "email"]

BUILTIN_EVENT_TYPES = (
    "donation",
    "purchase",
    "membership",
    "email_sent",
    "email_open",
    "email_click",
    "hard_bounce",
    "soft_bounce",
    "unsubscribe",
    "spam_complaint",
    "event_attendance",
    "meeting",
    "web_visit",
)

# Contact columns a custom field may not shadow.
RESERVED_FIELD_NAMES = frozenset(
    {
        "id", "email", "first_name", "last_name", "phone", "street", "postal_code", "city",
        "country", "birth_date", "gender", "organisation", "job_title", "kind", "source",
        "status", "status_reason", "tags", "age", "created_at", "updated_at", "external_id",
    }
)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class FieldDefinition(StrictModel):
    """A custom field: its type, its options (select kinds) and whether it identifies a contact."""

    type: FieldType
    options: list[str] | None = None
    external_id: bool = False
    description: str | None = None
    label: str | None = None
    # Column headers that mean this field on import, beside its name and label
    # (e.g. ["Centres d'intérêt", "Interessen"]); compared without case or accents.
    aliases: list[str] = []

    @model_validator(mode="after")
    def _options_only_for_selects(self) -> "FieldDefinition":
        if self.options is not None and self.type not in ("select", "multiselect"):
            raise ValueError(f"`options` only applies to select and multiselect fields, not {self.type}")
        return self


class CleaningSettings(StrictModel):
    soft_bounce_limit: int = Field(5, ge=1)
    inactive_months: int = Field(6, ge=1)
    activity_types: list[str] = [
        "email_open", "email_click", "donation", "purchase", "membership", "event_attendance", "meeting",
    ]
    retention_months: int | None = Field(None, ge=1)
    role_addresses: Literal["flag", "suppress"] = "flag"


class DuplicateSettings(StrictModel):
    auto_merge_threshold: float = Field(0.95, ge=0, le=1)
    review_threshold: float = Field(0.80, ge=0, le=1)
    weights: dict[Literal["name", "address", "phone", "birth_date", "email"], float] = {
        "name": 0.4, "address": 0.2, "phone": 0.2, "birth_date": 0.2,
    }

    @model_validator(mode="after")
    def _ordered(self) -> "DuplicateSettings":
        if self.review_threshold > self.auto_merge_threshold:
            raise ValueError("review_threshold must not exceed auto_merge_threshold")
        return self


class LeadRule(StrictModel):
    points: int
    when: dict[str, Any]
    name: str | None = None


class LeadSettings(StrictModel):
    evaluation_threshold: int = 30
    decision_threshold: int = 60
    rules: list[LeadRule] = [
        LeadRule(points=10, when={"job_title": {"is_null": False}}),
        LeadRule(points=20, when={"event": {"type": "email_click", "within": "30 days"}}),
    ]

    @model_validator(mode="after")
    def _ordered(self) -> "LeadSettings":
        # Reversed, a contact between the two would be "decision" without ever being "evaluation".
        if self.evaluation_threshold > self.decision_threshold:
            raise ValueError("evaluation_threshold must not exceed decision_threshold")
        return self


class ScoringSettings(StrictModel):
    purchase_types: list[str] = ["donation", "membership", "purchase"]
    engagement_half_life_days: int = Field(90, ge=1)
    leads: LeadSettings = LeadSettings()


class LifecycleSettings(StrictModel):
    new_customer_days: int = Field(90, ge=1)
    inactive_months: int = Field(12, ge=1)
    lost_months: int = Field(24, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "LifecycleSettings":
        # Reversed, lost would always win and no one would ever be an inactive customer.
        if self.inactive_months > self.lost_months:
            raise ValueError("inactive_months must not exceed lost_months")
        return self


class ExportPreset(StrictModel):
    columns: list[str] | None = None
    format: Literal["csv", "xlsx", "json", "parquet"] | None = None
    preset: Literal["mailchimp", "brevo", "mailjet"] | None = None


class Settings(StrictModel):
    """The whole of ``crmseg.yaml``."""

    default_region: str = "FR"
    segments_dir: str = "segments"
    list_separator: str = "auto"
    memory_limit: str = "4GB"
    fields: dict[str, FieldDefinition] = {}
    event_types: list[str] = []
    cleaning: CleaningSettings = CleaningSettings()
    duplicates: DuplicateSettings = DuplicateSettings()
    scoring: ScoringSettings = ScoringSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    exports: dict[str, ExportPreset] = {}

    # Where the settings came from; segments_dir is relative to it.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    source: Path | None = Field(default=None, exclude=True)
    # The line of each key path in the file, to name it in later errors (lead rules).
    _document: YamlDocument | None = PrivateAttr(default=None)

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("default_region must be a two-letter country code such as FR")
        return value.upper()

    @field_validator("fields")
    @classmethod
    def _field_names(cls, fields: dict[str, FieldDefinition]) -> dict[str, FieldDefinition]:
        for name in fields:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"custom field name `{name}` must be lower-case letters, digits and _")
            if name in RESERVED_FIELD_NAMES:
                raise ValueError(f"custom field `{name}` would shadow a built-in contact field")
        return fields

    @property
    def segments_path(self) -> Path:
        """The segments folder, resolved against the settings file's folder."""
        return (self.base_dir / self.segments_dir).resolve()

    @property
    def all_event_types(self) -> tuple[str, ...]:
        """Built-in event types followed by the declared ones."""
        return BUILTIN_EVENT_TYPES + tuple(t for t in self.event_types if t not in BUILTIN_EVENT_TYPES)

    def where(self, key_path: tuple[Any, ...]) -> str:
        """``file, line N`` of a key of the settings file, for messages (``crmseg.yaml`` without a file)."""
        if self._document is not None:
            return self._document.where(key_path)
        return str(self.source) if self.source else CONFIG_FILE_NAME

    @property
    def external_id_fields(self) -> list[str]:
        """Custom fields declared as match keys."""
        return [name for name, spec in self.fields.items() if spec.external_id]


def _valid_keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model reached by following ``loc`` (for suggestions)."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        else:
            args = getattr(current, "__args__", ())
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if models else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name, info in current.model_fields.items() if not info.exclude]
    return []


def settings_from_document(document: YamlDocument) -> Settings:
    """Validate loaded YAML into ``Settings``; errors name file, line and key."""
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{document.path}: the settings file must be a mapping of keys to values.")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        messages = []
        for error in e.errors():
            loc = tuple(error["loc"])
            where = document.where(loc)
            key = ".".join(str(p) for p in loc)
            if error["type"] == "extra_forbidden":
                hint = did_you_mean(str(loc[-1]), _valid_keys_at(Settings, loc[:-1]))
                messages.append(f"{where}: unknown key `{key}`.{hint}")
            else:
                messages.append(f"{where}: `{key}`: {error['msg']}.")
        raise ConfigError("\n".join(messages) + "\nFix crmseg.yaml (see README, Settings) and run again.") from e
    _check_event_types(settings, document)
    settings.base_dir = document.path.parent.resolve()
    settings.source = document.path
    settings._document = document
    return settings


def _check_event_types(settings: Settings, document: YamlDocument) -> None:
    """Refuse an unknown type in ``purchase_types`` or ``activity_types``.

    A misspelt type matches no event: with ``purchase_types: [donaton]`` every
    donor would silently become a prospect (and the stage history say so).
    """
    known = list(settings.all_event_types)
    messages = []
    for section, key, types in (("scoring", "purchase_types", settings.scoring.purchase_types),
                                ("cleaning", "activity_types", settings.cleaning.activity_types)):
        for index, name in enumerate(types):
            if name not in known:
                messages.append(
                    f"{document.where((section, key, index))}: `{section}.{key}`: unknown event type `{name}`."
                    f"{did_you_mean(name, known)} Declare other types under `event_types`."
                )
    if messages:
        raise ConfigError("\n".join(messages) + "\nFix crmseg.yaml (see README, Settings) and run again.")


def load_settings(path: Path | None, *, default_dir: Path | None = None) -> Settings:
    """Load the settings file.

    ``path`` is an explicit ``--config`` (an error when it does not exist);
    otherwise ``crmseg.yaml`` beside the database (``default_dir``) is read
    when present, and all defaults apply when it is not.
    """
    if path is None:
        folder = Path(default_dir) if default_dir is not None else Path.cwd()
        candidate = folder / CONFIG_FILE_NAME
        if not candidate.exists():
            return Settings(base_dir=folder.resolve())
        path = candidate
    elif not Path(path).exists():
        raise ConfigError(f"{path}: no such settings file. Check --config, or run `crmseg init`.")
    return settings_from_document(load_yaml(Path(path)))
