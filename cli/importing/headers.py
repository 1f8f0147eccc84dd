"""Mapping a file's column headers onto crmseg fields.

A header is compared in a folded form (accents dropped, lower-cased, only
letters and digits kept: ``Adresse e-mail`` -> ``adresseemail``), against
synonyms in French, English, Dutch and German, the column names of the
exports of Mailchimp, Brevo and HubSpot (``--preset`` puts a tool's names
first), and, for custom fields, the field's name, its ``label``, its
``aliases`` in ``crmseg.yaml`` and built-in synonyms of the usual custom
fields (interests, member number, volunteering days). ``--map`` (a YAML
file or ``COLUMN=field`` pairs) overrides everything. Columns left unmapped
are reported and never stored (data minimisation).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cli.errors import ImportFileError, InputError
from cli.settings import Settings
from cli.yamlfile import did_you_mean, load_yaml


# Linking words of header phrases (`Date de naissance`, `Datum van inschrijving`, `Datum der Spende`).
_LINK_WORDS = {"du", "de", "des", "d", "la", "l", "of", "the", "van", "der", "den", "het", "vom", "von"}


def loose(text: str) -> str:
    """``fold`` without linking words, so that ``DATE_NAISSANCE`` meets ``Date de naissance``.

    >>> loose("Date d'inscription") == loose("DATE_INSCRIPTION")
    True
    """
    return "".join(w for w in re.findall(r"[a-z0-9]+", fold_words(text)) if w not in _LINK_WORDS)


def fold_words(text: str) -> str:
    """``text`` lower-cased without accents, its words kept apart (``fold`` glues them)."""
    text = unicodedata.normalize("NFKD", str(text).replace("°", "o").replace("º", "o"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("ß", "ss")


def fold(text: str) -> str:
    """The comparison form of a header.

    >>> fold("Adresse e-mail")
    'adresseemail'
    >>> fold("N° adhérent")
    'noadherent'
    """
    return re.sub(r"[^a-z0-9]", "", fold_words(text))


CONTACT_SYNONYMS: dict[str, list[str]] = {
    "email": [
        "email", "e-mail", "mail", "courriel", "adresse e-mail", "adresse email", "adresse mail",
        "adresse électronique", "mél", "email address", "e-mail address", "mail address", "emailadres",
        "e-mailadres", "mailadres", "e-mail-adresse", "emailadresse", "mailadresse", "email_address",
        # A person's other addresses (Outlook's `E-mail 2 Address`, Google's `E-mail 2 - Value`): after the
        # first email column, they fill the email of the rows whose first is empty (SPARE_FIELDS).
        "e-mail 2 address", "e-mail 3 address", "e-mail 2 - value", "e-mail 3 - value", "email 2", "e-mail 2",
        "second email", "secondary email", "other email", "alternate email", "autre email", "autre e-mail",
        "email secondaire", "e-mail secondaire", "adresse e-mail secondaire", "adresse email secondaire",
        "tweede e-mailadres", "ander e-mailadres", "zweite e-mail-adresse", "weitere e-mail-adresse",
    ],
    "first_name": [
        "prénom", "first name", "firstname", "given name", "forename", "fname", "voornaam", "roepnaam",
        "vorname", "first_name",
    ],
    "last_name": [
        "nom", "nom de famille", "last name", "lastname", "surname", "family name", "lname", "achternaam",
        "familienaam", "nachname", "familienname", "last_name",
    ],
    "phone": [
        "téléphone", "tél", "tel", "telephone", "téléphone mobile", "téléphone portable", "portable", "mobile",
        "numéro de téléphone", "phone", "phone number", "mobile phone", "mobile number", "cell", "cell phone",
        "telefoon", "telefoonnummer", "mobiel", "mobiel nummer", "gsm", "telefon", "telefonnummer", "handy",
        "mobilnummer", "sms", "téléphone fixe", "tél fixe", "fixe", "landline", "home phone", "vaste telefoon",
        "vast nummer", "festnetz", "festnetznummer", "mobil", "mobiltelefon", "mobilfunknummer", "handynummer",
        # The kind of line after the word (Dolibarr's `Tél portable`, Sportlink's `Telefoon mobiel`).
        "tél portable", "tél mobile", "numéro de portable", "numéro de mobile", "telefoon mobiel", "telefoon vast",
        "mobiele telefoon", "mobiel telefoonnummer", "telefon mobil", "telefon festnetz",
    ],
    "street": [
        "adresse", "adresse postale", "rue", "adresse 1", "address", "street", "street address", "address line 1",
        "address 1", "straat", "adres", "straat en huisnummer", "straße", "strasse", "anschrift", "straße und hausnummer",
        "mailing street", "mailing address",  # Salesforce
    ],
    "postal_code": [
        "code postal", "cp", "postal code", "zip", "zip code", "zipcode", "postcode", "post code", "postleitzahl", "plz",
        "zip/postal code", "mailing zip/postal code", "mailing postal code",  # Salesforce
    ],
    "city": [
        "ville", "localité", "commune", "city", "town", "plaats", "woonplaats", "gemeente", "stad", "ort", "stadt",
        "wohnort", "mailing city",
    ],
    "country": ["pays", "country", "country/region", "land", "staat", "country code", "mailing country"],
    "birth_date": [
        "date de naissance", "naissance", "né le", "née le", "birth date", "birthdate", "date of birth", "dob",
        "birthday", "geboortedatum", "geburtsdatum", "geburtstag", "birth_date", "born at",
    ],
    "gender": [
        "civilité", "genre", "sexe", "gender", "sex", "salutation", "title", "titre", "aanhef", "geslacht", "anrede",
        "geschlecht", "civility",
    ],
    "organisation": [
        "organisation", "organization", "société", "entreprise", "structure", "company", "company name",
        "organisatie", "bedrijf", "firma", "unternehmen", "organisation name", "raison sociale", "nom de la structure",
        "nom de l'organisation", "bedrijfsnaam", "firmenname", "account name", "employer",
    ],
    "job_title": [
        "profession", "métier", "fonction", "poste", "job title", "job", "occupation", "position", "functie",
        "beroep", "beruf", "funktion", "job_title",
    ],
    "source": ["source", "origine", "provenance", "origin", "lead source", "herkomst", "bron", "quelle", "herkunft"],
    "consent_email": [
        "opt-in email", "opt-in", "optin", "opt in", "optin email", "consentement", "consentement email",
        "accord email", "email opt-in", "email consent", "marketing consent", "newsletter opt-in", "double_opt-in",
        "opt_in", "toestemming", "toestemming e-mail", "einwilligung", "einwilligung e-mail", "newsletter",
        "inscrit newsletter", "abonné newsletter", "abonné à la newsletter", "nieuwsbrief", "nieuwsbrief ja/nee",
        "aanmelding nieuwsbrief", "newsletter abonniert", "newsletter-anmeldung", "accord newsletter",
        "accord pour la newsletter", "accepte de recevoir la newsletter", "j'accepte de recevoir la newsletter",
        "accepte de recevoir les newsletters", "accepte de recevoir des informations", "accepte de recevoir des emails",
        "souhaite recevoir la newsletter",
        # Paheko's member field `lettre_infos`.
        "inscription à la lettre d'information", "lettre d'information", "lettre d'informations", "lettre d'info",
        "inscrit à la lettre d'information",
    ],
    "consent_at": [
        "date opt-in", "date d'opt-in", "date optin", "date du consentement", "date consentement", "optin_time",
        "optin time", "opt-in date", "consent date", "datum toestemming", "datum opt-in", "einwilligungsdatum",
        "datum der einwilligung",
    ],
    "created_at": [
        "date de création", "date création", "date d'inscription", "créé le", "created", "created at", "date created",
        "creation date", "create date", "created date", "signup date", "aanmaakdatum", "datum aangemaakt", "inschrijfdatum",
        "erstellt am", "erstellungsdatum", "anmeldedatum",
        # Since when the person is a member (Sportlink's `Lid sinds`, easyVerein's `Eintrittsdatum`).
        "membre depuis", "adhérent depuis", "date de première adhésion", "member since", "lid sinds", "lid vanaf",
        "mitglied seit", "eintrittsdatum", "eintritt", "beitrittsdatum",
    ],
    "tags": ["tags", "tag", "tag list", "étiquettes", "étiquette", "labels", "label", "trefwoorden", "schlagwörter", "schlagworte"],
    "external_id": [
        "external id", "ext_id", "ext id", "id externe", "identifiant externe", "externe id", "extern id",
        "externe kennung", "external_id",
    ],
    "consent_basis": [
        "base légale", "base juridique", "fondement juridique", "base légale du traitement", "legal basis",
        "lawful basis", "legal basis for processing contact's data", "legal basis for processing", "rechtsgrond",
        "grondslag", "wettelijke grondslag", "rechtsgrundlage", "consent_basis",
    ],
    "consent_withdrawn_at": [
        "date de retrait du consentement", "retrait du consentement", "consentement retiré le",
        "consent withdrawn", "consent withdrawn at", "consent withdrawal date", "datum intrekking toestemming",
        "widerruf der einwilligung", "widerrufsdatum", "consent_withdrawn_at",
    ],
}

# Import-only fields: what an emailing tool says about an address (unsubscribed,
# hard-bounced/cleaned, blocklisted). They are not stored as such: the contacts
# import turns them into events, withdrawn consent and suppression-ledger entries.
STATUS_SYNONYMS: dict[str, list[str]] = {
    "unsubscribed": [
        "désabonné", "désabonnée", "désinscrit", "désinscrite", "unsubscribed", "unsubscribed from all email",
        "opted out", "opt-out", "optout", "afgemeld", "uitgeschreven", "abgemeldet", "ausgetragen",
        # CRMs' opt-out flags: CiviCRM (`Is Opt Out`, `No Bulk Emails (User Opt Out)`), Salesforce.
        "is opt out", "no bulk emails", "no bulk emails (user opt out)", "user opt out", "email opt out",
        "email opt-out", "has opted out of email", "hasoptedoutofemail",
        "unsub",  # Mailjet's contacts export
    ],
    "unsubscribed_at": [
        "unsub_time", "date de désinscription", "date désinscription", "date de désabonnement", "date désabonnement",
        "désinscrit le", "désabonné le", "unsubscribe date", "unsubscribed at", "unsubscribed date", "opt-out date",
        "date opt-out", "datum afmelding", "afmelddatum", "uitschrijfdatum", "abmeldedatum", "datum der abmeldung",
    ],
    "unsubscribe_campaign": ["unsub_campaign_title", "campagne de désinscription", "unsubscribe campaign"],
    "unsubscribe_reason": [
        "unsub_reason", "motif de désinscription", "raison de la désinscription", "motif de désabonnement",
        "unsubscribe reason", "reden afmelding", "abmeldegrund",
    ],
    "hard_bounced": [
        "bounce", "hard bounce", "hardbounce", "bounced", "hard bounced", "email hard bounce reason",
        "hard bounce reason", "rebond", "rebond dur", "email bounced", "bounce hard",
    ],
    "hard_bounced_at": [
        "clean_time", "date du bounce", "date de bounce", "date bounce", "bounce date", "bounced at", "cleaned at",
        "datum bounce", "bounce-datum",
    ],
    "bounce_campaign": ["clean_campaign_title", "bounce campaign"],
    # A yes/no flag: the address marked an email as spam (Mailjet's `Spam`, `is_spam_complaining`).
    "spam_complained": [
        "spam", "is spam complaining", "spam complaint", "spam complained", "complained", "marked as spam",
        "plainte spam", "plainte pour spam", "spamklacht", "spam-beschwerde",
    ],
    "blocklisted": [
        "blacklisted", "email_blacklisted", "blocklisted", "email blocklisted", "blacklist", "blocklist",
        "liste noire", "sur liste noire", "bloqué", "zwarte lijst", "geblokkeerd", "gesperrt", "sperrliste",
        # No email at all, whatever the list: CiviCRM's `Do Not Email`, NationBuilder's `do_not_contact`.
        "do not email", "do not contact", "ne pas contacter", "nicht kontaktieren",
    ],
    "email_status": [
        "status", "member status", "email status", "statut email", "statut e-mail", "statut de l'abonnement",
        "statut d'abonnement", "statut abonnement", "subscription status", "subscriber status",
        "marketing contact status", "newsletter status", "status nieuwsbrief", "abonnementstatus",
        "e-mailstatus", "abonnementstatus newsletter", "newsletter-status",
        # Suppression lists' reason column (Klaviyo, Brevo's blocked contacts).
        "suppression reason", "reason for suppression", "blocked reason", "blocklist reason", "blacklist reason",
        "motif de blocage", "raison du blocage", "motif de suppression",
    ],
    # The person has died (CiviCRM `Is Deceased`, NationBuilder `is_deceased`, Salesforce NPSP `Deceased`).
    "deceased": [
        "deceased", "is deceased", "décédé", "décédée", "décédé(e)", "décès", "défunt", "overleden", "verstorben",
    ],
    "deceased_at": [
        "deceased date", "date of death", "death date", "date de décès", "date du décès", "décédé le",
        "datum overlijden", "overlijdensdatum", "overleden op", "sterbedatum", "todesdatum", "verstorben am",
    ],
}
CONTACT_SYNONYMS.update(STATUS_SYNONYMS)

# Import-only parts of a name or an address kept in columns of their own
# (Dutch and German exports, second address lines): joined into last_name and street.
PART_SYNONYMS: dict[str, list[str]] = {
    "name_prefix": ["tussenvoegsel", "tussenvoegsels", "voorvoegsel", "voorvoegsels", "namenszusatz", "namensvorsatz"],
    # Dutch/German headers: the number follows the street.
    "house_number": ["huisnummer", "huisnr", "hausnummer", "hausnr", "hausnr."],
    # French/English headers: the number goes where the row's country writes it.
    "street_number": [
        "numéro de rue", "n° de rue", "numéro de voie", "n° de voie", "numéro dans la voie", "house number",
        "street number", "building number", "house no",
    ],
    # A Belgian box number (`Rue de la Loi 16 bte 3`, `Wetstraat 16 bus 3`); a bare `Boîte`/`Bus` column
    # counts only right after the number's (see _after_street).
    "box_number": ["numéro de boîte", "n° de boîte", "busnummer", "box number"],
    "house_number_suffix": [
        "toevoeging", "huisnummertoevoeging", "huisnummer toevoeging", "toevoeging huisnummer", "huisletter",
        "hausnummerzusatz", "zusatz hausnummer", "house number addition", "house number suffix",
        "complément de numéro", "indice de répétition", "bis/ter",
    ],
    # Both names in one cell, in the header's order; used only when the file has no name column of its own.
    "name_last_first": [
        "nom prénom", "nom et prénom", "nom & prénom", "nom prénoms", "nom et prénoms", "achternaam voornaam",
        "achternaam en voornaam", "nachname vorname", "nachname und vorname", "name vorname",
    ],
    "name_first_last": [
        "prénom nom", "prénom et nom", "nom complet", "full name", "fullname", "voornaam achternaam",
        "voor- en achternaam", "volledige naam", "vorname nachname", "vor- und nachname", "vollständiger name",
    ],
    # A second address line: joined to the street after a comma.
    "street2": [
        "complément d'adresse", "complément adresse", "adresse 2", "adresse ligne 2", "adresse complémentaire",
        "address line 2", "address 2", "street 2", "street address 2", "adres 2", "adresregel 2", "adresszusatz",
        "adresse zusatz", "address2",
    ],
}
CONTACT_SYNONYMS.update(PART_SYNONYMS)
STATUS_FIELDS = tuple(STATUS_SYNONYMS)

EVENT_SYNONYMS: dict[str, list[str]] = {
    # PayPal's `From Email Address`: the payer (on a refund row, the association itself).
    "email": CONTACT_SYNONYMS["email"] + ["recipient", "destinataire", "ontvanger", "empfänger", "subscriber",
                                          "from email address"],
    "external_id": CONTACT_SYNONYMS["external_id"],
    "type": [
        "type", "event", "event type", "activity", "action", "statut", "status", "type d'événement", "événement",
        "type d'action", "gebeurtenis", "actie", "ereignis", "aktion", "aktivität",
    ],
    "occurred_at": [
        "date", "date et heure", "horodatage", "date de l'événement", "date du don", "date d'adhésion",
        "date du paiement", "date de paiement", "date de l'action", "date d'envoi", "date de la cotisation",
        "date de la commande", "date de commande", "order date", "besteldatum", "bestelldatum",
        "event date", "timestamp", "time", "datetime", "occurred at", "donation date", "gift date", "payment date",
        "date of gift", "datum", "datum gift", "giftdatum", "schenkingsdatum", "betaaldatum", "spendendatum",
        "datum der spende", "zahlungsdatum", "beitrittsdatum", "lidmaatschapsdatum",
        # Dolibarr's subscriptions (`Date début cotisation`, beside `Date fin cotisation`); bank and
        # accounting exports (`Buchungsdatum`, `Boekdatum`).
        "date de début de cotisation", "date de début d'adhésion", "date de cotisation", "date d'opération",
        "buchungsdatum", "buchungstag", "boekdatum", "boekingsdatum", "transactiedatum",
        # Stripe's payments export.
        "created (utc)", "created date (utc)",
        # Emailing tools' per-campaign reports.
        "unsubscribe date", "unsub date", "abuse report date", "complaint date", "spam complaint date", "bounce date",
        "date de désinscription", "date de désabonnement", "date de plainte", "datum uitschrijving", "abmeldedatum",
    ],
    "amount": [
        "montant", "montant du don", "montant cotisation", "cotisation", "somme", "amount", "gift amount",
        # HelloAsso: the price paid for the chosen rate, the order's total.
        "montant tarif", "montant du tarif", "montant total", "montant de la commande", "montant payé",
        "donation amount", "total", "value", "bedrag", "giftbedrag", "betrag", "spendenbetrag", "beitrag",
        # PayPal's `Gross` (before its `Fee` and `Net`, which stay unmapped), Donorbox's, Zeffy's.
        "gross", "brut", "bruto", "brutto", "donated amount", "total amount", "amount paid",
        # A membership fee, as `cotisation` and `beitrag` above.
        "contributie", "lidgeld", "mitgliedsbeitrag", "jahresbeitrag", "membership fee",
    ],
    "currency": ["devise", "monnaie", "currency", "valuta", "munteenheid", "währung", "donation currency"],
    "campaign": [
        "campagne", "nom de la campagne", "appel", "opération", "campaign", "campaign name", "campagnenaam",
        "kampagne", "aktion name", "formulaire", "nom du formulaire", "form", "form name",
    ],
    "channel": ["canal", "channel", "medium", "kanaal", "kanal"],
    # Which bounce a `bounce` row is: Mailchimp's `Bounce Type` (hard/soft), Mailjet's `hard_bounce` (true/false).
    "bounce_kind": [
        "bounce type", "type de bounce", "type de rebond", "bounce category", "hard_bounce", "is hard bounce",
        "bouncetyp", "bounce-type",
    ],
    # Whether the money came in (`Payment Status`, `Statut de la commande`); the generic `Status` is the
    # type column's synonym, and read as a payment status when its words are ones (see events.py).
    # The time of day, in a column of its own beside the date (PayPal's `Date`, `Time`).
    "occurred_time": ["heure", "heure du don", "heure du paiement", "uhrzeit", "zeit", "tijd", "tijdstip", "time of day"],
    "payment_status": [
        "payment status", "statut du paiement", "statut de paiement", "statut de la commande", "transaction status",
        "betaalstatus", "status betaling", "zahlungsstatus", "spendenstatus",
    ],
    "payment_method": [
        "moyen de paiement", "mode de paiement", "mode de règlement", "payment method", "payment type",
        "betaalmethode", "betaalwijze", "zahlungsart", "zahlungsmethode", "zahlweise",
    ],
    "details": ["détails", "details", "commentaire", "note", "notes", "description", "opmerking", "bemerkung", "url", "link"],
}

# Headers that say what kind of event a file holds when no type column or --type does.
IMPLIED_EVENT_TYPES: dict[str, str] = {
    loose(h): t
    for t, headers in {
        "donation": ["date du don", "montant du don", "donation date", "gift date", "date of gift", "donation amount",
                     "gift amount", "giftdatum", "schenkingsdatum", "giftbedrag", "spendendatum", "datum der spende",
                     "spendenbetrag"],
        "membership": ["date d'adhésion", "montant cotisation", "cotisation", "date de la cotisation",
                       "date de début de cotisation", "date de début d'adhésion", "date de cotisation",
                       "lidmaatschapsdatum", "beitrittsdatum", "beitrag", "contributie", "lidgeld", "mitgliedsbeitrag",
                       "jahresbeitrag", "membership fee"],
        # Emailing tools' per-campaign reports (Mailchimp's unsubscribe and abuse reports).
        "unsubscribe": ["unsubscribe date", "unsub date", "date de désinscription", "date de désabonnement",
                        "datum uitschrijving", "abmeldedatum"],
        "spam_complaint": ["abuse report date", "complaint date", "spam complaint date", "date de plainte"],
    }.items()
    for h in headers
}

# Built-in synonyms for custom fields under their usual names: they apply
# only when crmseg.yaml declares a field of that name.
CUSTOM_FIELD_SYNONYMS: dict[str, list[str]] = {
    "interests": ["centres d'intérêt", "centre d'intérêt", "intérêts", "interests", "interest", "interesses",
                  "interessegebieden", "interessen"],
    "member_number": ["n° adhérent", "numéro d'adhérent", "numéro adhérent", "no adhérent", "n° de membre",
                      "numéro de membre", "member number", "membership number", "member id", "lidnummer",
                      "lidmaatschapsnummer", "mitgliedsnummer", "mitgliedernummer", "mitgliedsnr",
                      # Sportlink's and other Dutch club tools' member code.
                      "relatiecode", "relatienummer", "lidcode"],
    "volunteer_days": ["disponibilités bénévole", "disponibilités", "jours de bénévolat", "volunteer days",
                       "availability", "beschikbaarheid", "vrijwilligersdagen", "verfügbarkeit"],
    "newsletter_theme": ["thème newsletter", "newsletter theme", "nieuwsbriefthema", "newsletter-thema"],
}

PRESETS: dict[str, dict[str, str]] = {
    "mailchimp": {
        "Email Address": "email", "First Name": "first_name", "Last Name": "last_name", "Address": "street",
        "Phone Number": "phone", "Birthday": "birth_date", "OPTIN_TIME": "consent_at", "TAGS": "tags",
        "Company": "organisation", "CC": "country", "STATUS": "email_status", "UNSUB_TIME": "unsubscribed_at",
        "UNSUB_CAMPAIGN_TITLE": "unsubscribe_campaign", "UNSUB_REASON": "unsubscribe_reason",
        "CLEAN_TIME": "hard_bounced_at", "CLEAN_CAMPAIGN_TITLE": "bounce_campaign",
    },
    "brevo": {
        "EMAIL": "email", "FIRSTNAME": "first_name", "PRENOM": "first_name", "LASTNAME": "last_name",
        "NOM": "last_name", "SMS": "phone", "EXT_ID": "external_id", "DOUBLE_OPT-IN": "consent_email",
        "OPT_IN": "consent_email", "ADDED_TIME": "created_at", "CIVILITE": "gender", "BLACKLISTED": "blocklisted",
        "EMAIL_BLACKLISTED": "blocklisted",
    },
    "hubspot": {
        "Email": "email", "First Name": "first_name", "Last Name": "last_name", "Phone Number": "phone",
        "Mobile Phone Number": "phone", "Street Address": "street", "City": "city", "Postal Code": "postal_code",
        "Country/Region": "country", "Company Name": "organisation", "Job Title": "job_title",
        "Record ID": "external_id", "Create Date": "created_at", "Original Source": "source",
        "Unsubscribed from all email": "unsubscribed", "Email hard bounce reason": "hard_bounced",
        "Marketing contact status": "email_status", "Legal basis for processing contact's data": "consent_basis",
    },
    # Google Contacts' CSV (both layouts); a cell may hold several values joined by ` ::: `.
    "google": {
        "Given Name": "first_name", "Family Name": "last_name", "E-mail 1 - Value": "email",
        "Phone 1 - Value": "phone", "Address 1 - Street": "street", "Address 1 - Extended Address": "street2",
        "Address 1 - City": "city", "Address 1 - Postal Code": "postal_code", "Address 1 - Country": "country",
        "Organization Name": "organisation", "Organization 1 - Name": "organisation",
        "Organization Title": "job_title", "Organization 1 - Title": "job_title", "Labels": "tags",
        "Group Membership": "tags",
    },
    # Outlook's CSV export.
    "outlook": {
        "E-mail Address": "email", "Mobile Phone": "phone", "Home Phone": "phone", "Business Phone": "phone",
        "Home Street": "street", "Home City": "city", "Home Postal Code": "postal_code",
        "Home Country/Region": "country", "Business Street": "street", "Business City": "city",
        "Business Postal Code": "postal_code", "Business Country/Region": "country", "Company": "organisation",
        "Job Title": "job_title", "Categories": "tags",
    },
}


# Words that say whose value a column holds (`Email payeur`, `Prénom du donateur`,
# `Donor email`, `E-mail deelnemer`) or which of a person's values it is (`Email pro`,
# `Téléphone domicile`, `Home Street`): a header that matches nothing matches again
# without them (folded), and without a linking word (du, de l', of the) they leave dangling.
# Words that say whose value a header holds (`Email payeur`: the payer's, someone else than the row's person).
_PERSON_WORDS = {
    fold(w) for w in [
        "payeur", "payeuse", "participant", "participante", "donateur", "donatrice", "adhérent", "adhérente",
        "acheteur", "acheteuse", "membre", "client", "cliente", "contact", "bénéficiaire", "souscripteur",
        "souscriptrice", "payer", "donor", "member", "buyer", "customer", "billing", "attendee", "betaler",
        "deelnemer", "lid", "klant", "koper", "zahler", "zahlers", "teilnehmer", "teilnehmers", "spender", "spenders",
        "mitglied", "mitglieds", "kunde", "kunden", "käufer", "käufers",
    ]
}
# Words that say which of a person's values a header holds (`Email pro`, `Home Street`).
_PLACE_WORDS = {
    fold(w) for w in [
        "home", "business", "work", "personal", "private", "domicile", "perso", "personnel", "personnelle", "pro",
        "professionnel", "professionnelle", "bureau", "privé", "privée", "thuis", "werk", "zakelijk", "privat",
        "geschäftlich", "dienstlich",
    ]
}
_ROLE_WORDS = _PERSON_WORDS | _PLACE_WORDS | {fold(w) for w in ["principal", "principale", "main", "primary"]}
# Contact fields a second column may fill where the first is empty (a mobile and a landline; a
# person's second email address, but not one that names another role: `Email payeur`).
SPARE_FIELDS = {"phone", "email"}
# The parts of an address: a second block of them (Outlook's Home after its Business columns) is
# the address of the rows whose first block is empty. Only columns that name which address they
# hold count, never ones that name whose (`Adresse payeur` is someone else's).
ADDRESS_FIELDS = ("street", "street2", "postal_code", "city", "country")


def _names_person(header: str) -> bool:
    """Whether ``header`` says whose value it holds (``Email payeur``), someone else than the row's person."""
    return any(w in _PERSON_WORDS for w in re.findall(r"[a-z0-9]+", fold_words(header)))


