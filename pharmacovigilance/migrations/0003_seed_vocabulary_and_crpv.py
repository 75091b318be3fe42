"""Seed the reaction vocabulary (not MedDRA) and the CRPV directory with its regional routing.

Idempotent: rows are matched on their code (terms) or their e-mail (centres), so running the
migration on a database where admins already edited labels only fills what is missing. The
e-mail addresses are on a fictitious domain; admins replace them with the centres' real ones.
"""

from django.db import migrations

# code, French label, English label, system organ class
TERMS = [
    ("somnolence", "Somnolence", "Somnolence", "nervous_system"),
    ("dizziness", "Sensations vertigineuses", "Dizziness", "nervous_system"),
    ("asthenia", "Asthénie / fatigue", "Asthenia / fatigue", "general"),
    ("insomnia", "Insomnie", "Insomnia", "psychiatric"),
    ("nausea", "Nausées", "Nausea", "gastrointestinal"),
    ("vomiting", "Vomissements", "Vomiting", "gastrointestinal"),
    ("confusion", "Confusion", "Confusional state", "psychiatric"),
    ("headache", "Céphalées", "Headache", "nervous_system"),
    ("paraesthesia", "Paresthésies", "Paraesthesia", "nervous_system"),
    ("tinnitus", "Acouphènes", "Tinnitus", "ear"),
    ("convulsion", "Convulsions", "Convulsion", "nervous_system"),
    ("coma", "Coma", "Coma", "nervous_system"),
    ("sleep_apnoea", "Apnées du sommeil", "Sleep apnoea", "respiratory"),
    ("respiratory_depression", "Dépression respiratoire", "Respiratory depression", "respiratory"),
    ("depression", "Dépression", "Depression", "psychiatric"),
    ("suicidal_ideation", "Idées suicidaires", "Suicidal ideation", "psychiatric"),
    ("suicide_attempt", "Tentative de suicide", "Suicide attempt", "psychiatric"),
    ("anxiety", "Anxiété", "Anxiety", "psychiatric"),
    ("mania", "Manie / hypomanie", "Mania / hypomania", "psychiatric"),
    ("hallucination", "Hallucinations", "Hallucination", "psychiatric"),
    ("withdrawal_syndrome", "Syndrome de sevrage", "Withdrawal syndrome", "general"),
    ("weight_gain", "Prise de poids", "Weight gain", "metabolism"),
    ("libido_decreased", "Baisse de la libido", "Libido decreased", "reproductive"),
    ("urinary_incontinence", "Incontinence urinaire", "Urinary incontinence", "renal_urinary"),
    ("rash", "Éruption cutanée", "Rash", "skin"),
    ("hyperhidrosis", "Hypersudation", "Hyperhidrosis", "skin"),
    ("overdose", "Surdosage", "Overdose", "injury_poisoning"),
    ("fall", "Chute", "Fall", "injury_poisoning"),
    ("other", "Autre (préciser)", "Other (specify)", "general"),
]

# name, city, e-mail, regions routed to the centre (each region to exactly one centre)
CENTRES = [
    ("CRPV de Pointe-à-Pitre (CHU de Guadeloupe)", "Pointe-à-Pitre", "crpv-pointe-a-pitre", ["01", "02", "03"]),
    ("CRPV de La Réunion (CHU Félix-Guyon)", "Saint-Denis", "crpv-la-reunion", ["04", "06"]),
    ("CRPV de Paris (Pitié-Salpêtrière)", "Paris", "crpv-paris-pitie", ["11"]),
    ("CRPV de Tours", "Tours", "crpv-tours", ["24"]),
    ("CRPV de Dijon", "Dijon", "crpv-dijon", ["27"]),
    ("CRPV de Caen", "Caen", "crpv-caen", ["28"]),
    ("CRPV de Lille", "Lille", "crpv-lille", ["32"]),
    ("CRPV de Nancy", "Nancy", "crpv-nancy", ["44"]),
    ("CRPV de Nantes", "Nantes", "crpv-nantes", ["52"]),
    ("CRPV de Rennes", "Rennes", "crpv-rennes", ["53"]),
    ("CRPV de Bordeaux", "Bordeaux", "crpv-bordeaux", ["75"]),
    ("CRPV de Toulouse", "Toulouse", "crpv-toulouse", ["76"]),
    ("CRPV de Lyon", "Lyon", "crpv-lyon", ["84"]),
    ("CRPV de Marseille", "Marseille", "crpv-marseille", ["93", "94"]),
    # Centres of the network that receive no region's cases by default (admins may reroute).
    ("CRPV d'Amiens", "Amiens", "crpv-amiens", []),
    ("CRPV d'Angers", "Angers", "crpv-angers", []),
    ("CRPV de Besançon", "Besançon", "crpv-besancon", []),
    ("CRPV de Brest", "Brest", "crpv-brest", []),
    ("CRPV de Clermont-Ferrand", "Clermont-Ferrand", "crpv-clermont-ferrand", []),
    ("CRPV de Grenoble", "Grenoble", "crpv-grenoble", []),
    ("CRPV de Limoges", "Limoges", "crpv-limoges", []),
    ("CRPV de Montpellier", "Montpellier", "crpv-montpellier", []),
    ("CRPV de Nice", "Nice", "crpv-nice", []),
    ("CRPV de Poitiers", "Poitiers", "crpv-poitiers", []),
    ("CRPV de Reims", "Reims", "crpv-reims", []),
    ("CRPV de Rouen", "Rouen", "crpv-rouen", []),
    ("CRPV de Saint-Étienne", "Saint-Étienne", "crpv-saint-etienne", []),
    ("CRPV de Strasbourg", "Strasbourg", "crpv-strasbourg", []),
]

DOMAIN = "pharmacovigilance.example.fr"


def seed(apps, schema_editor):
    ReactionTerm = apps.get_model("pharmacovigilance", "ReactionTerm")
    CRPV = apps.get_model("pharmacovigilance", "CRPV")
    CRPVRegion = apps.get_model("pharmacovigilance", "CRPVRegion")
    for code, label_fr, label_en, organ_class in TERMS:
        ReactionTerm.objects.get_or_create(
            code=code,
            defaults={"label_fr": label_fr, "label_en": label_en, "organ_class": organ_class},
        )
    for name, city, mailbox, regions in CENTRES:
        centre, _created = CRPV.objects.get_or_create(
            email=f"{mailbox}@{DOMAIN}", defaults={"name": name, "city": city}
        )
        for region in regions:
            CRPVRegion.objects.get_or_create(region=region, defaults={"crpv": centre})


class Migration(migrations.Migration):
    dependencies = [("pharmacovigilance", "0002_agency_profile_history")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
