"""A CRM's deceased flag or date of death: the person is written to by no channel again.

CiviCRM exports ``Is Deceased``/``Deceased Date``, NationBuilder
``is_deceased``, French association files ``Décédé``. Such a contact is
suppressed with reason ``deceased`` (kept in the ledger, so a later file
without the flag does not bring them back) and leaves email, postal and phone
lists; analysis segments still count them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

CIVICRM = (
    "Contact ID,First Name,Last Name,Email,Phone,Street Address,Postal Code,City,Is Deceased,Deceased Date\n"
    "1,Marie,Vivante,marie@example.org,0612345678,1 rue A,75001,Paris,No,\n"
    "2,Jean,Postal,,0612345679,2 rue B,75002,Paris,Yes,2021-03-04\n"
    "3,Paul,Date,paul@example.org,,3 rue C,75003,Paris,,2020-01-01\n"
    "4,Lou,Flou,lou@example.org,,4 rue D,75004,Paris,peut-être,\n"
    "5,Ana,Non,ana@example.org,,5 rue E,75005,Paris,0,inconnue\n"
)


def _import(invoke, path: Path) -> dict:
    result = invoke("import", "contacts", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]


def _run(invoke, project: Path, tmp_path: Path, purpose: str) -> list[str]:
    """Last names exported by a segment of everyone for ``purpose``."""
    (project / "segments").mkdir(exist_ok=True)
    (project / "segments" / f"all-{purpose}.yaml").write_text(f"purpose: {purpose}\nwhere: {{all: []}}\n", encoding="utf-8")
    out = tmp_path / f"{purpose}.csv"
    result = invoke("segment", "run", f"all-{purpose}", "--out", str(out), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return sorted(r.get("last_name") or r.get("email") for r in rows)


def test_deceased_people_leave_email_postal_and_phone_lists(invoke, write, query, project, tmp_path):
    summary = _import(invoke, write("civicrm.csv", CIVICRM))
    assert summary["rejected"] == 0 and summary["inserted"] == 5
    assert "Is Deceased" not in summary["unmapped_columns"] and "Deceased Date" not in summary["unmapped_columns"]
    assert query("SELECT last_name, status, status_reason FROM contacts ORDER BY id") == [
        ("Vivante", "active", None),
        ("Postal", "suppressed", "deceased"),  # no email: suppressed all the same, its phone in the ledger
        ("Date", "suppressed", "deceased"),  # a date of death alone is enough
        ("Flou", "active", None),  # `peut-être` is no answer: an issue, not a death
        ("Non", "active", None),  # the flag says no: a date of death that is no date does not overrule it
    ]
    assert query("SELECT kind, count(*) FROM suppressions WHERE reason = 'deceased' GROUP BY 1 ORDER BY 1") == [
        ("email", 1), ("phone", 1)
    ]
    issues = query("SELECT row_number, column_name, value FROM import_issues ORDER BY 1")
    assert issues == [(5, "Is Deceased", "peut-être"), (6, "Deceased Date", "inconnue")]
    assert _run(invoke, project, tmp_path, "postal") == ["Flou", "Non", "Vivante"]
    assert _run(invoke, project, tmp_path, "phone") == ["Vivante"]
    # Analysis segments still count them (giving history, statistics).
    assert len(_run(invoke, project, tmp_path, "analysis")) == 5


def test_a_later_file_without_the_flag_does_not_bring_them_back(invoke, write, query, project, tmp_path):
    _import(invoke, write("civicrm.csv", CIVICRM))
    newsletter = "Email,Prénom,Nom,Opt-in email\npaul@example.org,Paul,Date,oui\nlou@example.org,Lou,Flou,oui\n"
    _import(invoke, write("newsletter.csv", newsletter))
    assert query("SELECT last_name, status_reason FROM contacts WHERE email = 'paul@example.org'") == [
        ("Date", "deceased")
    ]
    assert _run(invoke, project, tmp_path, "email") == ["Flou"]


def test_deceased_overrides_an_earlier_suppression(invoke, write, query, project, tmp_path):
    # Unsubscribed people stay in postal lists; once known to be dead they leave them too.
    _import(invoke, write("unsub.csv", "Email;Nom;Adresse;Code postal;Ville;Désabonné\nzoe@example.org;Zed;1 rue Z;75001;Paris;oui\n"))
    assert query("SELECT status_reason FROM contacts") == [("unsubscribe",)]
    assert _run(invoke, project, tmp_path, "postal") == ["Zed"]
    _import(invoke, write("deces.csv", "Courriel;Nom;Décédé(e)\nzoe@example.org;Zed;x\n"))
    assert query("SELECT status, status_reason FROM contacts") == [("suppressed", "deceased")]
    assert _run(invoke, project, tmp_path, "postal") == []


def test_dutch_and_german_headers(invoke, write, query):
    _import(invoke, write("leden.csv", "Voornaam;Achternaam;E-mail;Overleden\nAnna;Dijk;anna@example.nl;ja\nBas;Berg;bas@example.nl;nee\n"))
    _import(invoke, write("mitglieder.csv", "Vorname;Nachname;E-Mail;Sterbedatum\nPetra;Schmidt;petra@example.de;03.02.2022\n"))
    assert query("SELECT email FROM contacts WHERE status_reason = 'deceased' ORDER BY 1") == [
        ("anna@example.nl",), ("petra@example.de",)
    ]


def test_an_unreadable_date_of_death_beside_a_no_flag_says_the_person_is_not_marked(invoke, write, query):
    text = "Email;Décédé(e);Date de décès\nvit@example.fr;non;pas sûr\nmort@example.fr;;bientôt\n"
    _import(invoke, write("deces.csv", text))
    assert query("SELECT email, status FROM contacts ORDER BY 1") == [
        ("mort@example.fr", "suppressed"), ("vit@example.fr", "active")
    ]
    assert query("SELECT value, reason FROM import_issues ORDER BY row_number") == [
        ("pas sûr", "not a date, and the deceased flag says no: the person is not marked deceased"),
        ("bientôt", "not a date: the person is marked deceased all the same"),
    ]