def _names_place(header: str) -> bool:
    """Whether ``header`` says which of a person's addresses it holds (``Home Street``, ``Adresse pro``)."""
    return any(w in _PLACE_WORDS for w in re.findall(r"[a-z0-9]+", fold_words(header)))


# Bare headers that name an address part only by where they stand (Belgian files: `Rue`, `Numéro`,
# `Boîte`; `Straat`, `Nr`, `Bus`): elsewhere `Numéro` is a member's number and `Bus` a coach.
_NUMBER_HEADERS = {"numero", "no", "n", "nr", "nummer", "num"}
_BOX_HEADERS = {"boite", "bte", "bus", "box"}


def _after_street(header: str, index: int, mapping: ColumnMapping) -> str | None:
    """The address part a bare header names by its place: ``Numéro`` right after the street column is the
    street number, ``Boîte``/``Bus`` right after that number is the box number; else None."""
    before = next((f for f, i in mapping.fields.items() if i == index - 1), None)
    folded = fold(header)
    if folded in _NUMBER_HEADERS and before == "street" and not {"street_number", "house_number"} & mapping.fields.keys():
        return "street_number"
    if folded in _BOX_HEADERS and before in ("street_number", "house_number") and "box_number" not in mapping.fields:
        return "box_number"
    return None


