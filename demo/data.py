"Names, places and the catalogue the demo database is built from"

# (name, monthly list price, per seat, VAT key)
SERVICES = [
    ("Cloud-Arbeitsplatz", '29.90', True, 'vat19'),
    ("Office-Paket Business", '12.50', True, 'vat19'),
    ("E-Mail-Postfach", '4.90', True, 'vat19'),
    ("CRM Team", '24.90', True, 'vat19'),
    ("Backup 100 GB", '9.99', False, 'vat19'),
    ("Webhosting Pro", '14.90', False, 'vat19'),
    ("Managed Firewall", '49.00', False, 'vat19'),
    ("Buchhaltung Online", '39.00', False, 'vat19'),
    ("Support-Flatrate", '99.00', False, 'vat19'),
    ("Cloud-Speicher privat 2 TB", '9.99', False, 'vat19'),
    ("E-Paper-Abo", '19.90', False, 'vat7'),
    ]
# the weekly price of the newspaper, sold to private customers only
EPAPER_WEEKLY = '4.90'
B2C_SERVICES = ["E-Paper-Abo", "Cloud-Speicher privat 2 TB"]

# (name, price, share of the business quotations that sell it)
ONE_TIME = [
    ("Einrichtung", '149.00', 0.1),
    ("Schulung (halber Tag)", '490.00', 0.25),
    ("Datenmigration", '890.00', 0.15),
    ]
# set-up fees invoiced with the first period of a contract line
SETUP_FEES = {
    "Managed Firewall": '199.00',
    "Buchhaltung Online": '99.00',
    "CRM Team": '49.00',
    "Webhosting Pro": '29.00',
    }
# private customers' plans, by share
B2C_PLANS = [('monthly_card', 30), ('yearly_card', 70)]

# (key, name, freq, interval, extra values, share among business sales);
# half the plans charge a card (private customers always pay by card), the
# others send the invoice
# a charge declined on the first is retried on the 4th, 11th and 21st and
# the contract closed as unpaid a month later
CARD = {'invoicing_mode': 'charge', 'dunning_schedule': '3,10,20',
    'auto_close_days': 31}
PLANS = [
    ('monthly', "Monatlich", 'monthly', 1, {}, 27),
    ('monthly_card', "Monatlich per Karte", 'monthly', 1, CARD, 6),
    ('bimonthly_card', "Alle 2 Monate per Karte", 'monthly', 2, CARD, 6),
    ('yearly', "Jährlich", 'yearly', 1, {}, 18),
    ('yearly_card', "Jährlich per Karte", 'yearly', 1, CARD, 9),
    ('arrears', "Monatlich nachträglich", 'monthly', 1,
        {'billing_timing': 'arrears'}, 10),
    ('fixed', "Jahresvertrag 12 Monate", 'monthly', 1,
        {'duration': 'fixed', 'duration_periods': 12,
            'customer_can_close': False}, 18),
    # the newspaper by the week, for private customers
    ('weekly_card', "Wöchentlich per Karte", 'weekly', 1, CARD, 0),
    ]

# quotation templates: (name, plan key, validity in days, online
# confirmation, lines (product, quantity), optional products, terms)
QUOTATION_TEMPLATES = [
    ("Starter-Paket Cloud", 'monthly', 30, 'signature',
        [("Cloud-Arbeitsplatz", 5), ("E-Mail-Postfach", 5),
            ("Backup 100 GB", 1), ("Einrichtung", 1)],
        [("Schulung (halber Tag)", 1)],
        "Monatlich kündbar zum Ende des Abrechnungszeitraums. "
        "Es gelten unsere Allgemeinen Geschäftsbedingungen."),
    ("Business-Komplett Jahresvertrag", 'fixed', 14, 'both',
        [("Office-Paket Business", 10), ("CRM Team", 10),
            ("Managed Firewall", 1), ("Support-Flatrate", 1),
            ("Einrichtung", 1), ("Datenmigration", 1)],
        [("Schulung (halber Tag)", 2), ("Buchhaltung Online", 1)],
        "Laufzeit 12 Monate, danach monatlich kündbar. "
        "Es gelten unsere Allgemeinen Geschäftsbedingungen."),
    ]

EMPLOYEES = [
    ("Anna Schmidt", "Team Nord"),
    ("Jonas Becker", "Team Nord"),
    ("Leonie Wagner", "Team Süd"),
    ("Maximilian Huber", "Team Süd"),
    ("Sophie Keller", "Team Süd"),
    ]

SURNAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
    "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter",
    "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Krause", "Meier", "Lehmann", "Köhler", "Herrmann", "König", "Walter",
    ]
FIRST_NAMES = [
    "Lukas", "Mia", "Felix", "Emma", "Paul", "Hannah", "Elias", "Lea",
    "Jonas", "Lina", "Noah", "Clara", "Ben", "Marie", "Finn", "Laura",
    ]
TRADES = [
    "Steuerberatung", "Architekten", "Logistik", "Zahnarztpraxis",
    "Immobilien", "Elektrotechnik", "Metallbau", "Werbeagentur",
    "Ingenieurbüro", "Bäckerei", "Autohaus", "Rechtsanwälte", "Druckerei",
    "Physiotherapie", "Gartenbau", "IT-Service", "Versicherungsmakler",
    ]
LEGAL_FORMS = ["GmbH", "GmbH & Co. KG", "KG", "e.K.", "AG", "OHG", "UG"]

# (postal code, city)
DE_CITIES = [
    ("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"),
    ("50667", "Köln"), ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"),
    ("40213", "Düsseldorf"), ("04109", "Leipzig"), ("44135", "Dortmund"),
    ("28195", "Bremen"), ("01067", "Dresden"), ("30159", "Hannover"),
    ("90402", "Nürnberg"), ("48143", "Münster"), ("69117", "Heidelberg"),
    ]
STREETS = [
    "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße",
    "Goethestraße", "Lindenallee", "Industriestraße", "Marktplatz",
    ]
# (country code, country name, language, postal code, city, street,
# company names)
EU_CUSTOMERS = [
    ('AT', "Austria", 'de', "1010", "Wien", "Kärntner Straße",
        ["Alpen Consulting GmbH", "Donau Handel GmbH", "Steirer Bau KG"]),
    ('NL', "Netherlands", 'en', "1012 AB", "Amsterdam", "Damrak",
        ["Van Dijk Logistics B.V.", "Dutch Design Studio B.V."]),
    ('FR', "France", 'en', "75002", "Paris", "Rue de la Paix",
        ["Dupont Conseil SARL", "Atelier Lumière SAS"]),
    ('BE', "Belgium", 'en', "1000", "Bruxelles", "Rue Neuve",
        ["Brussels Analytics SPRL"]),
    ('IT', "Italy", 'en', "20121", "Milano", "Via Dante",
        ["Rossi Software S.r.l.", "Bianchi Moda S.p.A."]),
    ('ES', "Spain", 'en', "28013", "Madrid", "Calle Mayor",
        ["García Ingeniería S.L."]),
    ('PL', "Poland", 'en', "00-001", "Warszawa", "ul. Marszałkowska",
        ["Kowalski Systemy Sp. z o.o."]),
    ]
