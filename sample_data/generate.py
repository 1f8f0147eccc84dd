#!/usr/bin/env python3
"""Generate crmseg's sample data: "Les Amis des Bêtes", a fictional animal-welfare
association based in Lyon with about 2,000 contacts all over France.

``python sample_data/generate.py`` (from any directory) rewrites three files
beside this script, byte-identical on every run (fixed seed, fixed dates,
fixed workbook metadata; needs only the stdlib and xlsxwriter):

- ``contacts_crm.csv``       the CRM export, as French Excel writes it (2,000 rows)
- ``dons_adhesions.xlsx``    sheets ``Dons`` (gifts 2021-01 .. 2026-11-15) and ``Adhésions``
- ``emailing_activity.csv``  a Brevo-like activity log of 12 newsletters (2025-11 .. 2026-11)

The data's "today" is 2026-11-15: run crmseg with ``--as-of 2026-11-15``.
``crmseg.yaml``, ``segments/`` and ``README.md`` are written by hand.

Traps planted on purpose:

- contacts_crm.csv is Windows-1252 (``’`` and ``Œ`` are bytes 0x92/0x8C, which
  Latin-1 turns into control characters), ``;``-delimited, CRLF, with quoted
  fields holding ``"`` and a line feed ("12 rue des Lilas\\nBâtiment B").
- Day-first dates, impossible ones ("31/02/2020", "hier", "1975"), postal codes
  with a leading zero (01000, 06000), Belgian rows (4-digit codes, +32 and
  0470... numbers that only parse with the row's country).
- Phones in every French spelling plus "n/a" and "123"; emails with spaces and
  capitals, broken ones ("x@", "x at free.fr", "x@@orange.fr"), disposable
  (yopmail...), special-use or impossible domains (example.com, .invalid,
  gmail.con), role addresses (contact@, info@) of organisations.
- Multiselects split on "|", with "Animaux" capitalised and an unknown "sport".
- "Montant dernier don": decimal comma, U+00A0 thousands separator ("1 234,56").
- 60 fuzzy duplicates (typo, accents dropped, first/last swapped, other or no
  email; same postal code, phone or birth date), 15 exact duplicates that differ
  only by email case/spaces, 20 rows that identify nobody.
- Gifts: monthly direct debits (some stopped in 2025 or mid-2026), one-off and
  big donors, brand-new donors (Sept-Nov 2026), donors lapsing in Oct-Nov 2025,
  postal donors known only by member number, 3 gifts from unknown emails.
- Emailing: hard bounces, 5+ and exactly 4 consecutive soft bounces, soft
  bounces broken by an open, unsubscribes, spam complaints, and a dormant
  group with no open or click for more than 6 months. To keep the file small,
  ``sent`` rows are kept for the 6 latest mailings only; every open, click,
  bounce, unsubscribe and complaint is kept.
"""
import csv
import random
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path

import xlsxwriter

SEED = 20261115
AS_OF = date(2026, 11, 15)
OUT = Path(__file__).resolve().parent
N_BASE = 1905  # + 60 fuzzy + 15 exact duplicates + 20 unidentifying rows = 2000
NBSP = "\u00a0"

CRM_HEADER = ["Civilité", "Prénom", "Nom", "Adresse e-mail", "Téléphone", "Adresse", "Code postal",
              "Ville", "Pays", "Date de naissance", "Date de création", "Source", "Centres d'intérêt",
              "Disponibilités bénévole", "N° adhérent", "Tags", "Opt-in email", "Date opt-in",
              "Profession", "Organisation", "Montant dernier don"]
FEMALE = ("Marie Hélène Françoise Anne Sophie Camille Léa Chloé Manon Émilie Céline Nathalie Isabelle "
          "Sylvie Catherine Valérie Brigitte Martine Monique Christine Aurélie Élodie Julie Laura Inès "
          "Zoé Noémie Maëlle Anaïs Gaëlle Joëlle Noëlle Agnès Bérénice Clémence Margaux Pauline Lucie "
          "Sandrine Véronique Mélanie Océane Jeanne Louise Alice Juliette Thérèse Geneviève Danièle "
          "Claire Mathilde Charlotte Solène Estelle Héloïse Adèle Éléonore Marie-Claude Anne-Sophie").split()
MALE = ("Jean François Pierre Michel Philippe Alain Bernard Patrick Nicolas Thomas Julien Sébastien "
        "Stéphane Frédéric Jérôme Gaël Noël Raphaël Joël Loïc Hervé René André Gérard Benoît Jérémy "
        "Théo Lucas Hugo Mathéo Clément Étienne Grégoire Maël Yannick Olivier Christophe Laurent Éric "
        "Thierry Denis Rémi Léon Émile Arnaud Cédric Jean-Pierre Jean-Luc Marc-Antoine Quentin Antoine "
        "Baptiste Mathieu Guillaume Romain Maxime Vincent Yves Gilles Dominique Aurélien").split()