# A second date column with one of these headers is the time of day (PayPal's `Date`, then `Time`).
_TIME_HEADERS = {"time", "heure", "tijd", "uhrzeit", "zeit"}
# The generic status header: beside another type column (AssoConnect's payments: `Statut`, `Type`),
# it is the payment's status, not the kind of event.
_STATUS_HEADERS = {"statut", "status"}
# Headers that name a civility in some exports (Outlook's `Title`: Mr, Mrs) and a job in others
# (Salesforce's `Title` beside its `Salutation`): after a civility column, they are the job title.
TITLE_HEADERS = {"title", "titre"}
# A role word never turns a header into one of these (`Type de membre`, `Statut de l'adhérent`, `ID client`).
_NOT_BY_ROLE = {"type", "email_status", "external_id"}


def without_role(header: str) -> str | None:
    """``header`` without the words that name a role, or None when it has none.

    >>> without_role("Code Postal payeur")
    'code postal'
    >>> without_role("Date de naissance de l'adhérent")
    'date de naissance'
    """
    words = re.findall(r"[a-z0-9]+", fold_words(header))
    kept = [w for w in words if w not in _ROLE_WORDS]
    while kept and kept[-1] in _LINK_WORDS:
        kept.pop()
    if len(kept) == len(words) or not kept:
        return None
    return " ".join(kept)


