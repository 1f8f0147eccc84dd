"""Project settings from ``crmseg.yaml`` (SPEC §7).

Every key is optional and has a default; a missing file means all defaults.
The models refuse unknown keys, and the error names the file, the line, the
key and the closest valid key, because a misspelt threshold silently left at
its default is worse than a refused file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

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

# Names a custom field may not take: contact columns, fields computed for segments
# (cli/fields.py) and import targets (cli/importing/headers.py). A custom field of one of
# these names would be silently shadowed in segments, or fight for the column on import;
# tests/unit/test_settings.py keeps this list in step with those modules.
RESERVED_FIELD_NAMES = frozenset(
    {
        "id", "email", "first_name", "last_name", "phone", "street", "street2", "postal_code", "city",
        "country", "birth_date", "gender", "organisation", "job_title", "kind", "source",
        "status", "status_reason", "tags", "age", "created_at", "updated_at", "external_id",
        "consent_email", "consent_basis", "consent_at", "consent_method", "consent_withdrawn_at",
        "is_inactive", "email_quality", "email_status", "blocklisted", "deceased", "deceased_at",
        "hard_bounced", "hard_bounced_at", "spam_complained", "unsubscribed", "unsubscribed_at",
        "unsubscribe_reason", "unsubscribe_campaign", "bounce_campaign",
        "street_number", "house_number", "house_number_suffix", "box_number",
        "name_prefix", "name_first_last", "name_last_first",
        "lifecycle_stage", "rfm_segment", "rfm_r", "rfm_f", "rfm_m", "lead_score", "lead_stage",
        "engagement_score", "last_activity_at", "first_gift_at", "last_gift_at", "total_given", "gift_count",
    }
)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# What DuckDB's memory_limit accepts, from a few megabytes up (a limit in bytes or KB stops every query).
_MEMORY = re.compile(r"(?i)\d+(\.\d+)?\s*(%|[mgt]i?b?|(mega|giga|tera)bytes?)")

# Strict numbers: YAML's `true` is not the count 1, nor "5" the number 5.
Count = Annotated[int, Field(strict=True)]
Number = Annotated[float, Field(strict=True)]


def field_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a custom field, or None when it can."""
    if not _IDENTIFIER.match(name):
        return f"custom field name `{name}` must be lower-case letters, digits and _, starting with a letter"
    if name in RESERVED_FIELD_NAMES:
        return (f"`{name}` is a built-in field, which a custom field of that name would shadow; give yours "
                "another name (its `label` or `aliases` can still match the column header)")
    return None


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        # `cleaning:` with every line under it commented out is null: it means the defaults.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def _number_as_text(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class FieldDefinition(StrictModel):
    """A custom field: its type, its options (select kinds) and whether it identifies a contact."""

    type: FieldType
    # Numbers are options too (`options: [1, 2, 3]`); they are compared as text.
    options: list[Annotated[str, BeforeValidator(_number_as_text)]] | None = None
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
    soft_bounce_limit: Count = Field(5, ge=1)
    inactive_months: Count = Field(6, ge=1)
    activity_types: list[str] = [
        "email_open", "email_click", "donation", "purchase", "membership", "event_attendance", "meeting",
    ]
    retention_months: Count | None = Field(None, ge=1)
    role_addresses: Literal["flag", "suppress"] = "flag"


class DuplicateSettings(StrictModel):
    auto_merge_threshold: Number = Field(0.95, ge=0, le=1)
    review_threshold: Number = Field(0.80, ge=0, le=1)
    weights: dict[Literal["name", "address", "phone", "birth_date", "email"], Number] = {
        "name": 0.4, "address": 0.2, "phone": 0.2, "birth_date": 0.2,
    }

    @model_validator(mode="after")
    def _ordered(self) -> "DuplicateSettings":
        if self.review_threshold > self.auto_merge_threshold:
            raise ValueError("review_threshold must not exceed auto_merge_threshold")
        return self


class LeadRule(StrictModel):
    points: Count
    when: dict[str, Any]
    name: str | None = None


class LeadSettings(StrictModel):
    evaluation_threshold: Count = 30
    decision_threshold: Count = 60
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
    engagement_half_life_days: Count = Field(90, ge=1)
    leads: LeadSettings = LeadSettings()