LAST = ("Martin,Bernard,Dubois,Thomas,Robert,Richard,Petit,Durand,Leroy,Moreau,Simon,Laurent,Lefèvre,"
        "Michel,Garcia,David,Bertrand,Roux,Vincent,Fournier,Morel,Girard,André,Lefebvre,Mercier,Dupont,"
        "Lambert,Bonnet,François,Martinez,Legrand,Garnier,Faure,Rousseau,Blanc,Guérin,Muller,Henry,"
        "Roussel,Perrin,Morin,Mathieu,Clément,Gauthier,Dumont,Lopez,Fontaine,Chevalier,Robin,Masson,"
        "Gérard,Nguyen,Boyer,Lemaire,Duval,Joly,Roche,Noël,Meyer,Meunier,Pérez,Marchand,Dufour,"
        "Blanchard,Barbier,Brun,Dumas,Brunet,Schmitt,Leroux,Colin,Fernandez,Renard,Arnaud,Rolland,Caron,"
        "Aubert,Giraud,Leclerc,Vidal,Bourgeois,Renaud,Lemoine,Picard,Gaillard,Lacroix,Fabre,Dupuis,"
        "Da Silva,Hubert,Rivière,Le Gall,Moulin,Berger,Lecomte,Ménard,Fleury,Deschamps,Carpentier,"
        "Maillard,Aubry,Vasseur,Le Roux,Jacquet,Collet,Prévost,Poirier,Charpentier,Huet,Baron,Dupuy,"
        "Carré,Rémy,Schneider,Bouvier,Bègue,Chauvin,Lebrun,Barré,Gonçalves,Lemaître,Vallée,Thébault,"
        "Crépin,Mérieux,Ferré,Benoît,Périer,Bréchet,Gagnière").split(",")
LYON = [(f"6900{i}", "Lyon", 5) for i in range(1, 10)]
CITIES = LYON + [
    ("69100", "Villeurbanne", 9), ("69200", "Vénissieux", 3), ("69300", "Caluire-et-Cuire", 3),
    ("69400", "Villefranche-sur-Saône", 2), ("69500", "Bron", 2), ("69600", "Oullins", 2),
    ("69800", "Saint-Priest", 2), ("69130", "Écully", 1), ("69160", "Tassin-la-Demi-Lune", 1),
    ("75011", "Paris", 5), ("75015", "Paris", 5), ("75018", "Paris", 4), ("75005", "Paris", 3),
    ("75020", "Paris", 3), ("13001", "Marseille", 3), ("13008", "Marseille", 3), ("13100", "Aix-en-Provence", 2),
    ("38000", "Grenoble", 6), ("42000", "Saint-Étienne", 5), ("74000", "Annecy", 4), ("73000", "Chambéry", 3),
    ("01000", "Bourg-en-Bresse", 3), ("06000", "Nice", 3), ("07000", "Privas", 1), ("05000", "Gap", 1),
    ("26000", "Valence", 3), ("44000", "Nantes", 4), ("59000", "Lille", 4), ("33000", "Bordeaux", 4),
    ("31000", "Toulouse", 4), ("34000", "Montpellier", 3), ("67000", "Strasbourg", 3), ("35000", "Rennes", 2),
    ("21000", "Dijon", 2), ("63000", "Clermont-Ferrand", 3), ("71000", "Mâcon", 2), ("84000", "Avignon", 2),
    ("02000", "Laon", 1), ("37000", "Tours", 1), ("25000", "Besançon", 1)]
BELGIUM = [("1000", "Bruxelles"), ("4000", "Liège"), ("5000", "Namur"), ("7000", "Mons"), ("6000", "Charleroi")]
LANDLINE = {"75": "1", "44": "2", "35": "2", "37": "2", "59": "3", "67": "3", "21": "3", "25": "3",
            "02": "3", "71": "3", "33": "5", "31": "5"}
STREETS = ["des Lilas", "Victor Hugo", "de la République", "Jean Jaurès", "du Général de Gaulle",
           "de la Croix-Rousse", "Pasteur", "des Érables", "du Moulin", "de l’Étang", "Émile Zola",
           "Paul Bert", "Garibaldi", "de la Gare", "des Tilleuls", "Saint-Jean", "Mercière", "Vendôme",
           "des Brotteaux", "Félix Faure", "de Créqui", "Anatole France", "du Château", "des Vignes"]
STREET_TYPES = ["rue"] * 6 + ["avenue", "avenue", "boulevard", "place", "chemin", "impasse", "allée", "quai"]
BE_STREETS = ["Rue Neuve", "Chaussée de Wavre", "Avenue Louise", "Rue de la Station", "Rue des Prés"]
COMPLEMENTS = ["Bâtiment B", "Appartement 12", "Résidence Les Tilleuls", "3e étage, porte gauche", "BP 42"]
DOMAINS = [("gmail.com", 30), ("orange.fr", 15), ("free.fr", 10), ("hotmail.fr", 8), ("yahoo.fr", 7),
           ("laposte.net", 6), ("sfr.fr", 5), ("wanadoo.fr", 5), ("outlook.fr", 5), ("icloud.com", 4), ("bbox.fr", 3)]
