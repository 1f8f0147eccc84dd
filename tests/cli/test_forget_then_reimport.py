"""A forgotten person stays forgotten when an old file brings their row back."""

from __future__ import annotations

import json


def test_gdpr_forget_then_reimport_an_old_file(invoke, tmp_path, con):
    con.close()
    first = tmp_path / "export-2025.csv"
    first.write_text(
        "Email;Prénom;Nom;Téléphone\n"
        "marie.dupont@exemple.fr;Marie;Dupont;06 12 34 56 78\n"
        "paul.martin@exemple.fr;Paul;Martin;\n",
        encoding="utf-8",
    )
    assert invoke("import", "contacts", str(first)).exit_code == 0
    forget = invoke("gdpr", "forget", "Marie.Dupont@exemple.fr")
    assert forget.exit_code == 0, forget.stderr

    older = tmp_path / "old-export-2023.csv"
    older.write_text(
        "Email;Prénom;Nom;Téléphone\n"
        "MARIE.DUPONT@exemple.fr ;Marie;Dupont;0612345678\n"
        ";Marie;Dupont;+33 6 12 34 56 78\n"
        "jean.roux@exemple.fr;Jean;Roux;\n",
        encoding="utf-8",
    )
    result = invoke("--json", "import", "contacts", str(older))
    assert result.exit_code == 0, result.stderr
    summary = json.dumps(json.loads(result.stdout))
    assert '"skipped": 2' in summary

    found = invoke("--json", "contacts", "find", "Dupont")
    assert found.exit_code == 0
    assert "marie" not in found.stdout.lower()
    jean = invoke("--json", "contacts", "find", "Roux")
    assert "jean.roux@exemple.fr" in jean.stdout


def test_a_partner_sharing_the_forgotten_person_s_landline_is_imported(invoke, tmp_path, con):
    con.close()
    first = tmp_path / "foyer.csv"
    first.write_text("Email;Prénom;Nom;Téléphone\nmarie.dupont@exemple.fr;Marie;Dupont;04 78 12 34 56\n", encoding="utf-8")
    invoke("import", "contacts", str(first))
    assert invoke("gdpr", "forget", "marie.dupont@exemple.fr").exit_code == 0
    later = tmp_path / "foyer-2026.csv"
    later.write_text(
        "Email;Prénom;Nom;Téléphone\n"
        "michel.dupont@exemple.fr;Michel;Dupont;04 78 12 34 56\n"  # her husband: his own email, their landline
        ";Marie;Dupont;04 78 12 34 56\n",  # her, without an email: the phone is all that says who
        encoding="utf-8",
    )
    summary = json.loads(invoke("--json", "import", "contacts", str(later)).stdout)["imports"][0]
    assert (summary["inserted"], summary["skipped"]) == (1, 1)
    found = json.loads(invoke("--json", "contacts", "find", "Dupont").stdout)
    assert [c["email"] for c in found["contacts"]] == ["michel.dupont@exemple.fr"]
