"""``crmseg gdpr export|forget``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.common import app_context, write_stdout

app = typer.Typer(help="The person's rights: access to their data, and erasure.\n\nExample: crmseg gdpr export marie.dupont@example.org --out marie.json", no_args_is_help=True)


@app.command("export")
def export(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The person's email (or, without one, a contact id #123 or a phone)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the JSON document to this file instead of stdout."),
) -> None:
    """Everything held on a person, as one JSON document (stdout, or --out FILE).

    It covers the contact and records merged into it, custom values, tags,
    events, groups, segment memberships, scores, merges, suppressions,
    import rows and issues, cleaning records and audit lines that name them.

    Example: crmseg gdpr export marie.dupont@example.org --out marie.json
    """
    from cli.gdpr import document_text, export_person, write_document

    app = app_context(ctx)
    document = export_person(app.connect(), email, as_of=app.as_of, region=app.settings.default_region)
    if out is None:
        write_stdout(document_text(document))
        return
    path = write_document(document, out)
    app.emit({"written": str(path), "contacts": len(document["contacts"]), "events": len(document["events"])},
             lambda console: console.print(f"Wrote {path} ({len(document['contacts'])} contact records, "
                                           f"{len(document['events'])} events)."))


@app.command("forget")
def forget(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The person's email (or, without one, a contact id #123 or a phone)."),
    compact: bool = typer.Option(
        True, "--compact/--no-compact",
        help="Rewrite the database file afterwards so erased values do not remain in freed blocks (default).",
    ),
) -> None:
    """Erase a person everywhere, keeping only a keyed hash that stops a re-import.

    Removes the contact, records merged into it, their events, memberships,
    scores, merges, import rows and issues that name them, and redacts
    audit details; logs the erasure without the email; then checkpoints and
    rewrites the database file.

    Example: crmseg gdpr forget marie.dupont@example.org
    """
    from cli.erasure import checkpoint, rewrite_database_file
    from cli.gdpr import forget_person

    app = app_context(ctx)
    con = app.connect()
    result = forget_person(con, email, region=app.settings.default_region)
    checkpoint(con)
    # Again for a person already forgotten: it completes a rewrite that was interrupted or skipped.
    if compact and (result.contacts_erased + result.rows_removed or result.already_forgotten):
        rewrite_database_file(app.db_path, con=con)
        app.close()
    data = {
        "erased": result.contacts_erased,
        "rows_removed": result.rows_removed,
        "suppression_keys_added": result.suppression_keys_added,
        "already_forgotten": result.already_forgotten,
        "unkeyed": result.unkeyed,
    }

    def render(console) -> None:
        if result.already_forgotten:
            console.print("This person was already forgotten; nothing is held but the suppression hash.")
            return
        if result.unkeyed:
            console.print(
                f"Forgotten: {result.contacts_erased} contact records and {result.rows_removed} other rows erased. "
                "The person had no email or phone, so nothing can stop a later import from bringing them back: "
                "remove them from the files you import too."
            )
            return
        console.print(
            f"Forgotten: {result.contacts_erased} contact records and {result.rows_removed} other rows erased; "
            "a keyed hash of the address stops any re-import."
        )

    app.emit(data, render)