DISPOSABLE = ["yopmail.com", "mailinator.com", "yopmail.fr", "jetable.org", "trashmail.com"]
ODD_DOMAINS = ["example.com", "asso.invalid", "gmail.con", "free.local"]
ORGS = [("Clinique vétérinaire des Brotteaux", "contact", "clinique-brotteaux.fr"),
        ("Mairie de Villeurbanne", "accueil", "mairie-villeurbanne.fr"),
        ('Refuge "Les Pattes Blanches"', "contact", "pattes-blanches.org"),
        ("Œuvre lyonnaise pour les bêtes", "info", "oeuvre-lyonnaise-betes.fr"),
        ("Animalerie du Parc", "info", "animalerie-duparc.fr"),
        ("École élémentaire Jean Macé", "secretariat", "ecole-jeanmace.fr"),
        ("Chats Libres de la Croix-Rousse", "contact", "chatslibres-croixrousse.org"),
        ("Ferme pédagogique de Saint-Priest", "info", "ferme-stpriest.fr"),
        ("Croquettes & Cie", "contact", "croquettes-cie.fr"), ("Lyon Quotidien", "redaction", "lyon-quotidien.fr"),
        ("Lycée agricole de Dardilly", "contact", "lycee-dardilly.fr"),
        ("Refuge de l’Espoir", "info", "refuge-espoir.org"),
        ("Pension canine Les Monts d’Or", "contact", "pension-montsdor.fr"),
        ("Toilettage Poil de Carotte", "info", "poildecarotte.fr"),
        ("Cabinet Lefèvre & Associés", "contact", "lefevre-associes.fr")]
JOBS = [("Enseignante", "Enseignant"), ("Vétérinaire", "Vétérinaire"), ("Retraitée", "Retraité"),
        ("Infirmière", "Infirmier"), ("Ingénieure", "Ingénieur"), ("Étudiante", "Étudiant"),
        ("Comptable", "Comptable"),
        ("Artisane", "Artisan"), ("Agricultrice", "Agriculteur"), ("Cadre", "Cadre"), ("Employée", "Employé"),
        ("Commerçante", "Commerçant"), ("Médecin", "Médecin"), ("Avocate", "Avocat"), ("Toiletteuse", "Toiletteur"),
        ("Éducatrice canine", "Éducateur canin"), ("Assistante sociale", "Assistant social")]
SOURCES = ["Site web", "Site web", "Événement", "Pétition en ligne", "Salon Animal Expo", "Facebook",
           "Bouche à oreille", "Refuge (visite)", "Ancien fichier Excel", "Adoption"]
INTERESTS = ["animaux", "environnement", "education"]
DAYS = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]
TAGS = ["newsletter", "benevole", "presse", "grand-donateur", "parrainage"]
GIFT_CAMPAIGNS = ([(f"Printemps {y}", date(y, 3, 15), date(y, 5, 31)) for y in range(2021, 2027)]
                  + [(f"Noël {y}", date(y, 11, 25), date(y, 12, 31)) for y in range(2021, 2026)]
                  + [("Été des refuges 2024", date(2024, 7, 1), date(2024, 8, 31)),
                     ("Urgence refuge 2026", date(2026, 2, 1), date(2026, 3, 31)),
                     ("Automne 2025", date(2025, 10, 1), date(2025, 11, 14)),
                     ("Automne 2026", date(2026, 10, 1), date(2026, 11, 14))])
GIFT_WAYS = [("CB", "site web", 45), ("CB", "email", 20), ("Chèque", "courrier", 20),
             ("Virement", "courrier", 5), ("Espèces", "événement", 7), ("CB", "événement", 3)]
MAILINGS = [(date(2025, 11, 6), "Newsletter novembre 2025"), (date(2025, 12, 4), "Appel de Noël 2025"),
            (date(2026, 1, 15), "Newsletter janvier 2026"), (date(2026, 2, 12), "Newsletter février 2026"),
            (date(2026, 3, 12), "Urgence refuge 2026"), (date(2026, 4, 9), "Printemps 2026"),
            (date(2026, 5, 14), "Newsletter mai 2026"), (date(2026, 6, 11), "Portes ouvertes du refuge"),
            (date(2026, 7, 9), "Newsletter été 2026"), (date(2026, 9, 10), "Newsletter rentrée 2026"),
            (date(2026, 10, 8), "Newsletter octobre 2026"), (date(2026, 11, 5), "Newsletter novembre 2026")]


def pick1(rng, weighted):
    return rng.choices([w[:-1] if len(w) > 2 else w[0] for w in weighted], [w[-1] for w in weighted])[0]


def rand_date(rng, start, end):
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def fr_date(d):
    return d.strftime("%d/%m/%Y")


def slug(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in s if c.isalnum() or c == "-")


def phone_fr(rng, postal, mobile_share=0.7):
    # second digits chosen so numbers stay metropolitan (06 9x, 02 62... are overseas)
    lead = rng.choice("66667") if rng.random() < mobile_share else LANDLINE.get(postal[:2], "4")
    lead += rng.choice("1245678" if lead == "6" else "3456789" if lead == "7" else "134578")
    nsn = lead + "".join(str(rng.randrange(10)) for _ in range(7))
    return format_fr(rng, nsn)


