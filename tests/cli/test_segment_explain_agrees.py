"""``segment explain`` says in or out exactly as ``segment run`` records and exports, for every contact.

Two bases: the demo (the sample association after import, clean and score)
and a generated one full of awkward rows (no email, no birth date, no postal
code, suppressed, merged, erased, deceased, withdrawn consent, inactive) with
segments over every kind of condition. Each segment is run at the as-of date
and at a replay date before the newest events, and every contact's explain
verdict is compared with the run's recorded members and with its list.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from cli.demo import DEMO_AS_OF, run_demo
from cli.segmenting import library_for
from cli.segmenting.runner import ensure_inputs, explain_contacts, export_columns, member_frame, run_segment
from cli.settings import load_settings
from cli.store import open_database

SETTINGS = """\
fields:
  interests: {type: multiselect, options: [animaux, environnement, education]}
  theme: {type: select, options: [chats, chiens, oiseaux]}
  level: {type: number}
  joined_on: {type: date}
  volunteer: {type: boolean}
  member_number: {type: text, external_id: true}
scoring:
  purchase_types: [donation, membership]
  leads:
    evaluation_threshold: 10
    decision_threshold: 30
    rules:
      - {points: 10, when: {job_title: {is_null: false}}}
      - {points: 20, when: {event: {type: email_click, within: 30 days}}}
