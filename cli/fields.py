"""The contact fields every part of crmseg agrees on.

Import maps columns onto these names, segments compare them, exports write
them. Each built-in field has a type that decides which operators a segment
may use on it; custom fields (``crmseg.yaml``) add theirs with their own
types, and derived fields (computed at the ``--as-of`` date) come last.
"""

from __future__ import annotations

from cli.settings import Settings

# name -> type: text, date, timestamp, boolean, number, list
CONTACT_FIELDS: dict[str, str] = {
    "id": "number",
    "email": "text",
    "external_id": "text",
    "first_name": "text",
    "last_name": "text",
    "phone": "text",
    "street": "text",
    "postal_code": "text",
    "city": "text",
    "country": "text",
    "birth_date": "date",
    "gender": "text",
    "organisation": "text",
    "job_title": "text",
    "kind": "text",
    "source": "text",
    "consent_email": "boolean",
    "consent_basis": "text",
    "consent_at": "timestamp",
    "consent_method": "text",
    "consent_withdrawn_at": "timestamp",
    "status": "text",
    "status_reason": "text",
    "is_inactive": "boolean",
    "email_quality": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}

# ``email_quality`` values set by the ``invalid`` cleaning pass that make an
# address unusable; ``role`` is only a flag (suppressed by setting).
UNUSABLE_EMAIL_QUALITIES = ("invalid_domain", "reserved_domain", "disposable")

# Fields computed per contact at the as-of date (SPEC §5).
DERIVED_FIELDS: dict[str, str] = {
    "tags": "list",
    "age": "number",
    "lifecycle_stage": "text",
    "rfm_segment": "text",
    "rfm_r": "number",
    "rfm_f": "number",
    "rfm_m": "number",
    "lead_score": "number",
    "lead_stage": "text",
    "engagement_score": "number",
    "last_activity_at": "timestamp",
    "first_gift_at": "timestamp",
    "last_gift_at": "timestamp",
    "total_given": "number",
    "gift_count": "number",
}

# Custom field type -> comparison type.
CUSTOM_TYPE_KIND: dict[str, str] = {
    "text": "text",
    "select": "text",
    "multiselect": "list",
    "phone": "text",
    "email": "text",
    "number": "number",
    "date": "date",
    "boolean": "boolean",
}

# Custom field type -> the custom_values column that holds it.
CUSTOM_VALUE_COLUMN: dict[str, str] = {
    "text": "text_value",
    "select": "text_value",
    "phone": "text_value",
    "email": "text_value",
    "number": "number_value",
    "date": "date_value",
    "boolean": "bool_value",
    "multiselect": "list_value",
}


def known_fields(settings: Settings) -> dict[str, str]:
    """Every field a segment or an export may name, with its comparison type."""
    fields = dict(CONTACT_FIELDS)
    fields.update({name: CUSTOM_TYPE_KIND[spec.type] for name, spec in settings.fields.items()})
    fields.update(DERIVED_FIELDS)
    return fields