def format_fr(rng, nsn):
    d = "0" + nsn
    pairs = " ".join(d[i:i + 2] for i in range(0, 10, 2))
    styles = [pairs, pairs.replace(" ", "."), f"+33 {nsn[0]} " + pairs[3:], "0033" + nsn, nsn, d, "+33" + nsn]
    return rng.choices(styles, [40, 15, 15, 7, 6, 12, 5])[0]


def phone_be(rng):
    nsn = "4" + rng.choice("789") + "".join(str(rng.randrange(10)) for _ in range(7))
    spaced = f"{nsn[:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}"
    return rng.choice([f"+32 {spaced}", f"0{spaced}", f"0032{nsn}"])


def make_email(rng, first, last, used, domain=None):
    f, l = slug(first), slug(last)
    local = rng.choices([f"{f}.{l}", f"{f}{l}", f"{f[0]}.{l}", f"{f}.{l}{rng.randrange(1, 99)}", f"{l}.{f}"],
                        [45, 15, 15, 15, 10])[0]
    domain = domain or pick1(rng, DOMAINS)
    email = f"{local}@{domain}"
    while email in used:
        email = f"{local}{rng.randrange(100, 999)}@{domain}"
    used[email] = True
    return email


def messy(rng, email):
    """The same address as a person typed it: capitals and stray spaces."""
    local, domain = email.split("@")
    head, _, rest = local.partition(".")
    mixed = f"{head.title()}.{rest.upper()}" if rest else local.title()
    shown = rng.choice([f"{mixed}@{domain.capitalize()}", email.upper(), f"{local}@{domain.upper()}"])
    return rng.choice(["", " ", "  "]) + shown + rng.choice(["", " "])


def street_fr(rng):
    num = rng.randrange(1, 180)
    return f"{num}{rng.choice(['', '', '', '', ' bis', ' ter'])} {rng.choice(STREET_TYPES)} {rng.choice(STREETS)}"


def new_person(rng, kind, used, org=None):
    female = rng.random() < 0.6
    p = dict(kind=kind, female=female, first=rng.choice(FEMALE if female else MALE), last=rng.choice(LAST),
             civ=pick1(rng, [("Mme", 50), ("Madame", 22), ("Mlle", 5), ("", 23)]) if female
             else pick1(rng, [("M.", 55), ("Monsieur", 25), ("", 20)]),
             email="", norm=None, phone="", street="", postal="", city="", birth="", source=rng.choice(SOURCES),
             country=pick1(rng, [("France", 88), ("", 10), ("FRANCE", 2)]), interests=[], days=[], member="",
             tags=[], optin="", optin_at=None, job="", org="", last_gift="", raw={},
             created=rand_date(rng, date(2019, 1, 1), AS_OF))
    postal, city = pick1(rng, CITIES)
    if rng.random() < 0.85:
        lo = date(1940, 1, 1)
        p["birth"] = fr_date(rand_date(rng, lo, date(1965, 12, 31) if kind == "postal" else date(2005, 12, 31)))
    if kind == "org":
        p["org"], role, domain = org
        if rng.random() < 0.5:
            p.update(civ="", first="", last="", birth="")
        p.update(email=f"{role}@{domain}", street=street_fr(rng), postal=postal, city=city, country="France",
                 phone=phone_fr(rng, postal, 0), optin="Oui")
    elif kind == "postal":
        p.update(street=street_fr(rng), postal=postal, city=city, optin=rng.choice(["", "Non"]),
                 source=rng.choice(["Courrier", "Mailing papier", "Refuge (visite)", "Ancien fichier Excel"]))
        if rng.random() < 0.5:
            p["phone"] = phone_fr(rng, postal)
    else:
        p["email"] = make_email(rng, p["first"], p["last"], used)
        level = rng.random()
        if level < 0.85:
            p.update(postal=postal, city=city)
        if level < 0.70:
            p["street"] = street_fr(rng)
        if rng.random() < 0.8:
            p["phone"] = phone_fr(rng, postal)
        p["optin"] = "Oui" if rng.random() < 0.85 else "Non"
        if rng.random() < 0.11:
            p["days"] = sorted(rng.sample(DAYS, rng.randint(1, 4)), key=DAYS.index)
    p["norm"] = p["email"] or None
    if p["optin"] == "Oui":
        p["optin_at"] = min(datetime.combine(p["created"], time(rng.randrange(8, 23), rng.randrange(60)))
                            + timedelta(days=rng.randrange(20)), datetime.combine(AS_OF, time(8)))
        if rng.random() < 0.8 or kind == "org":
            p["tags"].append("newsletter")
    if kind != "org" and rng.random() < 0.75:
        picked = [o for o, w in zip(INTERESTS, (0.85, 0.35, 0.2)) if rng.random() < w]
        p["interests"] = picked or ["animaux"]
    if kind != "org" and rng.random() < 0.55:
        born = int(p["birth"][-4:]) if p["birth"] else 1970
        jobs = [j for j in JOBS if not (j[1] == "Retraité" and born > 1962 or j[1] == "Étudiant" and born < 1996)]
        p["job"] = rng.choice(jobs)[0 if female else 1]
        if born < 1960 and rng.random() < 0.7:
            p["job"] = "Retraitée" if female else "Retraité"
        elif rng.random() < 0.03:
            p["job"] = "Journaliste"
    if p["days"] and rng.random() < 0.85:
        p["tags"].append("benevole")
    if p["job"] == "Journaliste" or p["org"] == "Lyon Quotidien":
        p["tags"].append("presse")
    if kind != "org" and rng.random() < 0.05:
        p["tags"].append("parrainage")
    return p


