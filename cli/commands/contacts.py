"""``crmseg contacts show|find``."""

from __future__ import annotations

import typer

from cli.commands.common import app_context, table

app = typer.Typer(help="Look contacts up.\n\nExample: crmseg contacts show marie.dupont@example.org", no_args_is_help=True)


def _yes_no(value) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


@app.command("show")
def show(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The contact's email, its id (#123, from `contacts find`) or a phone number."),
    events: int = typer.Option(10, "--events", min=0, help="How many recent events to show."),
) -> None:
    """Show one contact: fields, custom values, tags, groups, consent, scores, events, segments.

    Events after --as-of are left out; segments are those whose latest run included the contact.
    A contact without email (a postal donor) is shown by its id or phone.

    Example: crmseg contacts show marie.dupont@example.org   (or: crmseg contacts show "#1234")
    """
    from cli.contacts import contact_profile, resolve_identifier
    from cli.scoring import ensure_fresh_scores

    app = app_context(ctx)
    con = app.connect()
    contact_id, note = resolve_identifier(con, email, region=app.settings.default_region)
    ensure_fresh_scores(con, app.settings, app.as_of)  # its stage and points, not those before the last import
    profile = contact_profile(con, contact_id, as_of=app.as_of, events=events)
    if note:
        profile["note"] = note

    def render(console) -> None:
        fields = profile["contact"]
        if note:
            console.print(f"Note: {note}.")
        rows = [[k, v] for k, v in fields.items() if v is not None and k not in ("id",)]
        rows += [[k, ", ".join(map(str, v)) if isinstance(v, list) else v] for k, v in profile["custom"].items()]
        rows.append(["tags", ", ".join(profile["tags"]) or "-"])
        rows.append(["groups", ", ".join(g["name"] for g in profile["groups"]) or "-"])
        if profile["merged_from"]:
            rows.append(["merged from", ", ".join(profile["merged_from"])])
        console.print(table(f"Contact {fields['id']}", ["field", "value"], rows))
        consent = profile["consent"]
        consent_rows = [
            ["email opt-in", _yes_no(consent["email"])],
            ["legal basis", consent["basis"] or "-"],
            ["given at", consent["at"] or "-"],
            ["how", consent["method"] or "-"],
            ["withdrawn at", consent["withdrawn_at"] or "-"],
        ]
        consent_rows += [[f"suppressed ({s['kind']})", f"{s['reason']} on {s['suppressed_at']:%Y-%m-%d}"] for s in consent["suppressions"]]
        consent_rows.append(["can be emailed", f"{_yes_no(consent['emailable'])}: {consent['emailable_reason']}"])
        console.print(table("Consent", ["", ""], consent_rows))
        if profile["scores"]:
            console.print(table(f"Scores (as of {profile['scores']['as_of']})", ["score", "value"],
                                [[k, v] for k, v in profile["scores"].items() if k != "as_of"]))
        if profile["last_events"]:
            console.print(table(
                f"Last events ({len(profile['last_events'])} of {profile['event_count']})",
                ["when", "type", "amount", "campaign", "channel"],
                [[e["occurred_at"], e["type"], f"{e['amount']} {e['currency'] or ''}".strip() if e["amount"] is not None else "",
                  e["campaign"], e["channel"]] for e in profile["last_events"]],
            ))
        if profile["segments"]:
            console.print(table("In segments (at their last run)", ["segment", "run at", "as of"],
                                [[s["segment"], s["run_at"], s["as_of"]] for s in profile["segments"]]))

    app.emit(profile, render)


@app.command("find")
def find(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Words to look for in names, email, organisation and city, or a phone number."),
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many contacts."),
) -> None:
    """Find live contacts by name, email, organisation, city or phone, ignoring case and accents.

    Every word must appear somewhere: `marie lyon` finds Marie who lives in Lyon.

    Example: crmseg contacts find "helene martin"
    """
    from cli.contacts import find_contacts

    app = app_context(ctx)
    found = find_contacts(app.connect(), text, limit=limit)

    def render(console) -> None:
        if not found:
            console.print(f"No contact matches `{text}`.")
            return
        console.print(table(
            None, ["id", "email", "first name", "last name", "organisation", "city", "phone", "status"],
            [["#" + str(c["id"]), c["email"], c["first_name"], c["last_name"], c["organisation"], c["city"], c["phone"],
              c["status"]] for c in found],
        ))

    app.emit({"query": text, "contacts": found}, render)