@functools.cache
def _known_headers() -> frozenset[str]:
    words = [w for synonyms in (*CONTACT_SYNONYMS.values(), *EVENT_SYNONYMS.values()) for w in synonyms]
    words += [h for preset in PRESETS.values() for h in preset]
    words += [w for synonyms in CUSTOM_FIELD_SYNONYMS.values() for w in synonyms]
    return frozenset(fold(w) for w in words)


def is_known_header(text: str) -> bool:
    """Whether ``text`` is a column name crmseg maps (any language, kind or preset)."""
    bare = without_role(text)
    return fold(text) in _known_headers() or (bare is not None and fold(bare) in _known_headers())


@dataclass
class ColumnMapping:
    """Which file column (by index) feeds which field, and what was left out."""

    fields: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    implied_type: str | None = None
    # Later columns of a field in SPARE_FIELDS: they fill it where the first is empty.
    spares: dict[str, list[int]] = field(default_factory=dict)

    def used_columns(self) -> set[int]:
        """The indexes of every column the import reads."""
        return set(self.fields.values()) | {i for indexes in self.spares.values() for i in indexes}

    def column(self, name: str) -> str | None:
        """The raw table's column (``cN``) for ``name``, or None."""
        index = self.fields.get(name)
        return None if index is None else f"c{index}"