def build_people(rng, used):
    kinds = ["org"] * len(ORGS) + ["postal"] * 150 + ["person"] * (N_BASE - len(ORGS) - 150)
    rng.shuffle(kinds)
    orgs = iter(ORGS)
    people = [new_person(rng, k, used, next(orgs) if k == "org" else None) for k in kinds]
    plant_traps(rng, people, used)
    members = [p for p in people if p["kind"] != "org" and rng.random() < (0.85 if p["kind"] == "postal" else 0.26)]
    members.sort(key=lambda p: p["created"])
    for p, n in zip(members, sorted(rng.sample(range(1, 4000), len(members)))):
        p["member"] = f"ADH-{n:05d}"
    return people


def plant_traps(rng, people, used):
    taken = set()

    def pick(k, cond=lambda p: True):
        pool = [i for i, p in enumerate(people) if p["kind"] == "person" and i not in taken and cond(p)]
        chosen = rng.sample(pool, k)
        taken.update(chosen)
        return [people[i] for i in chosen]

    for p in pick(90):
        p["email"] = messy(rng, p["email"])
    for p in pick(10):
        p["email"] = p["norm"] = make_email(rng, p["first"], p["last"], used, rng.choice(DISPOSABLE))
    for p, dom in zip(pick(4), ODD_DOMAINS):
        p["email"] = p["norm"] = make_email(rng, p["first"], p["last"], used, dom)
    for p, pattern in zip(pick(6, lambda p: p["phone"]), ["{f}.{l}@", "{f} at free.fr", "{f}@@orange.fr",
                                                          "{f}.{l}@gmail", "{f}..{l}@gmail.com", "@{l}.fr"]):
        p["email"], p["norm"] = pattern.format(f=slug(p["first"]), l=slug(p["last"])), None
    for p, bad in zip(pick(3, lambda p: p["email"]), ["n/a", "123", "00 00 00"]):
        p["phone"] = bad
    for p in pick(15):
        p["postal"], p["city"] = rng.choice(BELGIUM)
        p["street"] = f"{rng.choice(BE_STREETS)} {rng.randrange(1, 200)}"
        p.update(country="Belgique", phone=phone_be(rng) if rng.random() < 0.85 else "")
    for p in pick(30, lambda p: p["street"]):
        p["street"] += "\n" + rng.choice(COMPLEMENTS)
    for p in pick(3, lambda p: p["street"]):
        p["street"] = f'Résidence "Le Parc", {p["street"]}'
    pick(1, lambda p: p["first"] == "Jean-Pierre" or p["first"] == "Jean")[0]["first"] += ' "Jeannot"'
    for p in pick(5, lambda p: "animaux" in p["interests"]):
        p["interests"][p["interests"].index("animaux")] = "Animaux"
    pick(1, lambda p: p["interests"])[0]["interests"].append("sport")
    bad = [("Date de création", "31/02/2020"), ("Date de création", "hier"), ("Date de naissance", "31/02/1978"),
           ("Date de naissance", "1975"), ("Date opt-in", "32/01/2024 10:00")]
    for p, (col, value) in zip(pick(5, lambda p: p["optin"] == "Oui"), bad):
        p["raw"][col] = value


def add_months(d, n):
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, d.day)


def gift(rng, p, when, amount, way=None, campaign=None):
    if campaign is None:
        campaign = next((c for c, lo, hi in GIFT_CAMPAIGNS if lo <= when <= hi), "")
    pay, channel = way or (("Chèque", "courrier") if not p["norm"] else pick1(rng, GIFT_WAYS))
    return dict(p=p, when=when, amount=amount, pay=pay, campaign=campaign, channel=channel)


def one_off_amount(rng):
    if rng.random() < 0.1:
        return round(rng.uniform(5, 120), 2)
    return float(rng.choice([10, 15, 20, 25, 30, 40, 50, 50, 60, 75, 100, 100, 150, 200]))


def campaign_gift(rng, p, before=AS_OF):
    if rng.random() < 0.12:
        return gift(rng, p, rand_date(rng, date(2021, 1, 1), before), one_off_amount(rng))
    name, lo, hi = rng.choice([c for c in GIFT_CAMPAIGNS if c[1] <= before])
    return gift(rng, p, rand_date(rng, lo, min(hi, before)), one_off_amount(rng), campaign=name)


