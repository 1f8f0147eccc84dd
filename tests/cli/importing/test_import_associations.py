"""Exports of association-management software: Dolibarr, Paheko, AssoConnect, Sportlink, easyVerein, Belgian files."""

from __future__ import annotations

import json


def _import(invoke, path, *extra, kind: str = "contacts") -> dict:
    result = invoke("import", kind, str(path), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]


def test_a_phone_header_naming_its_line_after_the_word(invoke, write, query):
    # Dolibarr's members export: a member known by a mobile number alone is not rejected.
    dolibarr = (
        '"Réf.","Nom","Prénom","Tél pro","Tél perso","Tél portable","EMail"\n'
        '"4","Leroy","Sophie","","","+33 6 98 76 54 32",""\n'
    )
    s = _import(invoke, write("adherents.csv", dolibarr))
    assert s["rejected"] == 0 and "Tél portable" not in s["unmapped_columns"]
    sportlink = "Roepnaam;Achternaam;Telefoon vast;Telefoon mobiel;Land\nSanne;Jansen;;06-12345678;NL\n"
    s = _import(invoke, write("leden.csv", sportlink))
    assert s["unmapped_columns"] == []
    assert query("SELECT last_name, phone FROM contacts ORDER BY 1") == [
        ("Jansen", "+31612345678"), ("Leroy", "+33698765432")
    ]


def test_the_date_a_member_joined_is_created_at(invoke, write, query):
    sportlink = "Roepnaam;Achternaam;E-mail;Lid sinds;Contributie;IBAN\nAnna;Dijk;anna@example.nl;01-09-2015;€ 25,00;NL91ABNA0417164300\n"
    s = _import(invoke, write("leden.csv", sportlink))
    assert s["mapped_columns"]["Lid sinds"] == "created_at"
    # Bank details and dues stay out of the contact (data minimisation).
    assert s["unmapped_columns"] == ["Contributie", "IBAN"]
    verein = "Vorname;Nachname;E-Mail;Eintrittsdatum;Austrittsdatum\nPetra;Schmidt;petra@example.de;01.01.2010;\n"
    _import(invoke, write("mitglieder.csv", verein))
    assert query("SELECT email, created_at::DATE::VARCHAR FROM contacts ORDER BY 1") == [
        ("anna@example.nl", "2015-09-01"), ("petra@example.de", "2010-01-01")
    ]


def test_a_header_in_two_languages_maps_by_its_halves(invoke, write, query):
    belgian = (
        "Naam / Nom;Voornaam / Prénom;Straat / Rue;Postcode / Code postal;Gemeente / Commune;Land / Pays;E-mail\n"
        "Claes;Els;Nieuwstraat 12;1000;Brussel;België;els@example.be\n"
    )
    s = _import(invoke, write("leden_membres.csv", belgian))
    assert s["unmapped_columns"] == []
    assert query("SELECT first_name, last_name, street, postal_code, city FROM contacts") == [
        ("Els", "Claes", "Nieuwstraat 12", "1000", "Brussel")
    ]
    # Halves naming two fields, or a type, map to nothing.
    s = _import(invoke, write("b.csv", "E-mail;Nom / Email;Type / Soort\nx@example.be;a;b\n"))
    assert s["unmapped_columns"] == ["Nom / Email", "Type / Soort"]


def test_dolibarr_subscriptions_beside_a_type_of_member(invoke, write, query):
    members = '"Nom","Prénom","EMail"\n"Dupont","Marie","marie@example.fr"\n"Martin","Jean","jean@example.fr"\n'
    _import(invoke, write("adherents.csv", members))
    subscriptions = (
        '"Réf.","EMail","Type","Nature","Date début cotisation","Date fin cotisation","Montant cotisation","Mode de règlement"\n'
        '"1","marie@example.fr","Membre actif","Personne physique","01/01/2024","31/12/2024","25,00","Chèque"\n'
        '"2","jean@example.fr","Membre bienfaiteur","Personne physique","15/02/2024","14/02/2025","100,00","Virement"\n'
    )
    s = _import(invoke, write("cotisations.csv", subscriptions), kind="events")
    assert s["rejected"] == 0 and s["mapped_columns"]["Date début cotisation"] == "occurred_at"
    assert "Date fin cotisation" in s["unmapped_columns"]
    assert query("SELECT type, occurred_at::DATE::VARCHAR, amount::VARCHAR, payment_method FROM events ORDER BY 2") == [
        ("membership", "2024-01-01", "25.00", "Chèque"), ("membership", "2024-02-15", "100.00", "Virement")
    ]