def parse_map_option(values: list[str] | None) -> dict[str, str]:
    """``--map`` values: ``COLUMN=field`` pairs, or the path of a YAML mapping ``COLUMN: field``."""
    mapping: dict[str, str] = {}
    for value in values or []:
        if "=" in value and not Path(value).exists():
            column, _, target = value.rpartition("=")
            if not column.strip():
                raise InputError(f"--map {value}: write COLUMN=field, e.g. --map \"Courriel=email\".")
            # An empty field (`--map Note=`) leaves the column out, as in a --map YAML file.
            mapping[column.strip()] = target.strip()
            continue
        path = Path(value)
        if not path.exists():
            raise InputError(f"--map {value}: neither COLUMN=field nor an existing YAML file.")
        document = load_yaml(path)
        if not isinstance(document.data, dict):
            raise InputError(f"{path}: a --map file must be a mapping of column header to field name.")
        for column, target in document.data.items():
            mapping[str(column)] = "" if target is None else str(target)
    return mapping


def custom_field_headers(settings: Settings) -> dict[str, list[str]]:
    """Header synonyms of each declared custom field."""
    result: dict[str, list[str]] = {}
    for name, spec in settings.fields.items():
        headers = [name, name.replace("_", " ")]
        if spec.label:
            headers.append(spec.label)
        headers.extend(spec.aliases)
        headers.extend(CUSTOM_FIELD_SYNONYMS.get(name, []))
        result[name] = headers
    return result