def plan_gifts(rng, people):
    pool = [p for p in people if (p["kind"] == "person" and p["norm"]) or p["member"]]
    rng.shuffle(pool)
    monthly, big, new, lapsing, oneoff = pool[:110], pool[110:122], pool[122:147], pool[147:165], pool[165:777]
    gifts = []
    for p in monthly:
        start = add_months(date(2021, 1, 5), rng.randrange(60))
        r = rng.random()
        if r < 0.18 and start < date(2024, 7, 1):
            stop = rand_date(rng, date(2025, 1, 1), date(2025, 12, 1))
        elif r < 0.32:
            stop = rand_date(rng, date(2026, 5, 1), date(2026, 7, 20))
        else:
            stop = AS_OF
        amount = float(rng.choice([5, 8, 10, 10, 12, 15, 15, 20, 20, 25, 30, 50]))
        way = ("Prélèvement", rng.choice(["site web", "courrier"]))
        raise_at = add_months(start, rng.randrange(6, 40)) if rng.random() < 0.2 else None
        when = start
        while when <= stop:
            if raise_at and when >= raise_at:
                amount, raise_at = amount + 5, None
            gifts.append(gift(rng, p, when, amount, way, "Don mensuel"))
            when = add_months(when, 1)
    for p in big:
        p["tags"].append("grand-donateur")
        for _ in range(rng.randint(1, 4)):
            amount = rng.choice([500.0, 750.0, 1000.0, 1500.0, 2000.0, 2500.0, 5000.0, 1234.56, 3333.33])
            gifts.append(gift(rng, p, rand_date(rng, date(2021, 1, 1), AS_OF), amount,
                              rng.choice([("Virement", "courrier"), ("Chèque", "courrier")])))
    for p in new:
        for _ in range(rng.randint(1, 2)):
            gifts.append(gift(rng, p, rand_date(rng, date(2026, 9, 1), date(2026, 11, 14)), one_off_amount(rng)))
    for p in lapsing:
        gifts += [campaign_gift(rng, p, date(2025, 9, 30)) for _ in range(rng.randint(0, 3))]
        gifts.append(gift(rng, p, rand_date(rng, date(2025, 10, 16), date(2025, 11, 14)), one_off_amount(rng)))
    for p in oneoff:
        count = rng.choices([1, 2, 3, 4, 5, 6, 8, 10], [45, 25, 8, 6, 6, 4, 3, 3])[0]
        gifts += [campaign_gift(rng, p) for _ in range(count)]
    for p in monthly + big + new + lapsing + oneoff:  # a contact is created before it gives
        first = min(g["when"] for g in gifts if g["p"] is p)
        if p["created"] > first:
            p["created"] = max(date(2019, 1, 1), first - timedelta(days=rng.randrange(60)))
    return gifts


def plan_memberships(rng, people):
    rows = []
    for p in (p for p in people if p["member"]):
        join = rand_date(rng, date(2019, 1, 1), AS_OF)
        fee = pick1(rng, [(20.0, 60), (30.0, 20), (10.0, 10), (50.0, 10)])
        ways = [("CB", 40), ("Chèque", 30), ("Prélèvement", 15), ("Virement", 10), ("Espèces", 5)]
        pay = pick1(rng, ways) if p["norm"] else "Chèque"
        r = rng.random()
        last = 2026 if r < 0.68 else 2025 if r < 0.85 else rng.randint(2021, 2024)
        last = max(last, join.year)  # every member paid at least once
        for y in range(join.year, last + 1):
            when = date(y, join.month, min(join.day, 28))
            if when <= AS_OF:
                rows.append(dict(p=p, when=when, amount=fee, pay=pay))
        p["created"] = min(p["created"], join)
    return rows


def french_amount(rng, amount):
    if amount == int(amount) and amount < 1000 and rng.random() < 0.25:
        return str(int(amount))
    return f"{amount:,.2f}".replace(",", NBSP).replace(".", ",")


def set_last_gifts(rng, people, gifts):
    last = {}
    for g in sorted(gifts, key=lambda g: g["when"]):
        last[id(g["p"])] = g["amount"]
    for p in people:
        if id(p) in last:
            p["last_gift"] = french_amount(rng, last[id(p)])


