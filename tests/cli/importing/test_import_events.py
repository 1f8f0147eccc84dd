"""``crmseg import events``: gifts, memberships and email activity."""

from __future__ import annotations

import json

import xlsxwriter


def _contacts(invoke, write):
    text = "email;N° adhérent;prénom\nann@x.fr;ADH-1;Ann\n;ADH-2;Bob\n"
    result = invoke("import", "contacts", str(write("contacts.csv", text)))
    assert result.exit_code == 0, result.stderr


def test_email_activity_export_maps_to_event_types(invoke, write, query):
    _contacts(invoke, write)
    text = ("Email,Event,Date,Campaign\nann@x.fr,sent,2026-01-05 10:00:00,NL janvier\nann@x.fr,opened,2026-01-05 11:00:00,NL janvier\n"
            "ann@x.fr,clicked,2026-01-05 11:01:00,NL janvier\nann@x.fr,hard_bounce,2026-02-05 10:00:00,NL février\n"
            "ann@x.fr,unsubscribed,2026-02-06 10:00:00,NL février\nann@x.fr,spam,2026-02-07 10:00:00,NL février\n"
            "ann@x.fr,dance,2026-02-07 10:00:00,NL février\nnobody@x.fr,opened,2026-01-05 11:00:00,NL janvier\n")
    result = invoke("import", "events", str(write("activity.csv", text)), "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["rejected"]) == (6, 2)
    assert query("SELECT type FROM events ORDER BY occurred_at") == [
        ("email_sent",), ("email_open",), ("email_click",), ("hard_bounce",), ("unsubscribe",), ("spam_complaint",)
    ]
    reasons = dict(query("SELECT row_number, reason FROM import_rejects WHERE import_id = 2"))
    assert "unknown event type `dance`" in reasons[8] and "unknown person" in reasons[9]


def test_gifts_workbook_linked_by_email_or_member_number(invoke, write, query, tmp_path):
    _contacts(invoke, write)
    path = tmp_path / "dons.xlsx"
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet = book.add_worksheet("Dons")
    for c, h in enumerate(["Date du don", "Adresse e-mail", "N° adhérent", "Montant", "Devise", "Moyen de paiement", "Campagne", "Canal"]):
        sheet.write(0, c, h)
    import datetime as dt
    rows = [
        (dt.date(2026, 3, 1), "ann@x.fr", None, 25.5, "EUR", "CB", "Printemps", "email"),
        (dt.date(2026, 4, 1), None, "ADH-2", "1 234,56", "EUR", "Chèque", None, "courrier"),
        (dt.date(2026, 4, 2), None, "ADH-404", 10, "EUR", "Chèque", None, "courrier"),
    ]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.add_worksheet("Adhésions").write(0, 0, "Date d'adhésion")
    book.close()
    result = invoke("import", "events", str(path), "--sheet", "Dons", "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["rejected"]) == (2, 1)
    assert query("SELECT c.first_name, e.type, e.occurred_at::DATE::VARCHAR, e.amount::DOUBLE, e.payment_method "
                 "FROM events e JOIN contacts c ON c.id = e.contact_id ORDER BY e.occurred_at") == [
        ("Ann", "donation", "2026-03-01", 25.5, "CB"), ("Bob", "donation", "2026-04-01", 1234.56, "Chèque")]
    assert query("SELECT row_number FROM import_rejects WHERE import_id = 2") == [(4,)]


def test_create_missing_makes_prospects(invoke, write, query):
    text = "date;email;montant\n01/02/2026;new@x.fr;10\n03/02/2026;new@x.fr;20\n"
    result = invoke("import", "events", str(write("gifts.csv", text)), "--type", "donation", "--create-missing", "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["created_contacts"]) == (2, 1)
    assert query("SELECT email, status FROM contacts") == [("new@x.fr", "active")]


def test_create_missing_links_rows_by_email_or_external_id(invoke, write, query):
    text = "date;email;N° adhérent;montant\n01/02/2026;new@x.fr;ADH-1;10\n03/02/2026;;ADH-2;20\n04/02/2026;;ADH-2;5\n"
    result = invoke("import", "events", str(write("gifts.csv", text)), "--type", "donation", "--create-missing", "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["created_contacts"]) == (3, 2)
    assert query(
        "SELECT c.email, c.external_id, count(*), sum(e.amount) FROM events e JOIN contacts c ON c.id = e.contact_id "
        "GROUP BY ALL ORDER BY 2"
    ) == [("new@x.fr", "ADH-1", 1, 10), (None, "ADH-2", 2, 25)]


def test_a_file_rejected_for_unknown_people_imports_again_with_create_missing(invoke, write, query):
    # The reject says "use --create-missing": running the same file so must not be "already imported".
    path = write("gifts.csv", "date;email;montant\n01/02/2026;new@x.fr;10\n")
    first = json.loads(invoke("import", "events", str(path), "--type", "donation", "--json").stdout)["imports"][0]
    assert first["rejected"] == 1
    assert "--create-missing" in query("SELECT reason FROM import_rejects")[0][0]
    again = invoke("import", "events", str(path), "--type", "donation", "--create-missing", "--json")
    s = json.loads(again.stdout)["imports"][0]
    assert s["already_imported"] is None and (s["inserted"], s["created_contacts"]) == (1, 1)
    assert query("SELECT c.email, e.amount FROM events e JOIN contacts c ON c.id = e.contact_id") == [("new@x.fr", 10)]
    same = json.loads(invoke("import", "events", str(path), "--type", "donation", "--create-missing", "--json").stdout)
    assert same["imports"][0]["already_imported"] == 2


def test_events_file_without_type_needs_type_option(invoke, write):
    result = invoke("import", "events", str(write("x.csv", "date;email\n01/02/2026;a@x.fr\n")))
    assert result.exit_code == 2 and "--type" in result.stderr and "x.csv" in result.stderr


def test_same_events_from_another_file_are_not_doubled(invoke, write, query):
    _contacts(invoke, write)
    text = "date;email;montant\n01/02/2026;ann@x.fr;10\n"
    invoke("import", "events", str(write("a.csv", text)), "--type", "donation")
    result = invoke("import", "events", str(write("b.csv", text + "02/02/2026;ann@x.fr;5\n")), "--type", "donation", "--json")
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["unchanged"]) == (1, 1)
    assert query("SELECT count(*) FROM events") == [(2,)]


def test_rejects_and_issues_read_their_line_and_reason_back(invoke, write, query):
    _contacts(invoke, write)
    text = ("Date;Email;Montant\n01/02/2026;ann@x.fr;10\n02/02/2026;ann@@x;5\n03/02/2026;ann@x.fr;beaucoup\n"
            "04/02/2026;;7\n05/02/202;ann@x.fr;8\n")
    result = invoke("import", "events", str(write("dons.csv", text)), "--type", "donation", "--json")
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["rejected"], s["issues"]) == (2, 3, 1)
    reasons = dict(query("SELECT row_number, reason FROM import_rejects WHERE import_id = 2"))
    assert sorted(reasons) == [3, 5, 6]
    assert reasons[6] == "no usable date"  # the year 202 is a typo
    assert reasons[3].startswith("the email is unusable (") and "no external id" in reasons[3]
    assert reasons[5] == "no email or external id to link the event to a contact"
    assert query("SELECT row_number, column_name, value, reason FROM import_issues WHERE import_id = 2") == [
        (4, "Montant", "beaucoup", "not an amount")
    ]


def test_a_helloasso_payments_export_feeds_contacts_then_gifts(invoke, write, query):
    text = (
        "\ufeffRéférence commande;Date de la commande;Statut de la commande;Nom payeur;Prénom payeur;Email payeur;"
        "Raison sociale;Moyen de paiement;Montant;Formulaire;Adresse payeur;Code Postal payeur;Ville payeur;Pays payeur\r\n"
        "12345;15/03/2024 10:22:33;Validé;Dupont;Marie;marie.dupont@gmail.com;;Carte bancaire;20,00;Don libre 2024;"
        "12 rue des Lilas;69003;Lyon;France\r\n"
        "12346;16/03/2024 11:00:00;Validé;Martin;Paul;paul@orange.fr;;Carte bancaire;50,00;Don libre 2024;;;;\r\n"
    )
    path = write("export-paiements.csv", text)
    result = invoke("import", "contacts", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT email, first_name, last_name, postal_code, city FROM contacts ORDER BY id") == [
        ("marie.dupont@gmail.com", "Marie", "Dupont", "69003", "Lyon"), ("paul@orange.fr", "Paul", "Martin", None, None)
    ]
    result = invoke("import", "events", str(path), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT type, occurred_at::VARCHAR, amount::VARCHAR, campaign, payment_method FROM events ORDER BY 2") == [
        ("donation", "2024-03-15 10:22:33", "20.00", "Don libre 2024", "Carte bancaire"),
        ("donation", "2024-03-16 11:00:00", "50.00", "Don libre 2024", "Carte bancaire"),
    ]


def test_a_helloasso_membership_export_with_its_additional_fields(invoke, write, query):
    # The form's own questions come as `Champ additionnel: <question>`; the rate's price as `Montant tarif`.
    text = (
        "Référence commande;Date de la commande;Nom adhérent;Prénom adhérent;Email payeur;"
        "Champ additionnel: Téléphone;Champ additionnel: Adresse;Champ additionnel: Code postal;Champ additionnel: Ville;"
        "Champ additionnel: Type de membre;Tarif;Montant tarif;Moyen de paiement;Formulaire\n"
        "12345;15/03/2024 10:22;Dupont;Marie;marie.dupont@example.fr;06 12 34 56 78;12 rue des Lilas;69003;Lyon;"
        "Bienfaiteur;Adhésion annuelle;25,00;Carte bancaire;Adhésion 2024\n"
    )
    path = write("export-adhesions.csv", text)
    s = json.loads(invoke("import", "contacts", str(path), "--json").stdout)["imports"][0]
    assert "Champ additionnel: Type de membre" in s["unmapped_columns"]
    assert query("SELECT email, first_name, last_name, phone, street, postal_code, city FROM contacts") == [
        ("marie.dupont@example.fr", "Marie", "Dupont", "+33612345678", "12 rue des Lilas", "69003", "Lyon")
    ]
    assert invoke("import", "events", str(path), "--type", "membership").exit_code == 0
    assert query("SELECT type, occurred_at::VARCHAR, amount::VARCHAR, campaign, payment_method FROM events") == [
        ("membership", "2024-03-15 10:22:00", "25.00", "Adhésion 2024", "Carte bancaire")
    ]


def _payers(invoke, write):
    text = "email,first name\njohn@example.com,John\nmarie@example.fr,Marie\n"
    assert invoke("import", "contacts", str(write("payers.csv", text))).exit_code == 0


def test_stripe_paypal_and_donorbox_columns_map_to_date_amount_currency_and_email(invoke, write, query):
    # Their real headers, in their order: Stripe's `Created (UTC)`, PayPal's `Gross` before `Fee` and
    # `Net` and its `From Email Address`, Donorbox's `Donated Amount` and `Donation Currency`.
    _payers(invoke, write)
    files = {
        "unified_payments.csv": (
            "id,Description,Created (UTC),Amount,Amount Refunded,Currency,Converted Amount,Fee,Status,Customer Email\n"
            "ch_1,Don,2024-03-15 10:22:33,20.00,0.00,eur,20.00,0.55,Paid,marie@example.fr\n"
        ),
        "Download.CSV": (
            '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","From Email Address",'
            '"To Email Address","Transaction ID"\n'
            '"16/03/2024","10:22:33","CET","John","Donation Payment","Completed","USD","1,250.00","-36.55","1,213.45",'
            '"john@example.com","dons@asso.org","1AB2"\n'
        ),
        "donorbox.csv": (
            "Name,Donor Email,Donation Date,Donated Amount,Donation Currency,Processing Fee,Net Amount,Campaign\n"
            "Marie,marie@example.fr,2024-03-17 08:00:00 +0100,25.00,EUR,0.98,23.58,Spring Appeal\n"
        ),
    }
    for name, text in files.items():
        result = invoke("import", "events", str(write(name, text)), "--type", "donation", "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["imports"][0]["inserted"] == 1, name
    assert query("SELECT c.email, e.occurred_at::VARCHAR, e.amount::VARCHAR, e.currency FROM events e "
                 "JOIN contacts c ON c.id = e.contact_id ORDER BY e.occurred_at") == [
        ("marie@example.fr", "2024-03-15 10:22:33", "20.00", "EUR"),
        ("john@example.com", "2024-03-16 10:22:33", "1250.00", "USD"),  # PayPal's `Time` joins its `Date`
        ("marie@example.fr", "2024-03-17 08:00:00", "25.00", "EUR"),
    ]


def test_failed_and_refunded_payments_are_rejected_not_imported_as_gifts(invoke, write, query):
    # A payment export's status column says whether the money came in, not what kind of event it is.
    _payers(invoke, write)
    stripe = (
        "id,Created (UTC),Amount,Currency,Status,Customer Email\n"
        "ch_1,2024-03-15 10:22:33,20.00,eur,Paid,marie@example.fr\n"
        "ch_2,2024-03-16 10:00:00,15.00,eur,Failed,john@example.com\n"
        "ch_3,2024-03-17 10:00:00,50.00,eur,Refunded,marie@example.fr\n"
    )
    path = write("unified_payments.csv", stripe)
    result = invoke("import", "events", str(path))
    assert result.exit_code == 2 and "unified_payments.csv" in result.stderr and "--type" in result.stderr
    assert "payment" in result.stderr
    result = invoke("import", "events", str(path), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["rejected"]) == (1, 2)
    reasons = dict(query("SELECT row_number, reason FROM import_rejects WHERE import_id = 2"))
    assert reasons[3].startswith("payment not completed (status `Failed`)")
    assert reasons[4].startswith("payment not completed (status `Refunded`)")
    # A German donations export: `Spendendatum` says donation, `Status` says whether it was paid.
    spenden = (
        "Spendendatum;E-Mail;Betrag;Zahlungsart;Status\n"
        "18.03.2024;john@example.com;1.234,56 €;Lastschrift;bezahlt\n"
        "19.03.2024;john@example.com;50,00 €;PayPal;storniert\n"
    )
    result = invoke("import", "events", str(write("spenden.csv", spenden, "cp1252")), "--json")
    assert result.exit_code == 0, result.stderr
    s = json.loads(result.stdout)["imports"][0]
    assert (s["inserted"], s["rejected"]) == (1, 1)
    # Zeffy's own `Payment Status` column.
    zeffy = "Payment Date,Email,Total Amount,Payment Status\n2024-03-20 14:05,john@example.com,$30.00,Succeeded\n" \
            "2024-03-21 09:00,marie@example.fr,$40.00,Refunded\n"
    result = invoke("import", "events", str(write("zeffy.csv", zeffy)), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT c.email, e.type, e.occurred_at::DATE::VARCHAR, e.amount::VARCHAR, e.currency FROM events e "
                 "JOIN contacts c ON c.id = e.contact_id ORDER BY e.occurred_at") == [
        ("marie@example.fr", "donation", "2024-03-15", "20.00", "EUR"),
        ("john@example.com", "donation", "2024-03-18", "1234.56", "EUR"),
        ("john@example.com", "donation", "2024-03-20", "30.00", "USD"),
    ]


def test_a_us_export_writes_its_dates_month_first(invoke, write, query):
    # PayPal (a US account) and Zeffy write 03/05/2024 for March 5th, with AM/PM times: a day above
    # 12 in the second place (03/17/2024) says the whole column is month-first, so 03/05 is not May 3rd.
    _payers(invoke, write)
    paypal = (
        '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","From Email Address"\n'
        '"03/05/2024","10:22:33","PST","John","Donation Payment","Completed","USD","100.00","-3.20","96.80","john@example.com"\n'
        '"03/17/2024","16:05:10","PDT","Marie","Donation Payment","Completed","EUR","20.00","-0.93","19.07","marie@example.fr"\n'
    )
    result = invoke("import", "events", str(write("Download.CSV", paypal)), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    zeffy = ("Payment Date,Email,Total Amount\n\"4/2/2024 2:05 PM\",john@example.com,$10.00\n"
             "\"4/15/2024 9:00 AM\",marie@example.fr,$12.00\n")
    result = invoke("import", "events", str(write("zeffy.csv", zeffy)), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT c.email, e.occurred_at::VARCHAR FROM events e JOIN contacts c ON c.id = e.contact_id "
                 "ORDER BY e.occurred_at") == [
        ("john@example.com", "2024-03-05 10:22:33"), ("marie@example.fr", "2024-03-17 16:05:10"),
        ("john@example.com", "2024-04-02 14:05:00"), ("marie@example.fr", "2024-04-15 09:00:00"),
    ]
    # A day-first file with a day above 12 stays day-first; one with no telling cell too (the default).
    text = "Date;Email;Montant\n03/05/2024;john@example.com;5\n17/05/2024;john@example.com;6\n"
    assert invoke("import", "events", str(write("dons.csv", text)), "--type", "donation").exit_code == 0
    assert query("SELECT occurred_at::DATE::VARCHAR FROM events WHERE amount IN (5, 6) ORDER BY 1") == [
        ("2024-05-03",), ("2024-05-17",)
    ]


def test_brevo_and_paypal_activity_words_map_to_event_types(invoke, write, query):
    _payers(invoke, write)
    text = ("Event,Date,Email\nMarked as spam,2024-03-15 10:00,john@example.com\nProxy open,2024-03-15 10:01,john@example.com\n"
            "First opening,2024-03-15 10:02,marie@example.fr\nDonation Payment,2024-03-15 10:03,marie@example.fr\n")
    result = invoke("import", "events", str(write("logs.csv", text)), "--json")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT type FROM events ORDER BY occurred_at") == [
        ("spam_complaint",), ("email_open",), ("email_open",), ("donation",)
    ]


def test_a_time_column_beside_the_date_gives_the_time_of_day(invoke, write, query):
    _payers(invoke, write)
    text = "Datum;Tijd;E-mail;Bedrag\n15-03-2024;14:05;marie@example.fr;10,00\n16-03-2024;;marie@example.fr;12,00\n"
    result = invoke("import", "events", str(write("bank.csv", text)), "--type", "donation", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["imports"][0]["mapped_columns"]["Tijd"] == "occurred_time"
    assert query("SELECT occurred_at::VARCHAR FROM events ORDER BY 1") == [
        ("2024-03-15 14:05:00",), ("2024-03-16 00:00:00",),
    ]


def test_a_time_that_does_not_join_its_date_leaves_the_date(invoke, write, query, tmp_path):
    # `10h`, `matin`: the date alone; a workbook's time cell (read `1899-12-31 16:05:33`) joins its date.
    import xlsxwriter
    from datetime import date, time

    _payers(invoke, write)
    text = "Email;Date;Heure;Montant\nmarie@example.fr;17/03/2024;10h;5\nmarie@example.fr;18/03/2024;matin;6\n"
    assert invoke("import", "events", str(write("heures.csv", text)), "--type", "donation").exit_code == 0
    path = tmp_path / "paypal.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Date", "Time", "Gross", "From Email Address"])
    sheet.write_datetime(1, 0, date(2024, 3, 19), book.add_format({"num_format": "dd/mm/yyyy"}))
    sheet.write_datetime(1, 1, time(16, 5, 33), book.add_format({"num_format": "hh:mm:ss"}))
    sheet.write_row(1, 2, [7, "marie@example.fr"])
    book.close()
    assert invoke("import", "events", str(path), "--type", "donation").exit_code == 0
    assert query("SELECT occurred_at::VARCHAR, amount::INTEGER FROM events ORDER BY 1") == [
        ("2024-03-17 00:00:00", 5), ("2024-03-18 00:00:00", 6), ("2024-03-19 16:05:33", 7),
    ]


def test_two_digit_years_in_a_month_first_column(invoke, write, query):
    _payers(invoke, write)
    text = "Email,Date,Amount\nmarie@example.fr,3/17/24,10\nmarie@example.fr,3/5/24 2:05 PM,20\n"
    assert invoke("import", "events", str(write("us.csv", text)), "--type", "donation").exit_code == 0
    assert query("SELECT occurred_at::VARCHAR FROM events ORDER BY 1") == [
        ("2024-03-05 14:05:00",), ("2024-03-17 00:00:00",),
    ]