class LifecycleSettings(StrictModel):
    new_customer_days: Count = Field(90, ge=1)
    inactive_months: Count = Field(12, ge=1)
    lost_months: Count = Field(24, ge=1)

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
        import phonenumbers

        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            known = {"UK": "GB", "EL": "GR"}.get(code)
            hint = f" (`{code}` is written `{known}`)" if known else ""
            raise ValueError(
                f"`{value}` is not a country code{hint}; give the two-letter ISO code of a country, such as FR, BE or GB"
            )
        return code

    @field_validator("list_separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if value == "auto":
            return value
        if value.lower() == "tab":
            return "\t"
        if not value:
            raise ValueError("is empty (a bare | starts a block of text in YAML): write the character in quotes, '|'")
        if any(ch.isalnum() for ch in value):
            raise ValueError(
                f"`{value}` cannot separate items; write auto, tab, or the character between items "
                "in quotes, such as '|' or ';'"
            )
        return value

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.fullmatch(value.strip()):
            raise ValueError(f"`{value}` is not an amount of memory; write it like 4GB or 500MB (or 50% of the machine)")
        return value.strip()

    @field_validator("fields")
    @classmethod
    def _field_names(cls, fields: dict[str, FieldDefinition]) -> dict[str, FieldDefinition]:
        for name in fields:
            problem = field_name_problem(name)
            if problem:
                raise ValueError(problem)
        return fields

    @property
    def segments_path(self) -> Path:
        """The segments folder, resolved against the settings file's folder (``~`` is the home folder)."""
        return (self.base_dir / Path(self.segments_dir).expanduser()).resolve()

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
        raise ConfigError(
            f"{document.path}: the settings file must be a mapping of keys to values (`key: value` lines), "
            f"not {_yaml_kind(data)}. See README, Settings, or run `crmseg init` in an empty folder for a commented example."
        )
    fix = f"\nFix {document.path.name} (see README, Settings) and run again."
    problems = _field_problems(data.get("fields"), document)
    if problems:
        raise ConfigError("\n".join(problems) + fix)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        messages = []
        for error in e.errors():
            loc = tuple(error["loc"])
            where = document.where(loc)
            path = tuple(p for p in loc if p != "[key]")
            key = ".".join(str(p) for p in path)
            if error["type"] == "extra_forbidden" or (loc[-1:] == ("[key]",) and error["type"] == "literal_error"):
                choices = (re.findall(r"'([^']*)'", error["ctx"]["expected"]) if error["type"] == "literal_error"
                           else _valid_keys_at(Settings, loc[:-1]))
                hint = did_you_mean(str(path[-1]), choices)
                messages.append(f"{where}: unknown key `{key}`.{hint}")
            else:
                messages.append(f"{where}: `{key}`: {_explain(error, document.plain.get(loc))}.")
        raise ConfigError("\n".join(messages) + fix) from e
    _check_event_types(settings, document)
    _check_multiselect_options(settings, document)
    settings.base_dir = document.path.parent.resolve()
    settings.source = document.path
    settings._document = document
    return settings


def _yaml_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a line of text"
    return f"a single value ({value!r})"


def _explain(error: dict[str, Any], written: str | None) -> str:
    """Pydantic's message for a bad value, in the words of a YAML file."""
    kind, message = error["type"], error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "should be a mapping of keys to values (indented `key: value` lines, or {key: value})"
    elif kind in ("list_type",):
        message = "should be a list, such as [a, b] or one `- item` line each"
    elif kind in ("int_type", "float_type") and isinstance(error.get("input"), bool):
        message = "should be a number, not true or false"
    elif kind == "int_type":
        message = "should be a whole number, such as 6"
    elif kind == "float_type":
        message = "should be a number, such as 0.8"
    elif kind == "string_type" and written is not None:
        message = (f"should be text; YAML reads the bare `{written}` as {error.get('input')!r}: "
                   f"write it in quotes, '{written}'")
    return message


def _field_problems(fields: Any, document: YamlDocument) -> list[str]:
    """Custom field names that cannot be used, and a second ``external_id: true``, with their lines.

    Contacts match on one external id: with two fields declaring it, a file
    holding one and a file holding the other would match different people
    sharing a number.
    """
    if not isinstance(fields, dict):
        return []
    problems = []
    first_key: str | None = None
    for name, spec in fields.items():
        problem = field_name_problem(str(name))
        if problem:
            problems.append(f"{document.where(('fields', name))}: `fields.{name}`: {problem}.")
        if isinstance(spec, dict) and spec.get("external_id") is True:
            if first_key is None:
                first_key = str(name)
            else:
                problems.append(
                    f"{document.where(('fields', name, 'external_id'))}: `fields.{name}.external_id`: only one "
                    f"field may be the external id, and `{first_key}` already is "
                    f"({document.where(('fields', first_key, 'external_id'))}). Keep one; the other stays an ordinary field."
                )
    return problems


# What `list_separator: auto` splits a multiselect or tag cell on (cli/importing/values.py).
AUTO_SEPARATORS = ("|", ";", ",", ":::")


def _check_multiselect_options(settings: Settings, document: YamlDocument) -> None:
    """Refuse a multiselect option that holds the list separator: no cell could ever match it.

    ``Protection animale, faune`` is split into two values on import, neither
    of them an option, and every contact loses the interest.
    """
    separators = AUTO_SEPARATORS if settings.list_separator == "auto" else (settings.list_separator,)
    messages = []
    for name, spec in settings.fields.items():
        if spec.type != "multiselect":
            continue
        for index, option in enumerate(spec.options or []):
            found = next((sep for sep in separators if sep in option), None)
            if found:
                shown = "tab" if found == "\t" else f"`{found}`"
                messages.append(
                    f"{document.where(('fields', name, 'options', index))}: `fields.{name}.options`: the option "
                    f"`{option}` holds {shown}, which separates the items of a cell on import, so no cell could "
                    "match it. Reword the option, or set `list_separator` to a character it does not hold."
                )
    if messages:
        raise ConfigError("\n".join(messages) + f"\nFix {document.path.name} (see README, Settings) and run again.")


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