def typo(rng, s):
    plain = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    if plain != s and rng.random() < 0.4:
        return plain
    i = rng.randrange(1, len(s) - 1)
    op = rng.choice(["drop", "double", "swap"])
    if op == "drop":
        return s[:i] + s[i + 1:]
    if op == "double" or s[i] == s[i + 1]:
        return s[:i] + s[i] + s[i:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def make_duplicates(rng, people, used, gifts):
    """60 fuzzy duplicates, 15 exact ones (email case/spaces only), 20 rows identifying nobody."""
    pool = [p for p in people if p["kind"] == "person" and p["street"] and p["norm"] and not p["raw"]]
    originals = rng.sample(pool, 75)
    fuzzy, exact = [], []
    for n, o in enumerate(originals[:60]):
        d = dict(o, kind="dupe", raw={}, member="", last_gift="", days=list(o["days"]), optin_at=None,
                 interests=list(o["interests"]), tags=[t for t in o["tags"] if rng.random() < 0.7])
        first, last = o["first"], o["last"]
        if n % 6 in (0, 1):
            first = typo(rng, first)
        elif n % 6 in (2, 3):
            last = typo(rng, last)
        elif n % 6 == 4:
            first, last = last, first
        else:
            last = last.upper()
        d.update(first=first, last=last, created=rand_date(rng, o["created"], AS_OF), source=rng.choice(SOURCES))
        if rng.random() < 0.6:
            d["email"] = d["norm"] = make_email(rng, o["first"], o["last"], used)
            d["optin"] = rng.choice(["Oui", "Oui", "Non"])
            d["optin_at"] = datetime.combine(d["created"], time(rng.randrange(8, 22), rng.randrange(60)))
        else:
            d.update(email="", norm=None, optin="")
        if d["optin"] != "Oui":
            d["tags"] = [t for t in d["tags"] if t != "newsletter"]
        digits = "".join(c for c in o["phone"] if c.isdigit())[-9:]
        same_phone = len(digits) == 9 and o["country"] != "Belgique" and rng.random() < 0.7
        d["phone"] = format_fr(rng, digits) if same_phone else ""
        if rng.random() < 0.3:
            d["street"] = d["street"].replace("rue ", "r. ").replace("avenue ", "av. ").replace("boulevard ", "bd ")
        if rng.random() < 0.3:
            d["birth"] = ""
        fuzzy.append(d)
    for d in rng.sample([d for d in fuzzy if d["norm"]], 10):
        gifts.append(campaign_gift(rng, d))
        d["created"] = min(d["created"], gifts[-1]["when"])
    set_last_gifts(rng, fuzzy, [g for g in gifts if g["p"]["kind"] == "dupe"])
    for o in originals[60:]:
        exact.append(dict(o, kind="exact", email=messy(rng, o["norm"])))
    junk = []
    for n in range(20):
        j = dict(new_person(rng, "person", {}), email="", norm=None, phone="", street="", postal="", city="",
                 country="", birth="", interests=[], days=[], tags=[], optin="", optin_at=None, job="", kind="junk")
        if n < 8:
            j["last"] = ""
        elif n < 14:
            j.update(civ="", first="", last="", created=None)
        else:
            j.update(tags=["newsletter"] if n % 2 else [], interests=["animaux"])
        junk.append(j)
    return fuzzy, exact, junk


def crm_row(p):
    optin_at = p["optin_at"].strftime("%d/%m/%Y %H:%M") if p["optin_at"] else ""
    values = [p["civ"], p["first"], p["last"], p["email"], p["phone"], p["street"], p["postal"], p["city"],
              p["country"], p["birth"], fr_date(p["created"]) if p["created"] else "", p["source"],
              "|".join(p["interests"]),
              "|".join(p["days"]), p["member"], "|".join(sorted(p["tags"], key=TAGS.index)), p["optin"], optin_at,
              p["job"], p["org"], p["last_gift"]]
    return [p["raw"].get(col, v) for col, v in zip(CRM_HEADER, values)]


def write_crm(rng, rows):
    rows = list(rows)
    rng.shuffle(rows)
    with open(OUT / "contacts_crm.csv", "w", encoding="cp1252", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(CRM_HEADER)
        writer.writerows(crm_row(p) for p in rows)


def donor_ids(rng, p):
    if not p["norm"]:
        return "", p["member"]
    email = p["email"].strip() if p["email"] != p["norm"] and rng.random() < 0.3 else p["norm"]
    r = rng.random()
    if p["member"] and r < 0.1:
        return "", p["member"]
    return email, p["member"] if p["member"] and r < 0.4 else ""


def write_sheet(wb, name, header, rows, widths):
    """One sheet: dates as real Excel dates, amounts as numbers, empty cells left empty."""
    bold, day = wb.add_format({"bold": True}), wb.add_format({"num_format": "dd/mm/yyyy"})
    euros = wb.add_format({"num_format": '#,##0.00 "€"'})
    ws = wb.add_worksheet(name)
    ws.write_row(0, 0, header, bold)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if isinstance(v, date):
                ws.write_datetime(r, c, datetime.combine(v, time()), day)
            elif isinstance(v, float):
                ws.write_number(r, c, v, euros)
            elif v:
                ws.write_string(r, c, v)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.autofilter(0, 0, len(rows), len(header) - 1)
    ws.freeze_panes(1, 0)


def write_workbook(rng, gifts, memberships):
    for n, email in enumerate(["donateur.inconnu@gmail.com", "m.lemercier@orange.fr", "asso.amie@free.fr"]):
        gifts.append(dict(p=None, email=email, when=date(2026, 3 + n, 10 + n), amount=40.0 + 10 * n,
                          pay="CB", campaign="", channel="site web"))  # donors the CRM does not know
    gifts.sort(key=lambda g: (g["when"], g["p"]["created"] if g["p"] else AS_OF, g["amount"]))
    memberships.sort(key=lambda m: (m["when"], m["p"]["member"]))
    dons = [(g["when"], *(donor_ids(rng, g["p"]) if g["p"] else (g["email"], "")), g["amount"], "EUR",
             g["pay"], g["campaign"], g["channel"]) for g in gifts]
    adhesions = [(m["when"], m["p"]["norm"] if m["p"]["norm"] and rng.random() < 0.8 else "", m["p"]["member"],
                  m["amount"], m["pay"]) for m in memberships]
    wb = xlsxwriter.Workbook(str(OUT / "dons_adhesions.xlsx"))
    wb.set_properties({"title": "Dons et adhésions", "author": "Les Amis des Bêtes",
                       "created": datetime(2026, 11, 15, 9, 0, 0)})  # fixed, so the bytes are too
    write_sheet(wb, "Dons", ["Date du don", "Adresse e-mail", "N° adhérent", "Montant", "Devise",
                             "Moyen de paiement", "Campagne", "Canal"], dons, [12, 34, 12, 12, 8, 18, 22, 12])
    write_sheet(wb, "Adhésions", ["Date d'adhésion", "Adresse e-mail", "N° adhérent", "Montant cotisation",
                                  "Moyen de paiement"], adhesions, [14, 34, 12, 18, 18])
    wb.close()
    return len(dons), len(adhesions)


def write_emailing(rng, people):
    audience = {}
    for p in people:
        if "newsletter" in p["tags"] and p["norm"] and p["norm"] not in audience:
            audience[p["norm"]] = p["created"]
    emails = list(audience)
    early = [e for e in emails if audience[e] <= date(2025, 11, 1) and e.split("@")[1] not in ODD_DOMAINS]
    roles = rng.sample(early, 30)
    last = len(MAILINGS) - 1
    plan = {e: {} for e in emails}  # email -> {mailing index: forced event}
    for e in emails:  # special-use and impossible domains bounce on their first send
        if e.split("@")[1] in ODD_DOMAINS:
            plan[e] = dict.fromkeys(range(len(MAILINGS)), "hard_bounce")
    for e in roles[:6]:
        plan[e][rng.randrange(1, last)] = "hard_bounce"
    for e, streak in zip(roles[6:10], [5, 6, 7, 5]):
        plan[e].update({i: "soft_bounce" for i in range(last - streak + 1, last + 1)})
    for e in roles[10:14]:
        plan[e].update({i: "soft_bounce" for i in range(last - 3, last + 1)})
    for e in roles[14:17]:
        plan[e].update({i: "soft_bounce" for i in (6, 7, 9, 10, 11)})
        plan[e][8] = "opened"  # breaks the run: never 5 in a row
    for e in roles[17:27]:
        plan[e][rng.randrange(1, last + 1)] = "unsubscribed"
    for e in roles[27:30]:
        plan[e][rng.randrange(1, last + 1)] = "spam"
    taste = {e: rng.choice([0.6, 0.6, 0.35, 0.35, 0.35, 0.35, 0.15, 0.15, 0.15]) for e in emails}
    dormant = {e: (0 if rng.random() < 0.4 else rng.randrange(1, 6)) for e in rng.sample(
        [e for e in emails if e not in roles], len(emails) // 8)}
    gone, rows = {}, []
    stop = datetime.combine(AS_OF, time(8))
    for i, (day, name) in enumerate(MAILINGS):
        start = datetime.combine(day, time(10))
        for e in emails:
            if audience[e] > day or e in gone:
                continue
            sent = start + timedelta(seconds=rng.randrange(900))
            if i >= len(MAILINGS) - 6:  # older sends are left out to keep the file small
                rows.append((sent, e, "sent", name))
            forced = plan[e].get(i)
            if forced in ("hard_bounce", "soft_bounce") or (not plan[e] and rng.random() < 0.004):
                rows.append((sent + timedelta(seconds=rng.randrange(5, 300)), e, forced or "soft_bounce", name))
                if forced == "hard_bounce":
                    gone[e] = True
                continue
            if forced == "spam":
                rows.append((sent + timedelta(hours=rng.uniform(1, 48)), e, "spam", name))
                gone[e] = True
                continue
            opens = forced in ("opened", "unsubscribed") or (i < dormant.get(e, 99) and rng.random() < taste[e])
            if opens:
                seen = sent + timedelta(hours=min(rng.expovariate(1 / 8), 96), seconds=rng.randrange(60))
                rows.append((min(seen, stop), e, "opened", name))
                if forced == "unsubscribed":
                    rows.append((min(seen + timedelta(minutes=rng.randrange(1, 10)), stop), e, "unsubscribed", name))
                    gone[e] = True
                elif rng.random() < 0.17:
                    rows.append((min(seen + timedelta(minutes=rng.randrange(1, 30)), stop), e, "clicked", name))
    rows.sort()
    with open(OUT / "emailing_activity.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["Email", "Event", "Date", "Campaign"])
        writer.writerows((e, ev, when.strftime("%Y-%m-%d %H:%M:%S"), name) for when, e, ev, name in rows)
    return len(rows), len(emails)


def main():
    rng = random.Random(SEED)
    used = {}
    people = build_people(rng, used)
    gifts = plan_gifts(rng, people)
    memberships = plan_memberships(rng, people)
    set_last_gifts(rng, people, gifts)
    fuzzy, exact, junk = make_duplicates(rng, people, used, gifts)
    write_crm(rng, people + fuzzy + exact + junk)
    n_gifts, n_members = write_workbook(rng, gifts, memberships)
    n_events, n_audience = write_emailing(rng, people + fuzzy)
    print(f"contacts_crm.csv: {len(people) + len(fuzzy) + len(exact) + len(junk)} rows; "
          f"dons_adhesions.xlsx: {n_gifts} gifts, {n_members} memberships; "
          f"emailing_activity.csv: {n_events} events for {n_audience} addresses")


if __name__ == "__main__":
    main()
