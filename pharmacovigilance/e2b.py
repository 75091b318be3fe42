"""ICH E2B(R3) individual case safety reports (HL7 v3), built with the standard library.

One batch `MCCI_IN200100UV01` holds one `PORR_IN049016UV` message per case. The layout follows the
ICH E2B(R3) implementation guide's reference instance; the code lists used are the ICH ones
(OIDs under 2.16.840.1.113883.3.989.2.1.1):

- N.1.1 type of batch (1.1): 1 = ichicsr
- C.1.3 type of report (1.2): 2 = report from study — the RTU is an organised data collection
- C.3.1 sender type (1.7): 2 = regulatory authority (the portal sends for the agency)
- C.2.r.4 qualification (1.6): 1 = physician (the prescriber is the primary source)
- D.5 sex: ISO/IEC 5218 (1.0.5218): 1 = male, 2 = female
- D.2.3 age group (1.9): 4 adolescent, 5 adult, 6 elderly
- observation codes (1.19): 3 age, 4 ageGroup, 29 reaction, 27 outcome, 34 resultsInDeath,
  21 isLifeThreatening, 33 requiresInpatientHospitalization,
  35 resultsInPersistentOrSignificantDisability, 12 congenitalAnomalyBirthDefect,
  26 otherMedicallyImportantCondition, 39 causality, 20 interpretation (drug characterisation),
  31 recurrence (rechallenge)
- E.i.7 outcome (1.11): 1 recovered/resolved, 2 recovering, 3 not recovered, 4 recovered with
  sequelae, 5 fatal, 0 unknown
- G.k.1 drug role (1.13): 1 = suspect
- G.k.8 action taken (1.15): 1 withdrawn, 2 dose reduced, 3 dose increased, 4 dose not changed,
  0 unknown, 9 not applicable
- organizer codes (1.20): 4 = drugInformation; related investigation (1.22): 2 = sourceReport

The portal ships no MedDRA content: the reaction is sent as `nullFlavor="OTH"` in the MedDRA code
system with the reaction's label (or the reporter's words) as original text, for the CRPV to code.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from xml.etree import ElementTree as ET  # noqa: S405 - we only build XML, never parse input

from django.conf import settings
from django.utils import timezone, translation

from rtuportal.choices import ActionTaken, Outcome, SeriousnessCriterion, Sex

from .models import AdverseEvent

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("", HL7)
ET.register_namespace("xsi", XSI)

ICH = "2.16.840.1.113883.3.989.2.1"
OID_BATCH_NUMBER = f"{ICH}.3.22"
OID_BATCH_SENDER = f"{ICH}.3.13"
OID_BATCH_RECEIVER = f"{ICH}.3.14"
OID_MESSAGE_NUMBER = f"{ICH}.3.1"
OID_MESSAGE_SENDER = f"{ICH}.3.11"
OID_MESSAGE_RECEIVER = f"{ICH}.3.12"
OID_SAFETY_REPORT_ID = f"{ICH}.3.1"
OID_WORLDWIDE_CASE_ID = f"{ICH}.3.2"
OID_INTERACTION = "2.16.840.1.113883.1.6"
OID_TRIGGER_EVENT = "2.16.840.1.113883.1.18"
OID_ACT_CODE = "2.16.840.1.113883.5.4"
OID_SEX = "1.0.5218"
OID_COUNTRY = "1.0.3166.1.2.2"
OID_MEDDRA = "2.16.840.1.113883.6.163"
CS_BATCH_TYPE = f"{ICH}.1.1"
CS_REPORT_TYPE = f"{ICH}.1.2"
CS_QUALIFICATION = f"{ICH}.1.6"
CS_SENDER_TYPE = f"{ICH}.1.7"
CS_AGE_GROUP = f"{ICH}.1.9"
CS_OUTCOME = f"{ICH}.1.11"
CS_DRUG_ROLE = f"{ICH}.1.13"
CS_ACTION_TAKEN = f"{ICH}.1.15"
CS_OBSERVATION = f"{ICH}.1.19"
CS_ORGANIZER = f"{ICH}.1.20"
CS_CHARACTERISTIC = f"{ICH}.1.23"
CS_RELATED_INVESTIGATION = f"{ICH}.1.22"

SEX_CODES = {Sex.MALE: "1", Sex.FEMALE: "2"}
OUTCOME_CODES = {
    Outcome.RECOVERED: "1",
    Outcome.RECOVERING: "2",
    Outcome.NOT_RECOVERED: "3",
    Outcome.RECOVERED_WITH_SEQUELAE: "4",
    Outcome.FATAL: "5",
    Outcome.UNKNOWN: "0",
}
# (observation code, displayName) of each seriousness criterion, in the guide's order.
SERIOUSNESS_CODES = {
    SeriousnessCriterion.DEATH: ("34", "resultsInDeath"),
    SeriousnessCriterion.LIFE_THREATENING: ("21", "isLifeThreatening"),
    SeriousnessCriterion.HOSPITALISATION: ("33", "requiresInpatientHospitalization"),
    SeriousnessCriterion.DISABILITY: ("35", "resultsInPersistentOrSignificantDisability"),
    SeriousnessCriterion.CONGENITAL_ANOMALY: ("12", "congenitalAnomalyBirthDefect"),
    SeriousnessCriterion.MEDICALLY_IMPORTANT: ("26", "otherMedicallyImportantCondition"),
}
# "Temporarily stopped" is a withdrawal of the drug in E2B terms (the reintroduction, if any,
# is the rechallenge).
ACTION_CODES = {
    ActionTaken.STOPPED: "1",
    ActionTaken.TEMPORARILY_STOPPED: "1",
    ActionTaken.DOSE_REDUCED: "2",
    ActionTaken.DOSE_INCREASED: "3",
    ActionTaken.NONE: "4",
}
ACTION_UNKNOWN = "0"
SENDER_ORGANISATION = "ANSM - RTU baclofene"
SENDER_ID = "FR-RTU-BACLOFENE"
RECEIVER_ID = "FR-ANSM"


def _q(tag: str) -> str:
    return f"{{{HL7}}}{tag}"


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    for key, value in attrs.items():
        if key == "xsi_type":
            element.set(f"{{{XSI}}}type", value)
        else:
            element.set(key.rstrip("_"), value)
    return element


def _ts(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d")


def age_group_code(age: int) -> str:
    if age < 18:
        return "4"  # adolescent (no child can be included in the RTU)
    if age >= 65:
        return "6"  # elderly
    return "5"  # adult


def safety_report_id(case: AdverseEvent) -> str:
    """C.1.1 / C.1.8.1: stable across versions of the case, unique in the country."""
    return f"FR-{SENDER_ID}-{case.pk:08d}"


def _device(parent: ET.Element, role: str, oid: str, identifier: str) -> None:
    party = _el(parent, role, typeCode="RCV" if role == "receiver" else "SND")
    device = _el(party, "device", classCode="DEV", determinerCode="INSTANCE")
    _el(device, "id", root=oid, extension=identifier)


def _observation(parent: ET.Element, code: str, display: str) -> ET.Element:
    observation = _el(parent, "observation", classCode="OBS", moodCode="EVN")
    _el(observation, "code", code=code, codeSystem=CS_OBSERVATION, displayName=display)
    return observation


def _patient(primary_role: ET.Element, case: AdverseEvent) -> None:
    patient = case.patient
    player = _el(primary_role, "player1", classCode="PSN", determinerCode="INSTANCE")
    name = _el(player, "name")
    name.text = patient.code  # D.1: the pseudonymous code, never an identity
    _el(player, "administrativeGenderCode", code=SEX_CODES[patient.sex], codeSystem=OID_SEX)

    age = patient.age_on(case.onset_date)
    subject_of = _el(primary_role, "subjectOf2", typeCode="SBJ")
    observation = _observation(subject_of, "3", "age")
    _el(observation, "value", xsi_type="PQ", value=str(age), unit="a")
    subject_of = _el(primary_role, "subjectOf2", typeCode="SBJ")
    observation = _observation(subject_of, "4", "ageGroup")
    _el(observation, "value", xsi_type="CE", code=age_group_code(age), codeSystem=CS_AGE_GROUP)


def _reaction(primary_role: ET.Element, case: AdverseEvent, reaction_id: str) -> None:
    subject_of = _el(primary_role, "subjectOf2", typeCode="SBJ")
    reaction = _observation(subject_of, "29", "reaction")
    reaction.insert(0, ET.Element(_q("id"), {"root": reaction_id}))
    effective = _el(reaction, "effectiveTime", xsi_type="IVL_TS")
    _el(effective, "low", value=_ts(case.onset_date))
    value = _el(reaction, "value", xsi_type="CE", nullFlavor="OTH", codeSystem=OID_MEDDRA)
    original = _el(value, "originalText", language="fr")
    original.text = case.reporter_term or case.term.label_fr
    location = _el(reaction, "location", typeCode="LOC")
    place = _el(location, "locatedEntity", classCode="LOCE")
    country = _el(place, "locatedPlace", classCode="COUNTRY", determinerCode="INSTANCE")
    _el(country, "code", code="FR", codeSystem=OID_COUNTRY)
    # E.i.3.2a-f: every criterion is stated, true or false.
    for criterion, (code, display) in SERIOUSNESS_CODES.items():
        relation = _el(reaction, "outboundRelationship2", typeCode="PERT")
        observation = _observation(relation, code, display)
        _el(
            observation,
            "value",
            xsi_type="BL",
            value="true" if criterion in case.seriousness_criteria else "false",
        )
    relation = _el(reaction, "outboundRelationship2", typeCode="PERT")
    observation = _observation(relation, "27", "outcome")
    _el(
        observation, "value", xsi_type="CE", code=OUTCOME_CODES[case.outcome], codeSystem=CS_OUTCOME
    )


def _drug(primary_role: ET.Element, case: AdverseEvent, drug_id: str, reaction_id: str) -> None:
    subject_of = _el(primary_role, "subjectOf2", typeCode="SBJ")
    organizer = _el(subject_of, "organizer", classCode="CATEGORY", moodCode="EVN")
    _el(organizer, "code", code="4", codeSystem=CS_ORGANIZER, displayName="drugInformation")
    component = _el(organizer, "component", typeCode="COMP")
    administration = _el(component, "substanceAdministration", classCode="SBADM", moodCode="EVN")
    _el(administration, "id", root=drug_id)
    consumable = _el(administration, "consumable", typeCode="CSM")
    product = _el(consumable, "instanceOfKind", classCode="INST")
    kind = _el(product, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
    name = _el(kind, "name")
    name.text = "Baclofène"
    # G.k.8: action taken with the drug.
    relation = _el(administration, "outboundRelationship2", typeCode="PERT")
    act = _el(relation, "act", classCode="ACT", moodCode="EVN")
    _el(
        act,
        "code",
        code=ACTION_CODES.get(case.action_taken, ACTION_UNKNOWN),
        codeSystem=CS_ACTION_TAKEN,
    )
    # G.k.4.r: the daily dose at onset, as read from the titration log.
    if case.dose_at_onset_mg is not None:
        relation = _el(administration, "outboundRelationship2", typeCode="COMP")
        dosage = _el(relation, "substanceAdministration", classCode="SBADM", moodCode="EVN")
        timing = _el(dosage, "effectiveTime", xsi_type="SXPR_TS")
        period = _el(timing, "comp", xsi_type="PIVL_TS")
        _el(period, "period", value="1", unit="d")
        _el(dosage, "doseQuantity", value=str(case.dose_at_onset_mg), unit="mg")
    # G.k.9.i.4: the rechallenge, when known.
    if case.rechallenge != AdverseEvent.Dechallenge.UNKNOWN:
        relation = _el(administration, "outboundRelationship2", typeCode="PERT")
        observation = _observation(relation, "31", "recurrence")
        _el(
            observation,
            "value",
            xsi_type="CE",
            code="1" if case.rechallenge == "positive" else "2",
            codeSystem=f"{ICH}.1.16",
        )
        reference = _el(observation, "outboundRelationship1", typeCode="REFR")
        _el(_el(reference, "actReference", classCode="OBS", moodCode="EVN"), "id", root=reaction_id)


def _assessments(
    assessment: ET.Element, case: AdverseEvent, drug_id: str, reaction_id: str
) -> None:
    # G.k.1: baclofen is the suspect drug.
    component = _el(assessment, "component", typeCode="COMP")
    characterisation = _el(component, "causalityAssessment", classCode="OBS", moodCode="EVN")
    _el(
        characterisation, "code", code="20", codeSystem=CS_OBSERVATION, displayName="interpretation"
    )
    _el(characterisation, "value", xsi_type="CE", code="1", codeSystem=CS_DRUG_ROLE)
    subject = _el(characterisation, "subject2", typeCode="SUBJ")
    _el(_el(subject, "productUseReference", classCode="SBADM", moodCode="EVN"), "id", root=drug_id)
    # G.k.9.i.2.r: the reporter's causality assessment of baclofen for the reaction.
    component = _el(assessment, "component", typeCode="COMP")
    causality = _el(component, "causalityAssessment", classCode="OBS", moodCode="EVN")
    _el(causality, "code", code="39", codeSystem=CS_OBSERVATION, displayName="causality")
    value = _el(causality, "value", xsi_type="ST")
    with translation.override(settings.LANGUAGE_CODE):  # same text whoever downloads it
        value.text = str(case.get_causality_display())
    method = _el(_el(causality, "methodCode"), "originalText")
    method.text = "Global introspection"
    author = _el(causality, "author", typeCode="AUT")
    source = _el(_el(_el(author, "assignedEntity", classCode="ASSIGNED"), "code"), "originalText")
    source.text = "Primary source reporter"
    subject = _el(causality, "subject1", typeCode="SUBJ")
    _el(
        _el(subject, "adverseEffectReference", classCode="OBS", moodCode="EVN"),
        "id",
        root=reaction_id,
    )
    subject = _el(causality, "subject2", typeCode="SUBJ")
    _el(_el(subject, "productUseReference", classCode="SBADM", moodCode="EVN"), "id", root=drug_id)


def _message(batch: ET.Element, case: AdverseEvent, created: datetime) -> None:
    message = _el(batch, "PORR_IN049016UV")
    _el(
        message,
        "id",
        root=OID_MESSAGE_NUMBER,
        extension=f"{safety_report_id(case)}-V{case.version}",
    )
    _el(message, "creationTime", value=_ts(created))
    _el(message, "interactionId", root=OID_INTERACTION, extension="PORR_IN049016UV")
    _el(message, "processingCode", code="P")
    _el(message, "processingModeCode", code="T")
    _el(message, "acceptAckCode", code="AL")
    _device(message, "receiver", OID_MESSAGE_RECEIVER, RECEIVER_ID)
    _device(message, "sender", OID_MESSAGE_SENDER, SENDER_ID)

    control = _el(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    _el(control, "code", code="PORR_TE049016UV", codeSystem=OID_TRIGGER_EVENT)
    _el(control, "effectiveTime", value=_ts(created))
    subject = _el(control, "subject", typeCode="SUBJ")
    event = _el(subject, "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _el(event, "id", root=OID_SAFETY_REPORT_ID, extension=safety_report_id(case))
    _el(event, "id", root=OID_WORLDWIDE_CASE_ID, extension=safety_report_id(case))
    _el(event, "code", code="PAT_ADV_EVNT", codeSystem=OID_ACT_CODE)
    narrative = _el(event, "text")
    narrative.text = case.description or case.reporter_term or case.term.label_fr
    _el(event, "statusCode", code="active")
    effective = _el(event, "effectiveTime")
    _el(effective, "low", value=_ts(case.received_on))  # C.1.4: first received
    _el(
        event,
        "availabilityTime",
        value=_ts(case.updated_at.date() if case.updated_at else case.received_on),
    )  # C.1.5

    component = _el(event, "component", typeCode="COMP")
    assessment = _el(component, "adverseEventAssessment", classCode="INVSTG", moodCode="EVN")
    subject1 = _el(assessment, "subject1", typeCode="SBJ")
    primary_role = _el(subject1, "primaryRole", classCode="INVSBJ")
    reaction_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rtu-baclofene:case:{case.pk}:reaction"))
    drug_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rtu-baclofene:case:{case.pk}:baclofen"))
    _patient(primary_role, case)
    _reaction(primary_role, case, reaction_id)
    _drug(primary_role, case, drug_id, reaction_id)
    _assessments(assessment, case, drug_id, reaction_id)

    # C.2.r: the primary source is the prescriber, a physician in France.
    relation = _el(event, "outboundRelationship", typeCode="SPRT")
    related = _el(relation, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    _el(related, "code", code="2", codeSystem=CS_RELATED_INVESTIGATION, displayName="sourceReport")
    subject_of = _el(related, "subjectOf2", typeCode="SUBJ")
    control_event = _el(subject_of, "controlActEvent", classCode="CACT", moodCode="EVN")
    author = _el(control_event, "author", typeCode="AUT")
    entity = _el(author, "assignedEntity", classCode="ASSIGNED")
    _el(entity, "code", code="1", codeSystem=CS_QUALIFICATION, displayName="physician")
    represented = _el(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
    located = _el(_el(represented, "addr"), "country")
    located.text = "FR"

    # C.3: the sender.
    subject_of = _el(event, "subjectOf1", typeCode="SUBJ")
    control_event = _el(subject_of, "controlActEvent", classCode="CACT", moodCode="EVN")
    author = _el(control_event, "author", typeCode="AUT")
    entity = _el(author, "assignedEntity", classCode="ASSIGNED")
    _el(entity, "code", code="2", codeSystem=CS_SENDER_TYPE, displayName="regulatoryAuthority")
    organisation = _el(
        entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE"
    )
    name = _el(organisation, "name")
    name.text = SENDER_ORGANISATION

    # C.1.3: type of report.
    subject_of = _el(event, "subjectOf2", typeCode="SUBJ")
    characteristic = _el(subject_of, "investigationCharacteristic", classCode="OBS", moodCode="EVN")
    _el(characteristic, "code", code="1", codeSystem=CS_CHARACTERISTIC, displayName="ichReportType")
    _el(characteristic, "value", xsi_type="CE", code="2", codeSystem=CS_REPORT_TYPE)


def build_batch(cases: Iterable[AdverseEvent], *, created: datetime | None = None) -> bytes:
    """The XML batch, UTF-8 with its declaration. Cases need patient and term loaded."""
    created = created or timezone.now()
    batch = ET.Element(_q("MCCI_IN200100UV01"), {"ITSVersion": "XML_1.0"})
    _el(batch, "id", root=OID_BATCH_NUMBER, extension=f"{SENDER_ID}-{created:%Y%m%d%H%M%S}")
    _el(batch, "creationTime", value=_ts(created))
    _el(batch, "responseModeCode", code="D")
    _el(batch, "interactionId", root=OID_INTERACTION, extension="MCCI_IN200100UV01")
    _el(batch, "name", code="1", codeSystem=CS_BATCH_TYPE, displayName="ichicsr")
    for case in cases:
        _message(batch, case, created)
    _device(batch, "receiver", OID_BATCH_RECEIVER, RECEIVER_ID)
    _device(batch, "sender", OID_BATCH_SENDER, SENDER_ID)
    return ET.tostring(batch, encoding="utf-8", xml_declaration=True)
