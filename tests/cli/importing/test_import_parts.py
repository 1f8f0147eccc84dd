"""Names and addresses kept in parts (Dutch and German exports), and newsletter yes/no columns."""

from __future__ import annotations

import json

NL = (
    "Aanhef\tVoornaam\tTussenvoegsel\tAchternaam\tE-mailadres\tTelefoonnummer\tStraat\tHuisnummer\tToevoeging\t"
    "Postcode\tWoonplaats\tLand\tGeboortedatum\tNieuwsbrief\n"
    "Mevrouw\tAnke\tvan\tDijk\tanke.vandijk@ziggo.nl\t06-12345678\tKeizersgracht\t12\t\t1015 CS\tAmsterdam\tNederland\t"
    "17-08-1985\tja\n"
    "Meneer\tJan\tde\tVries\tjan@kpn-mail.nl\t+31 20 123 4567\tDamrak\t1\tA\t1012 LG\tAmsterdam\tNL\t01-01-1960\tnee\n"
    "Meneer\tPiet\tvan der\tBerg\tpiet@kpn-mail.nl\t\tDorpsstraat 5\t5\t2h\t1234 AB\tEdam\t\t\t\n"
    "Mevrouw\tEva\t\tJansen\teva@kpn-mail.nl\t\tLaan\t7\t\t1234 AB\tEdam\t\t\tJa\n"
)


def _import(invoke, path, *extra) -> dict:
    result = invoke("import", "contacts", str(path), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]


def test_dutch_export_joins_tussenvoegsel_and_huisnummer(invoke, write, query):
    s = _import(invoke, write("nl.tsv", NL))
    assert s["unmapped_columns"] == [] and s["issues"] == 0
    rows = query("SELECT email, last_name, street, phone, consent_email FROM contacts ORDER BY email")
    assert rows == [
        ("anke.vandijk@ziggo.nl", "van Dijk", "Keizersgracht 12", "+31612345678", True),
        ("eva@kpn-mail.nl", "Jansen", "Laan 7", None, True),
        ("jan@kpn-mail.nl", "de Vries", "Damrak 1A", "+31201234567", False),
        # The street already holds its number; the suffix is not added to it twice.
        ("piet@kpn-mail.nl", "van der Berg", "Dorpsstraat 5", None, None),
    ]


def test_german_hausnummer_follows_the_street(invoke, write, query):
    text = "Vorname;Nachname;E-Mail;Straße;Hausnummer;PLZ;Ort\nHans;Müller;hans@de-test.de;Hauptstraße;3b;10115;Berlin\n"
    _import(invoke, write("de.csv", text))
    assert query("SELECT last_name, street, postal_code FROM contacts") == [("Müller", "Hauptstraße 3b", "10115")]


def test_french_street_number_comes_first(invoke, write, query):
    text = "email;numéro de rue;rue;code postal;ville;newsletter\nfr@fr-test.fr;12;rue des Lilas;69003;Lyon;oui\n"
    _import(invoke, write("fr.csv", text))
    assert query("SELECT street, consent_email FROM contacts") == [("12 rue des Lilas", True)]


def test_french_opt_in_and_newsletter_columns(invoke, write, query):
    text = "email;Opt-in\na@fr-test.fr;oui\nb@fr-test.fr;non\n"
    _import(invoke, write("a.csv", text))
    _import(invoke, write("b.csv", "email;Newsletter\nc@fr-test.fr;Oui\nd@fr-test.fr;NON\n"))
    assert query("SELECT email, consent_email FROM contacts ORDER BY 1") == [
        ("a@fr-test.fr", True), ("b@fr-test.fr", False), ("c@fr-test.fr", True), ("d@fr-test.fr", False)
    ]


def test_french_overseas_phones_with_default_region_fr(invoke, write, query):
    text = (
        "email;téléphone\nre@dom-test.fr;0693612653\ngp@dom-test.fr;0590 82 00 00\nmq@dom-test.fr;06 96 12 34 56\n"
        "gf@dom-test.fr;0694 12 34 56\nyt@dom-test.fr;0269 61 00 00\nfr@dom-test.fr;06 12 34 56 78\nno@dom-test.fr;0999\n"
    )
    s = _import(invoke, write("dom.csv", text))
    assert s["issues"] == 1
    assert sorted(query("SELECT email, phone FROM contacts"), key=repr) == sorted([
        ("re@dom-test.fr", "+262693612653"), ("gp@dom-test.fr", "+590590820000"), ("mq@dom-test.fr", "+596696123456"),
        ("gf@dom-test.fr", "+594694123456"), ("yt@dom-test.fr", "+262269610000"), ("fr@dom-test.fr", "+33612345678"),
        ("no@dom-test.fr", None),
    ], key=repr)