def mapping_targets(kind: str, settings: Settings) -> set[str]:
    """The field names a ``contacts`` or ``events`` import can map a column to."""
    builtin = CONTACT_SYNONYMS if kind == "contacts" else EVENT_SYNONYMS
    return set(builtin) | set(settings.fields)


def check_map_targets(explicit: dict[str, str], kind: str, settings: Settings) -> None:
    """Refuse a ``--map`` target that is no field (before any file is read)."""
    targets = mapping_targets(kind, settings)
    for column, target in explicit.items():
        if target and target not in targets:
            raise InputError(
                f"--map {column}={target}: `{target}` is not a field of a {kind} import."
                f"{did_you_mean(target, sorted(targets))}"
            )


def map_headers(
    headers: list[str],
    *,
    kind: str,
    settings: Settings,
    preset: str | None = None,
    explicit: dict[str, str] | None = None,
    path: Path | None = None,
) -> ColumnMapping:
    """Map ``headers`` (in file order) for a ``contacts`` or ``events`` import.

    The first column that maps to a field feeds it; a later column that would
    map to the same field is listed as unmapped, except for a contact's phone
    and email (``SPARE_FIELDS``): ``Téléphone fixe`` after ``Téléphone mobile``
    fills the phone of the rows whose mobile is empty.
    """
    builtin = CONTACT_SYNONYMS if kind == "contacts" else EVENT_SYNONYMS
    targets = mapping_targets(kind, settings)
    if preset is not None and preset not in PRESETS:
        raise InputError(f"--preset {preset}: unknown preset; choose one of {', '.join(PRESETS)}.")

    # by_loose is the second chance, without linking words (see ``loose``); presets name exact
    # columns and stay out of it. Lowest priority first: custom fields override built-in synonyms.
    by_fold: dict[str, str] = {}
    by_loose: dict[str, str] = {}
    customs = custom_field_headers(settings)
    for table, key in ((by_fold, fold), (by_loose, loose)):
        for name, synonyms in builtin.items():
            for synonym in synonyms:
                table.setdefault(key(synonym), name)
        for name, synonyms in customs.items():
            for synonym in synonyms:
                table[key(synonym)] = name
    for preset_name, columns in PRESETS.items():
        for header, name in columns.items():
            if name in builtin or name in settings.fields:
                by_fold.setdefault(fold(header), name)
    if preset is not None:
        for header, name in PRESETS[preset].items():
            if name in builtin or name in settings.fields:
                by_fold[fold(header)] = name

    explicit = explicit or {}
    folded_headers = {fold(h): h for h in headers}
    for column, target in explicit.items():
        if column not in headers and fold(column) not in folded_headers:
            where = f"{path}: " if path else ""
            raise InputError(
                f"{where}--map names the column `{column}`, which the file does not have. "
                f"Its columns are: {', '.join(headers)}."
            )
        if target and target not in targets:
            raise InputError(
                f"--map {column}={target}: `{target}` is not a field of a {kind} import."
                f"{did_you_mean(target, sorted(targets))}"
            )

    def lookup(text: str) -> str | None:
        target = by_fold.get(fold(text)) or by_loose.get(loose(text))
        bare = without_role(text) if target is None else None
        if bare is not None:
            found = by_fold.get(fold(bare)) or by_loose.get(loose(bare))
            target = found if found not in _NOT_BY_ROLE else None
        return target

    mapping = ColumnMapping()
    for index, header in enumerate(headers):
        if header in explicit or fold(header) in {fold(c) for c in explicit}:
            target = explicit.get(header)
            if target is None:
                target = next(t for c, t in explicit.items() if fold(c) == fold(header))
        else:
            target = lookup(header)
            if target is None and ":" in header:
                # A form's question under a heading of the tool's (HelloAsso's `Champ additionnel: Téléphone`).
                found = lookup(header.rsplit(":", 1)[1])
                target = found if found not in _NOT_BY_ROLE else None
            if target is None and "/" in header:
                # A header in two languages (Belgian files: `Naam / Nom`, `Postcode / Code postal`): its
                # halves name one field, or one half names it and the other nothing.
                found = {lookup(part) for part in header.split("/") if part.strip()} - {None}
                target = found.pop() if len(found) == 1 and not found & _NOT_BY_ROLE else None
            if target is None and kind == "contacts":
                target = _after_street(header, index, mapping)
        if kind == "events" and mapping.implied_type is None:
            mapping.implied_type = IMPLIED_EVENT_TYPES.get(loose(header))
        if target and target in mapping.fields:
            target = _later_column(kind, target, header, index, headers, mapping, explicit)
            if target is None:
                continue
        if not target or target in mapping.fields:
            mapping.unmapped.append(header)
            continue
        mapping.fields[target] = index
    if kind == "contacts" and "external_id" in mapping.fields and settings.external_id_fields:
        # A generic "external id" column feeds the declared match-key field.
        first = settings.external_id_fields[0]
        if first not in mapping.fields:
            mapping.fields[first] = mapping.fields.pop("external_id")
    return mapping


