"""The portal's controlled vocabularies (stored values are stable contracts; labels translate)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", _("Prescriber")
    AGENCY = "agency", _("Agency staff")
    ADMIN = "admin", _("Administrator")


class Specialty(models.TextChoices):
    GENERAL_PRACTICE = "general_practice", _("General practice")
    ADDICTION = "addiction", _("Addiction medicine")
    PSYCHIATRY = "psychiatry", _("Psychiatry")
    OTHER = "other", _("Other specialty")


class PracticeSetting(models.TextChoices):
    PRIVATE_PRACTICE = "private_practice", _("Private practice")
    CSAPA = "csapa", _("CSAPA (addiction care centre)")
    HOSPITAL = "hospital", _("Hospital")


class Region(models.TextChoices):
    """The 18 French regions by INSEE code; the region routes adverse events to a CRPV."""

    GUADELOUPE = "01", "Guadeloupe"
    MARTINIQUE = "02", "Martinique"
    GUYANE = "03", "Guyane"
    LA_REUNION = "04", "La Réunion"
    MAYOTTE = "06", "Mayotte"
    ILE_DE_FRANCE = "11", "Île-de-France"
    CENTRE_VAL_DE_LOIRE = "24", "Centre-Val de Loire"
    BOURGOGNE_FRANCHE_COMTE = "27", "Bourgogne-Franche-Comté"
    NORMANDIE = "28", "Normandie"
    HAUTS_DE_FRANCE = "32", "Hauts-de-France"
    GRAND_EST = "44", "Grand Est"
    PAYS_DE_LA_LOIRE = "52", "Pays de la Loire"
    BRETAGNE = "53", "Bretagne"
    NOUVELLE_AQUITAINE = "75", "Nouvelle-Aquitaine"
    OCCITANIE = "76", "Occitanie"
    AUVERGNE_RHONE_ALPES = "84", "Auvergne-Rhône-Alpes"
    PACA = "93", "Provence-Alpes-Côte d'Azur"
    CORSE = "94", "Corse"


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Indication(models.TextChoices):
    ABSTINENCE = "abstinence", _("Maintenance of abstinence")
    REDUCTION = "reduction", _("Reduction of consumption")


class TreatmentStatus(models.TextChoices):
    INITIATION = "initiation", _("Initiation")
    PRETREATED = "pretreated", _("Already treated")


class StopReason(models.TextChoices):
    GOAL_REACHED = "goal_reached", _("Goal reached")
    NO_RESPONSE = "no_response", _("No response")
    ADVERSE_EVENT = "adverse_event", _("Adverse event")
    PATIENT_DECISION = "patient_decision", _("Patient's decision")
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", _("Lost to follow-up")
    OTHER = "other", _("Other reason")


class Precaution(models.TextChoices):
    PSYCHIATRIC_HISTORY = "psychiatric_history", _("Psychiatric history or suicidal ideation")
    EPILEPSY_HISTORY = "epilepsy_history", _("Epilepsy history or past seizures")
    OPIOID_OR_SEDATIVE = "opioid_or_sedative", _("Opioid, benzodiazepine or sedative")
    RENAL_INSUFFICIENCY = "renal_insufficiency", _("Renal insufficiency (not severe)")


class Contraindication(models.TextChoices):
    UNCONTROLLED_EPILEPSY = "uncontrolled_epilepsy", _("Uncontrolled epilepsy")
    PSYCHOSIS = "psychosis", _("Schizophrenia or psychosis")
    BIPOLAR_DISORDER = "bipolar_disorder", _("Bipolar disorder")
    SEVERE_DEPRESSION = "severe_depression", _("Severe depression")
    SEVERE_RENAL_INSUFFICIENCY = "severe_renal_insufficiency", _("Severe renal insufficiency")
    SEVERE_HEPATIC_INSUFFICIENCY = "severe_hepatic_insufficiency", _("Severe hepatic insufficiency")
    PREGNANCY_OR_BREASTFEEDING = "pregnancy_or_breastfeeding", _("Pregnancy or breastfeeding")
    BACLOFEN_INTOLERANCE = "baclofen_intolerance", _("Intolerance to baclofen")
    PORPHYRIA = "porphyria", _("Porphyria")
    PARKINSONS_DISEASE = "parkinsons_disease", _("Parkinson's disease")


class FailedTreatment(models.TextChoices):
    ACAMPROSATE = "acamprosate", _("Acamprosate")
    NALTREXONE = "naltrexone", _("Naltrexone")
    NALMEFENE = "nalmefene", _("Nalmefene")
    DISULFIRAM = "disulfiram", _("Disulfiram")


class OrganClass(models.TextChoices):
    NERVOUS_SYSTEM = "nervous_system", _("Nervous system disorders")
    PSYCHIATRIC = "psychiatric", _("Psychiatric disorders")
    GASTROINTESTINAL = "gastrointestinal", _("Gastrointestinal disorders")
    GENERAL = "general", _("General disorders")
    RESPIRATORY = "respiratory", _("Respiratory disorders")
    EAR = "ear", _("Ear and labyrinth disorders")
    SKIN = "skin", _("Skin disorders")
    RENAL_URINARY = "renal_urinary", _("Renal and urinary disorders")
    METABOLISM = "metabolism", _("Metabolism and nutrition disorders")
    REPRODUCTIVE = "reproductive", _("Reproductive system disorders")
    INJURY_POISONING = "injury_poisoning", _("Injury and poisoning")


class SeriousnessCriterion(models.TextChoices):
    DEATH = "death", _("Death")
    LIFE_THREATENING = "life_threatening", _("Life-threatening")
    HOSPITALISATION = "hospitalisation", _("Hospitalisation or its prolongation")
    DISABILITY = "disability", _("Persistent or significant disability")
    CONGENITAL_ANOMALY = "congenital_anomaly", _("Congenital anomaly")
    MEDICALLY_IMPORTANT = "medically_important", _("Other medically important condition")


class Outcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered")
    RECOVERING = "recovering", _("Recovering")
    NOT_RECOVERED = "not_recovered", _("Not recovered")
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", _("Recovered with sequelae")
    FATAL = "fatal", _("Fatal")
    UNKNOWN = "unknown", _("Unknown")


class Causality(models.TextChoices):
    EXCLUDED = "excluded", _("Excluded")
    UNLIKELY = "unlikely", _("Unlikely")
    POSSIBLE = "possible", _("Possible")
    PROBABLE = "probable", _("Probable")
    CERTAIN = "certain", _("Certain")


POSSIBLY_RELATED = (Causality.POSSIBLE, Causality.PROBABLE, Causality.CERTAIN)


class ActionTaken(models.TextChoices):
    NONE = "none", _("No change")
    DOSE_REDUCED = "dose_reduced", _("Dose reduced")
    DOSE_INCREASED = "dose_increased", _("Dose increased")
    TEMPORARILY_STOPPED = "temporarily_stopped", _("Temporarily stopped")
    STOPPED = "stopped", _("Stopped")