MAILCHIMP = (
    "Email Address,First Name,Last Name,Address,Phone Number,Birthday,TAGS,OPTIN_TIME,CC\n"
    '"  Marie.Dupont@Example.ORG ",Marie,Dupont,"12 rue des Lilas  Lyon  69003  FR",+33 6 12 34 56 78,03/15,'
    '"""newsletter"",""animaux""",2024-03-01 10:00:00,FR\n'
    "jean.martin@gmail.com,Jean,Martin,,06 98 76 54 32,12/01,newsletter,2023-05-01 09:00:00,FR\n"
    'ann@mc-test.org,Ann,Lee,"1 Main St  Springfield  IL  62701  US",,,,2023-05-01 09:00:00,US\n'
    'bob@mc-test.org,Bob,Ray,"3 rue B",,1980-02-03,,2023-05-01 09:00:00,\n'
)


def test_mailchimp_address_is_split_cc_is_the_country_birthday_without_year_is_one_issue(invoke, write, query):
    s = _import(invoke, write("mailchimp.csv", MAILCHIMP), "--preset", "mailchimp")
    assert s["inserted"] == 4 and "CC" not in s["unmapped_columns"]
    rows = query("SELECT email, street, city, postal_code, country, birth_date::VARCHAR FROM contacts ORDER BY email")
    assert rows == [
        ("ann@mc-test.org", "1 Main St", "Springfield, IL", "62701", "US", None),
        ("bob@mc-test.org", "3 rue B", None, None, None, "1980-02-03"),
        ("jean.martin@gmail.com", None, None, None, "FR", None),
        ("marie.dupont@example.org", "12 rue des Lilas", "Lyon", "69003", "FR", None),
    ]
    # Mailchimp quotes each tag: `"newsletter","animaux"`.
    assert query("SELECT c.email, t.tag FROM contact_tags t JOIN contacts c ON c.id = t.contact_id ORDER BY 1, 2") == [
        ("jean.martin@gmail.com", "newsletter"), ("marie.dupont@example.org", "animaux"),
        ("marie.dupont@example.org", "newsletter"),
    ]
    issues = query("SELECT row_number, column_name, value, reason FROM import_issues")
    assert len(issues) == 1 and issues[0][:3] == (2, "Birthday", "03/15")
    assert issues[0][3].startswith("a birthday without a year cannot be stored as a birth date") and "2 cell(s)" in issues[0][3]


def test_french_postal_code_that_lost_its_leading_zero(invoke, write, query):
    text = (
        "email;code postal;ville;pays\nnice@pc-test.fr;6000;Nice;\nbxl@pc-test.fr;1000;Bruxelles;Belgique\n"
        "bourg@pc-test.fr;1000;Bourg-en-Bresse;France\nlyon@pc-test.fr;69003;Lyon;FR\n"
    )
    _import(invoke, write("pc.csv", text))
    assert query("SELECT email, postal_code FROM contacts ORDER BY email") == [
        ("bourg@pc-test.fr", "01000"), ("bxl@pc-test.fr", "1000"), ("lyon@pc-test.fr", "69003"), ("nice@pc-test.fr", "06000"),
    ]


def test_a_dutch_or_british_postal_code_gives_the_row_its_country(invoke, write, query):
    # Without a country cell, `1012 AB` is Dutch and `SW1A 1AA` British; a country cell still wins.
    text = (
        "email;telefoon;postcode;pays\njan@pc-region.nl;020 123 4567;1012 AB;\nann@pc-region.uk;020 7946 0958;sw1a 1aa;\n"
        "marie@pc-region.fr;01 42 68 53 00;75011;\npaul@pc-region.fr;01 42 68 53 00;1012 AB;France\n"
    )
    _import(invoke, write("regions.csv", text))
    assert query("SELECT email, phone FROM contacts ORDER BY email") == [
        ("ann@pc-region.uk", "+442079460958"), ("jan@pc-region.nl", "+31201234567"),
        ("marie@pc-region.fr", "+33142685300"), ("paul@pc-region.fr", "+33142685300"),
    ]