def test_a_bank_booking_date_is_the_date(invoke, write, query):
    _import(invoke, write("m.csv", "Vorname;Nachname;E-Mail\nPetra;Schmidt;petra@example.de\n"))
    text = "E-Mail;Buchungsdatum;Betrag;Zahlungsart\npetra@example.de;15.01.2024;\"60,00 €\";Lastschrift\n"
    _import(invoke, write("beitraege.csv", text), "--type", "membership", kind="events")
    assert query("SELECT occurred_at::DATE::VARCHAR, amount::VARCHAR, currency, payment_method FROM events") == [
        ("2024-01-15", "60.00", "EUR", "Lastschrift")
    ]


def test_a_status_column_beside_a_type_column_is_the_payment_status(invoke, write, query):
    _import(invoke, write("m.csv", "Prénom;Nom;Email\nMarie;Dupont;marie@example.fr\n"))
    # AssoConnect's payments: `Statut` before `Type`; and the other way round.
    for name, header, cells in (("a.csv", "Date;Email;Montant;Moyen de paiement;Statut;Type", ("{s};{t}")),
                                ("b.csv", "Date;Email;Montant;Moyen de paiement;Type;Statut", ("{t};{s}"))):
        rows = [("12/09/2023", "25,00 €", "Chèque", "Validé", "Adhésion"),
                ("20/12/2023", "50,00 €", "Carte bancaire", "Validé", "Don"),
                ("21/12/2023", "10,00 €", "Prélèvement SEPA", "En attente", "Don")]
        text = header + "\n" + "".join(
            f"{d};marie@example.fr;{a};{m};" + cells.format(s=st, t=ty) + "\n" for d, a, m, st, ty in rows
        )
        s = _import(invoke, write(name, text), kind="events")
        assert s["mapped_columns"]["Type"] == "type" and s["mapped_columns"]["Statut"] == "payment_status"
        assert s["rejected"] == 1
    assert query("SELECT DISTINCT type, amount::VARCHAR, payment_method FROM events ORDER BY 1") == [
        ("donation", "50.00", "Carte bancaire"), ("membership", "25.00", "Chèque")
    ]


def test_paheko_members_export(invoke, write, query):
    text = (
        '"Numéro","Catégorie","Nom & prénom","Adresse E-Mail","Numéro de téléphone","Code postal","Ville",'
        '"Date d\'inscription","Inscription à la lettre d\'information"\n'
        '"1","Membres actifs","DUPONT Marie","marie@example.fr","0612345678","69003","Lyon","2019-09-14","Oui"\n'
        '"2","Membres d\'honneur","MARTIN Jean","jean@example.fr","","06000","Nice","2020-01-05","Non"\n'
    )
    s = _import(invoke, write("membres.csv", text))
    assert s["unmapped_columns"] == ["Numéro", "Catégorie"]
    assert query("SELECT email, last_name, created_at::DATE::VARCHAR, consent_email FROM contacts ORDER BY 1") == [
        ("jean@example.fr", "MARTIN", "2020-01-05", False), ("marie@example.fr", "DUPONT", "2019-09-14", True)
    ]


def test_sportlink_relatiecode_is_the_member_number(invoke, write, query):
    members = "Relatiecode;Roepnaam;Achternaam;E-mail\nABCD12E;Anna;Dijk;anna@example.nl\n"
    s = _import(invoke, write("leden.csv", members))
    assert s["mapped_columns"]["Relatiecode"] == "member_number"
    # Dues then link by the member code alone.
    dues = "Relatiecode;Datum;Bedrag;Betaalwijze;IBAN\nABCD12E;01-02-2024;€ 25,00;Automatische incasso;NL91ABNA0417164300\n"
    s = _import(invoke, write("contributie.csv", dues), "--type", "membership", kind="events")
    assert s["rejected"] == 0 and s["unmapped_columns"] == ["IBAN"]
    assert query("SELECT c.email, e.amount::VARCHAR FROM events e JOIN contacts c ON c.id = e.contact_id") == [
        ("anna@example.nl", "25.00")
    ]


def test_a_dutch_or_german_membership_fee_column_is_the_amount_of_a_membership(invoke, write, query):
    _import(invoke, write("leden.csv", "Voornaam;Achternaam;E-mailadres\nAnna;Dijk;anna@example.nl\n"))
    s = _import(invoke, write("contributie.csv", "E-mailadres;Datum;Contributie\nanna@example.nl;01-01-2024;30,00\n"), kind="events")
    assert s["mapped_columns"]["Contributie"] == "amount"
    _import(invoke, write("m.csv", "Vorname;Nachname;E-Mail\nPetra;Schmidt;petra@example.de\n"))
    _import(invoke, write("beitraege.csv", "E-Mail;Datum;Mitgliedsbeitrag\npetra@example.de;15.01.2024;60\n"), kind="events")
    assert query("SELECT c.email, e.type, e.amount::VARCHAR FROM events e JOIN contacts c ON c.id = e.contact_id "
                 "ORDER BY 1") == [("anna@example.nl", "membership", "30.00"), ("petra@example.de", "membership", "60.00")]
