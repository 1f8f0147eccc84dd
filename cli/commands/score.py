"""``crmseg score rfm|lifecycle|leads``: compute every score at the as-of date, print one distribution."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from cli.commands.common import app_context, contacts_count, table

if TYPE_CHECKING:
    from cli.scoring import ScoreRun

app = typer.Typer(
    help="Compute RFM, engagement, lead points and lifecycle stages, and show their distribution.\n\nExample: crmseg score rfm",
    no_args_is_help=True,
)


def _run_data(run: ScoreRun) -> dict[str, Any]:
    return {"as_of": run.as_of, "contacts": run.contacts, "seconds": round(run.seconds, 3)}


def _refresh(ctx: typer.Context):
    from cli.scoring import refresh_scores

    app_ctx = app_context(ctx)
    con = app_ctx.connect()
    run = refresh_scores(con, app_ctx.settings, app_ctx.as_of)
    return app_ctx, con, run


@app.command("rfm")
def rfm(ctx: typer.Context) -> None:
    """Score every contact, then show contacts per RFM group and the R x FM grid.

    RFM counts the events of scoring.purchase_types up to --as-of; contacts
    with none have no RFM.

    Example: crmseg score rfm --as-of 2026-11-20
    """
    from cli.scoring import rfm_distribution

    app_ctx, con, run = _refresh(ctx)
    dist = rfm_distribution(con)
    data = {**_run_data(run), **dist}

    def render(console) -> None:
        console.print(
            table(
                f"RFM groups as of {run.as_of} ({dist['scored']} of {dist['contacts']} contacts have a purchase)",
                ["group", "contacts", "share %"],
                [[s["segment"], s["contacts"], s["share"]] for s in dist["segments"]],
            )
        )
        rows = [[r] + dist["grid"][r - 1] for r in range(5, 0, -1)]
        console.print(table("Contacts by recency (R) and frequency-monetary (FM) score",
                            ["R \\ FM", "1", "2", "3", "4", "5"], rows))

    app_ctx.emit(data, render)


@app.command("lifecycle")
def lifecycle(ctx: typer.Context) -> None:
    """Update every lifecycle stage, then show contacts per stage and the changes recorded.

    A change is stored in the stage history only when the stage differs from
    the contact's latest recorded one.

    Example: crmseg score lifecycle --as-of 2026-11-20 --json
    """
    from cli.scoring import lifecycle_distribution

    app_ctx, con, run = _refresh(ctx)
    dist = lifecycle_distribution(con)
    data = {**_run_data(run), **dist, "changes": run.stage_changes}

    def render(console) -> None:
        console.print(
            table(
                f"Lifecycle stages as of {run.as_of}",
                ["stage", "contacts", "share %"],
                [[s["stage"], s["contacts"], s["share"]] for s in dist["stages"]],
            )
        )
        if run.stage_changes:
            console.print(
                table(
                    f"Stage changes recorded by this run ({contacts_count(run.changed_contacts)})",
                    ["from", "to", "contacts"],
                    [[c["from"] or "(first seen)", c["to"], c["contacts"]] for c in run.stage_changes],
                )
            )
        else:
            console.print("No stage changed since the last run.")

    app_ctx.emit(data, render)


@app.command("leads")
def leads(ctx: typer.Context) -> None:
    """Score lead points, then show contacts per lead stage and what each rule matched.

    Rules and thresholds come from scoring.leads in crmseg.yaml; unsubscribed
    and suppressed contacts leave the scheme (stage none, no score).

    Example: crmseg score leads --json
    """
    from cli.scoring import lead_distribution

    app_ctx, con, run = _refresh(ctx)
    dist = lead_distribution(con)
    thresholds = app_ctx.settings.scoring.leads
    rules = [{"rule": h.label, "points": h.points, "contacts": h.contacts} for h in run.lead_rules]
    data = {
        **_run_data(run),
        **dist,
        "evaluation_threshold": thresholds.evaluation_threshold,
        "decision_threshold": thresholds.decision_threshold,
        "rules": rules,
    }

    def render(console) -> None:
        console.print(
            table(
                f"Lead stages as of {run.as_of} (evaluation at {thresholds.evaluation_threshold} points, "
                f"decision at {thresholds.decision_threshold})",
                ["stage", "contacts", "share %"],
                [[s["stage"], s["contacts"], s["share"]] for s in dist["stages"]],
            )
        )
        console.print(f"Out of the scheme (unsubscribed or suppressed): {dist['out_of_scheme']}")
        if rules:
            console.print(table("Rules", ["rule", "points", "contacts matched"],
                                [[r["rule"], r["points"], r["contacts"]] for r in rules]))

    app_ctx.emit(data, render)