def test_currency_from_the_amount_cell(invoke, write, query):
    _import(invoke, write("c.csv", "email\na@cur-test.fr\nb@cur-test.fr\n"))
    text = (
        "email;date;montant\na@cur-test.fr;01/02/2025;€ 12,50\na@cur-test.fr;02/02/2025;12,50 €\n"
        "a@cur-test.fr;03/02/2025;20 EUR\nb@cur-test.fr;01/02/2025;$5.00\nb@cur-test.fr;02/02/2025;£3\n"
        "b@cur-test.fr;03/02/2025;7\n"
    )
    result = invoke("import", "events", str(write("d.csv", text)), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    assert query(
        "SELECT c.email, e.occurred_at::DATE::VARCHAR, e.amount::DOUBLE, e.currency FROM events e "
        "JOIN contacts c ON c.id = e.contact_id ORDER BY c.email, e.occurred_at"
    ) == [
        ("a@cur-test.fr", "2025-02-01", 12.5, "EUR"), ("a@cur-test.fr", "2025-02-02", 12.5, "EUR"),
        ("a@cur-test.fr", "2025-02-03", 20.0, "EUR"), ("b@cur-test.fr", "2025-02-01", 5.0, "USD"),
        ("b@cur-test.fr", "2025-02-02", 3.0, "GBP"), ("b@cur-test.fr", "2025-02-03", 7.0, None),
    ]


def test_one_cell_for_last_and_first_name(invoke, write, query):
    # A small association's sheet keeps `Nom Prénom` in one cell: the column was left unmapped,
    # every name was lost, and a postal-only member (no email, no phone) was rejected.
    text = (
        "Nom Prénom;Adresse;CP;Ville;Mail\n"
        "DUPONT Marie;3 rue du Lavoir;01100;Oyonnax;marie@nom-prenom.fr\n"
        "DE LA FONTAINE Jean-Pierre;12 Grande Rue;01100;Oyonnax;\n"
        "Martin Paul;5 impasse des Prés;01100;Oyonnax;paul@nom-prenom.fr\n"
        "Roux, Anne;;;;anne@nom-prenom.fr\n"
        "Bernard;;;;bernard@nom-prenom.fr\n"
    )
    result = invoke("import", "contacts", str(write("adherents.csv", text)), "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["rejected"], s["unmapped_columns"]) == (5, 0, [])
    assert query("SELECT last_name, first_name FROM contacts ORDER BY id") == [
        ("DUPONT", "Marie"), ("DE LA FONTAINE", "Jean-Pierre"), ("Martin", "Paul"), ("Roux", "Anne"), ("Bernard", None),
    ]
    text = "Prénom et nom;E-mail\nLéa PETIT;lea@prenom-nom.fr\nHugo Lemaire;hugo@prenom-nom.fr\n"
    invoke("import", "contacts", str(write("inscrits.csv", text)))
    assert query("SELECT first_name, last_name FROM contacts WHERE email LIKE '%@prenom-nom.fr' ORDER BY id") == [
        ("Léa", "PETIT"), ("Hugo", "Lemaire"),
    ]


def test_outlook_home_address_when_the_business_one_is_empty(invoke, write, query):
    # Outlook puts the Business address columns before the Home ones: the Home ones were left
    # unmapped, so a personal contact (no business address) lost their whole address.
    text = (
        "First Name,Last Name,Business Street,Business City,Business Postal Code,Business Country/Region,"
        "Home Street,Home City,Home Postal Code,Home Country/Region,E-mail Address\n"
        "Claire,Fontaine,1 place de la Comédie,Lyon,69001,France,5 rue Garibaldi,Villeurbanne,69100,France,c@ol-addr.fr\n"
        "Tom,Baker,,,,,10 Downing St,London,SW1A 2AA,United Kingdom,t@ol-addr.fr\n"
        "Ann,Lee,,,,,,,,,a@ol-addr.fr\n"
    )
    s = _import(invoke, write("outlook.csv", text))
    assert s["unmapped_columns"] == []
    assert query("SELECT email, street, city, postal_code, country FROM contacts ORDER BY id") == [
        ("c@ol-addr.fr", "1 place de la Comédie", "Lyon", "69001", "France"),
        ("t@ol-addr.fr", "10 Downing St", "London", "SW1A 2AA", "United Kingdom"),
        ("a@ol-addr.fr", None, None, None, None),
    ]


def test_a_birthday_column_written_month_first_is_read_month_first(invoke, write, query):
    # Outlook and US tools write 4/20/1975; a column with a number above 12 in second place and none in
    # first is month-first. A day-first column beside it stays day-first.
    text = (
        "E-mail Address,Birthday,Date created\nann@us-dates.org,4/20/1975,03/02/2024\n"
        "bob@us-dates.org,12/25/1980,25/02/2024\ncid@us-dates.org,1/5/1990,01/03/2024\n"
    )
    s = _import(invoke, write("outlook.csv", text))
    assert s["issues"] == 0
    assert query("SELECT email, birth_date::VARCHAR, created_at::DATE::VARCHAR FROM contacts ORDER BY email") == [
        ("ann@us-dates.org", "1975-04-20", "2024-02-03"),
        ("bob@us-dates.org", "1980-12-25", "2024-02-25"),
        ("cid@us-dates.org", "1990-01-05", "2024-03-01"),
    ]


def test_a_column_that_cannot_tell_stays_day_first(invoke, write, query):
    text = "email;date de naissance\nann@dd-dates.fr;04/05/1975\nbob@dd-dates.fr;12/11/1980\n"
    _import(invoke, write("fr.csv", text))
    assert query("SELECT email, birth_date::VARCHAR FROM contacts ORDER BY email") == [
        ("ann@dd-dates.fr", "1975-05-04"), ("bob@dd-dates.fr", "1980-11-12"),
    ]


def test_google_birthday_without_a_year_is_one_issue(invoke, write, query):
    text = "First Name,Last Name,Birthday,E-mail 1 - Value\nAnn,Lee,--05-14,ann@g-bday.org\nBob,Ray,--11-02,bob@g-bday.org\n"
    s = _import(invoke, write("google.csv", text))
    assert s["inserted"] == 2 and s["issues"] == 1
    issue = query("SELECT column_name, value, reason FROM import_issues")[0]
    assert issue[:2] == ("Birthday", "--05-14") and "2 cell(s)" in issue[2]


def test_title_is_a_civility_or_a_job_by_what_it_holds(invoke, write, query):
    # Salesforce: `Title` after `Salutation` is the job. Alone, it is the job when its cells are no
    # civilities; Outlook's `Title` of Mr/Mrs stays the civility.
    salesforce = "Salutation,First Name,Last Name,Title,Email\nMs.,Ann,Lee,Chief Executive,ann@sf-title.org\n"
    _import(invoke, write("sf.csv", salesforce))
    report = "First Name,Last Name,Title,Email\nBob,Ray,Directeur financier,bob@sf-title.org\nCid,Roe,,cid@sf-title.org\n"
    s = _import(invoke, write("report.csv", report))
    assert s["issues"] == 0 and s["mapped_columns"]["Title"] == "job_title"
    outlook = "Title,First Name,Last Name,E-mail Address\nMrs.,Dee,Poe,dee@sf-title.org\nDr.,Eve,Moe,eve@sf-title.org\nMr,Fay,Low,fay@sf-title.org\n"
    s = _import(invoke, write("outlook.csv", outlook))
    assert s["mapped_columns"]["Title"] == "gender"
    assert query("SELECT email, gender, job_title FROM contacts ORDER BY email") == [
        ("ann@sf-title.org", "F", "Chief Executive"), ("bob@sf-title.org", None, "Directeur financier"),
        ("cid@sf-title.org", None, None), ("dee@sf-title.org", "F", None), ("eve@sf-title.org", None, None),
        ("fay@sf-title.org", "M", None),
    ]


def test_german_divers_and_an_unstated_gender(invoke, write, query):
    # `m/w/d` forms: d (divers) is X; Outlook's `Unspecified` is no gender and no issue.
    text = "E-Mail;Geschlecht\nanna@gender.de;w\nbert@gender.de;m\nchris@gender.de;d\ndora@gender.de;Unspecified\n"
    s = _import(invoke, write("verein.csv", text))
    assert s["issues"] == 0
    assert query("SELECT email, gender FROM contacts ORDER BY email") == [
        ("anna@gender.de", "F"), ("bert@gender.de", "M"), ("chris@gender.de", "X"), ("dora@gender.de", None),
    ]


def test_belgian_number_and_box_columns_after_the_street(invoke, write, query):
    # `Numéro`/`Nr` right after the street is its number, `Boîte`/`Bus` right after that the box.
    fr = "Nom;Email;Rue;Numéro;Boîte;Code postal;Localité;Pays\nDupont;marie@be-box.be;Rue de la Loi;16;3;1000;Bruxelles;Belgique\n"
    nl = "Naam;E-mail;Straat;Nr;Bus;Postcode;Gemeente;Land\nPeeters;jan@be-box.be;Wetstraat;16;;1000;Brussel;België\n"
    _import(invoke, write("fr.csv", fr))
    _import(invoke, write("nl.csv", nl))
    # Elsewhere a bare `Numéro` is a member's number: left unmapped.
    s = _import(invoke, write("paheko.csv", "Numéro;Nom;Email\n12;Roy;ana@be-box.be\n"))
    assert s["unmapped_columns"] == ["Numéro"]
    assert query("SELECT email, street, postal_code FROM contacts WHERE street IS NOT NULL ORDER BY email") == [
        ("jan@be-box.be", "Wetstraat 16", "1000"), ("marie@be-box.be", "Rue de la Loi 16 bte 3", "1000"),
    ]
    nl_box = "Naam;E-mail;Straat;Nr;Bus;Postcode;Gemeente;Land\nClaes;an@be-box.be;Wetstraat;18;2;1000;Brussel;België\n"
    _import(invoke, write("nl2.csv", nl_box))
    assert query("SELECT street FROM contacts WHERE email = 'an@be-box.be'") == [("Wetstraat 18 bus 2",)]


def test_a_civility_title_after_a_gender_column_is_no_job(invoke, write, query):
    text = "Email,First Name,Gender,Title\nmrs@title-gender.org,Ann,F,Mrs\ndr@title-gender.org,Bob,M,Dr\n"
    s = _import(invoke, write("gender_title.csv", text))
    assert s["unmapped_columns"] == ["Title"]
    assert query("SELECT email, gender, job_title FROM contacts ORDER BY email") == [
        ("dr@title-gender.org", "M", None), ("mrs@title-gender.org", "F", None),
    ]


def test_titre_is_a_civility_or_a_job_like_title(invoke, write, query):
    text = ("Email;Titre;Nom\nmme@titre.fr;Mme;Roux\nchef@titre.fr;Chef de projet;Blanc\nprez@titre.fr;Présidente;Noir\n"
            "tres@titre.fr;Trésorier;Gris\nsec@titre.fr;Secrétaire;Vert\n")
    s = _import(invoke, write("titre.csv", text))
    assert s["mapped_columns"]["Titre"] == "job_title"
    civil = "Email;Titre;Nom\nm@titre2.fr;M.;Roux\nmme@titre2.fr;Mme;Blanc\n"
    s = _import(invoke, write("titre2.csv", civil))
    assert s["mapped_columns"]["Titre"] == "gender"
    assert query("SELECT email, gender FROM contacts WHERE email LIKE '%titre2.fr' ORDER BY 1") == [
        ("m@titre2.fr", "M"), ("mme@titre2.fr", "F"),
    ]


def test_a_persons_second_email_by_place_fills_the_first(invoke, write, query):
    # `Email perso` after `Email pro` is the same person's: it fills an empty first.
    text = "Nom,Prénom,Email pro,Email perso\nDupont,Marie,,marie@perso-mail.fr\n"
    s = _import(invoke, write("pro_perso.csv", text))
    assert (s["inserted"], s["rejected"], s["unmapped_columns"]) == (1, 0, [])
    assert query("SELECT email FROM contacts") == [("marie@perso-mail.fr",)]


def test_a_box_cell_that_already_names_the_box_keeps_its_word(invoke, write, query):
    text = (
        "Nom;Email;Rue;Numéro;Boîte;Code postal;Localité;Pays\n"
        "Dubois;luc@be-box.be;Rue de la Loi;16;bte 3;1000;Bruxelles;Belgique\n"
        "Dubois;max@be-box.be;Rue de la Loi;16;Boîte 4;1000;Bruxelles;Belgique\n"
        "Dubois;eva@be-box.be;Rue de la Loi;16;5;1000;Bruxelles;Belgique\n"
    )
    _import(invoke, write("boites.csv", text))
    assert query("SELECT email, street FROM contacts ORDER BY email") == [
        ("eva@be-box.be", "Rue de la Loi 16 bte 5"), ("luc@be-box.be", "Rue de la Loi 16 bte 3"),
        ("max@be-box.be", "Rue de la Loi 16 Boîte 4"),
    ]