def _later_column(
    kind: str, target: str, header: str, index: int, headers: list[str], mapping: ColumnMapping, explicit: dict[str, str]
) -> str | None:
    """What a column becomes whose field an earlier column already feeds.

    Another field (a job ``Title`` after a civility, a payment ``Statut``
    beside a type, a ``Time`` after the date), or a spare of the field (a
    second phone or email, an address block of another place), recorded in
    ``mapping.spares`` (None is returned); else ``target`` itself, which the
    caller lists as unmapped.
    """
    first = headers[mapping.fields[target]]
    if kind == "contacts":
        if target == "gender" and fold(header) in TITLE_HEADERS and "job_title" not in mapping.fields and header not in explicit:
            return "job_title"
        if target in SPARE_FIELDS and (target != "email" or not _names_person(header)):
            mapping.spares.setdefault(target, []).append(index)
            return None
        if target in ADDRESS_FIELDS and _names_place(header) and _names_place(first):
            mapping.spares.setdefault(target, []).append(index)
            return None
        return target
    if target == "type" and "payment_status" not in mapping.fields and header not in explicit:
        if fold(header) in _STATUS_HEADERS:
            return "payment_status"
        if fold(first) in _STATUS_HEADERS and first not in explicit:
            mapping.fields["payment_status"] = mapping.fields.pop("type")
    if target == "occurred_at" and fold(header) in _TIME_HEADERS and "occurred_time" not in mapping.fields:
        return "occurred_time"
    return target


def require_any(mapping: ColumnMapping, wanted: list[str], path: Path, headers: list[str], what: str) -> None:
    """Raise when none of ``wanted`` is mapped."""
    if not any(name in mapping.fields for name in wanted):
        raise ImportFileError(
            f"{path}: no column could be mapped to {what}. Its columns are: {', '.join(headers)}. "
            "Name them with --map \"COLUMN=field\" (or --preset mailchimp|brevo|hubspot|google|outlook)."
        )