"""
SEGMENTS = {
    "age": "purpose: analysis\nwhere: {age: {gte: 40}}\n",
    "not-age": "purpose: analysis\nwhere: {not: {age: {lt: 40}}}\n",
    "ne-city": "purpose: analysis\nwhere: {city: {ne: Lyon}}\n",
    "not-in-postcode": "purpose: postal\nwhere: {postal_code: {not_in: ['69001', '75011']}}\n",
    "email-all": "where: {all: []}\n",
    "email-inactive": "include_inactive: true\nwhere: {all: []}\n",
    "postal-all": "purpose: postal\nwhere: {all: []}\n",
    "phone-all": "purpose: phone\nwhere: {all: []}\n",
    "interests-any": "purpose: analysis\nwhere: {interests: {contains_any: [animaux, education]}}\n",
    "interests-all": "purpose: analysis\nwhere: {interests: {contains_all: [animaux, education]}}\n",
    "no-interests": "purpose: analysis\nwhere: {interests: {is_null: true}}\n",
    "theme": "purpose: analysis\nwhere: {theme: {ne: chats}}\n",
    "level": "purpose: analysis\nwhere: {any: [{level: {between: [0, 2.5]}}, {level: {lt: 0}}]}\n",
    "joined": "purpose: analysis\nwhere: {joined_on: {older_than: 5 years}}\n",
    "volunteer": "purpose: postal\nwhere: {volunteer: {ne: true}}\n",
    "tags": "where: {tags: {contains_any: [vip, presse]}}\n",
    "tag": "purpose: postal\nwhere: {tag: benevole}\n",
    "gift-window": "purpose: analysis\nwhere: {event: {type: donation, within: 6 months}}\n",
    "no-gift-year": "purpose: analysis\nwhere: {not: {event: {type: donation, within: 12 months}}}\n",
    "gift-count": "purpose: analysis\nwhere: {event: {type: donation, within: 24 months, count: {gte: 2}}}\n",
    "never-gave": "purpose: analysis\nwhere: {event: {type: donation, count: {eq: 0}}}\n",
    "small-givers": "purpose: analysis\nwhere: {event: {type: donation, sum: {lt: 20}, count: {gte: 0}}}\n",
    "campaign": "purpose: analysis\nwhere: {event: {type: donation, campaign: noel, since: 2024-01-01, until: 2025-06-30}}\n",
    "gift-fields": "purpose: analysis\nwhere: {any: [{total_given: {gte: 100}}, {gift_count: 0}, {last_gift_at: {older_than: 1 year}}]}\n",
    "first-gift": "where: {first_gift_at: {within: 90 days}}\n",
    "idle": "purpose: analysis\nwhere: {last_activity_at: {older_than: 6 months}}\n",
    "rfm": "where: {rfm_segment: {in: [champions, loyal, at_risk]}}\n",
    "not-rfm": "purpose: analysis\nwhere: {not: {rfm_segment: {in: [champions, loyal]}}}\n",
    "stage": "purpose: analysis\nwhere: {lifecycle_stage: {ne: prospect}}\n",
    "leads": "purpose: analysis\nwhere: {not: {lead_score: {gte: 10}}}\n",
    "stage-change": "purpose: analysis\nwhere: {stage_change: {to: inactive_customer, within: 12 months}}\n",
    "chain-a": "where: {all: [{tag: newsletter}, {in_segment: chain-b}]}\n",
    "chain-b": "purpose: postal\nwhere: {any: [{in_segment: interests-any}, {not: {in_segment: age}}]}\n",
    "chain-c": "purpose: phone\nwhere: {not: {in_segment: chain-a}}\n",
    "nested": ("where: {any: [{all: [{tag: vip}, {not: {event: {type: donation, within: 1 year}}}]}, "
               "{not: {any: [{age: {lt: 30}}, {city: Paris}]}}]}\n"),
    "birthday": "purpose: analysis\nwhere: {birth_date: {birthday_within: 30 days}}\n",
    "group": "purpose: analysis\nwhere: {in_group: conseil}\n",
}


def _write_base(folder: Path, seed: int = 7, count: int = 150) -> None:
    rng = random.Random(seed)
    (folder / "crmseg.yaml").write_text(SETTINGS, encoding="utf-8")
    (folder / "segments").mkdir()
    for name, text in SEGMENTS.items():
        (folder / "segments" / f"{name}.yaml").write_text(text, encoding="utf-8")
    firsts, lasts = ["Marie", "Jean", "Anne", "Luc", "Zoé", "Paul", "Inès", "Hugo"], ["Dupont", "Martin", "Roux", "Petit"]
    rows, keys = [], []
    for i in range(count):
        first, last = rng.choice(firsts), rng.choice(lasts)
        email = f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}{i}@free.fr" if rng.random() < 0.8 else ""
        phone = f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}" if rng.random() < 0.5 else ""
        street = f"{i} rue Haute" if rng.random() < 0.6 else ""
        postcode = rng.choice(["69001", "69003", "75011", "13008", "", ""])
        city = rng.choice(["Lyon", "Paris", "", "Marseille"])
        birth = (date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))).strftime("%d/%m/%Y") if rng.random() < 0.6 else ""
        member = f"ADH-{i:05d}" if not email or rng.random() < 0.5 else ""
        if not (email or phone or member):
            street, postcode = f"{i} rue Basse", "69002"
        optin = rng.choice(["Oui", "Non", "", "Oui"])
        rows.append([
            rng.choice(["Mme", "M.", ""]), first, last, email, phone, street, postcode, city, birth,
            "|".join(rng.sample(["animaux", "environnement", "education"], rng.randint(0, 3))),
            rng.choice(["chats", "chiens", "oiseaux", ""]), rng.choice(["", "0", "1", "2,5", "10", "-3"]),
            (date(2015, 1, 1) + timedelta(days=rng.randint(0, 4300))).isoformat() if rng.random() < 0.5 else "",
            rng.choice(["oui", "non", ""]), member, "|".join(rng.sample(["newsletter", "vip", "benevole", "presse"], rng.randint(0, 2))),
            optin, (date(2020, 1, 1) + timedelta(days=rng.randint(0, 2400))).strftime("%d/%m/%Y") if optin == "Oui" else "",
            rng.choice(["", "", "Vétérinaire"]), rng.choice(["", "membership", "consent", "legitimate_interest"]),
        ])
        if email or member:
            keys.append((email, member))
    for j in range(4):  # the same people under another address: `clean` merges them
        twin = list(rows[j])
        twin[3], twin[14] = (twin[3] or f"twin{j}@free.fr").replace("@free.fr", "@laposte.net"), ""
        rows.append(twin)
    with (folder / "contacts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Civilité", "Prénom", "Nom", "Email", "Téléphone", "Adresse", "Code postal", "Ville",
                         "Date de naissance", "Centres d'intérêt", "theme", "level", "joined_on", "volunteer",
                         "N° adhérent", "Tags", "Opt-in email", "Date opt-in", "Profession", "Base légale"])
        writer.writerows(rows)
    types = ["donation", "donation", "membership", "email_open", "email_click", "unsubscribe", "hard_bounce",
             "spam_complaint", "purchase", "web_visit"]
    with (folder / "events.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "N° adhérent", "Type", "Date", "Montant", "Campagne"])
        for email, member in keys:
            for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8])):
                kind = rng.choice(types)
                if kind in ("unsubscribe", "hard_bounce", "spam_complaint") and rng.random() < 0.6:
                    kind = "email_open"
                if not email and not kind.startswith(("donation", "membership", "purchase", "web")):
                    kind = "donation"
                day = date(2023, 1, 1) + timedelta(days=rng.randint(0, 1500))
                amount = str(rng.choice([5, 10, 25, 50, 100])) if kind in ("donation", "membership", "purchase") and rng.random() < 0.9 else ""
                writer.writerow([email, member, kind, f"{day} 10:00:00", amount, rng.choice(["", "noel"])])


def _disagreements(db_path: Path, as_ofs: list[date]) -> tuple[int, list[str]]:
    settings = load_settings(None, default_dir=db_path.parent)
    library = library_for(settings)
    con = open_database(db_path, wait=0, memory_limit="1GB")
    pairs, problems = 0, []
    try:
        ids = [r[0] for r in con.execute("SELECT id FROM contacts").fetchall()]
        for as_of in as_ofs:
            for name in library.names:
                spec = library.get(name)
                summary = ensure_inputs(con, [spec], settings=settings, as_of=as_of, library=library)
                run = run_segment(con, spec, settings=settings, as_of=as_of, library=library, summary=summary)
                recorded = {r[0] for r in con.execute(
                    "SELECT contact_id FROM segment_members WHERE run_id = ?", [run.run_id]).fetchall()}
                listed = member_frame(con, settings, as_of, run.run_id, ["id", *[c for c in export_columns(spec) if c != "id"]],
                                      summary=summary)["id"].to_list()
                if sorted(listed) != sorted(recorded):
                    problems.append(f"{name} as of {as_of}: the list is not the recorded members")
                explained = explain_contacts(con, spec, None, settings=settings, as_of=as_of, library=library)
                assert sorted(e.contact_id for e in explained) == sorted(ids)
                for e in explained:
                    pairs += 1
                    if e.member != (e.contact_id in recorded):
                        problems.append(f"{name} as of {as_of}: #{e.contact_id} explain says "
                                        f"{'in' if e.member else 'out'}, the run says the opposite")
    finally:
        con.close()
    return pairs, problems


def test_explain_agrees_with_run_on_a_base_of_awkward_contacts(invoke, db_path):
    folder = db_path.parent
    _write_base(folder)
    as_of = ["--as-of", "2026-06-15"]
    assert invoke(*as_of, "import", "contacts", str(folder / "contacts.csv"), "--tag", "imported").exit_code == 0
    assert invoke(*as_of, "import", "events", str(folder / "events.csv")).exit_code == 0
    assert invoke(*as_of, "clean").exit_code == 0
    assert invoke(*as_of, "group", "create", "conseil").exit_code == 0
    assert invoke(*as_of, "group", "add", "conseil", "--segment", "tags").exit_code == 0
    con = open_database(db_path, wait=0)
    forgotten = con.execute("SELECT email FROM contacts WHERE status = 'active' AND email IS NOT NULL "
                            "ORDER BY id LIMIT 1").fetchone()[0]
    con.execute("UPDATE contacts SET status = 'suppressed', status_reason = 'deceased' WHERE id IN (10, 20)")
    con.execute("UPDATE contacts SET consent_email = true, consent_at = '2025-01-01', consent_withdrawn_at = '2025-06-01' "
                "WHERE id IN (11, 21)")
    statuses = dict(con.execute("SELECT status, count(*) FROM contacts GROUP BY 1").fetchall())
    con.close()
    assert invoke(*as_of, "gdpr", "forget", forgotten, "--no-compact").exit_code == 0
    assert statuses.get("merged") and statuses.get("suppressed")

    pairs, problems = _disagreements(db_path, [date(2026, 6, 15), date(2025, 1, 10)])
    assert pairs > 2 * len(SEGMENTS) * 140
    assert problems == []


def test_explain_agrees_with_run_on_the_demo_base(tmp_path):
    report = run_demo(tmp_path / "demo")
    pairs, problems = _disagreements(report.database, [DEMO_AS_OF, date(2026, 3, 1)])
    assert pairs > 2 * 8 * 1900
    assert problems == []
