"""E2B(R3) export of one case and of a batch: structure, code lists and values, checked one by one.

The published ICH schema files are not available here, so this is the structural test the issue
asks for: every element the portal must send is present with the ICH code-list value expected.
"""

from datetime import date
from xml.etree import ElementTree as ET

import pytest
from django.urls import reverse

from pharmacovigilance import e2b
from tests.pharmacovigilance.helpers import frozen, make_case, term

NS = {"hl7": "urn:hl7-org:v3"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@pytest.fixture
def case(patient):
    with frozen():
        return make_case(
            patient, term=term("convulsion"), serious=True,
            seriousness_criteria=["life_threatening", "hospitalisation"], outcome="recovering",
            causality="probable", action_taken="stopped", rechallenge="negative",
            description="Generalised seizure two days after the step to 60 mg/day.",
        )  # fmt: skip


def one(node, path):
    found = node.findall(path, NS)
    assert len(found) == 1, f"{path}: {len(found)} elements"
    return found[0]


def observation(node, code):
    """The observation with ICH observation code `code` under `node` (exactly one)."""
    matches = [
        o for o in node.iter("{urn:hl7-org:v3}observation")
        if o.find("hl7:code", NS) is not None
        and o.find("hl7:code", NS).get("code") == code
        and o.find("hl7:code", NS).get("codeSystem") == e2b.CS_OBSERVATION
    ]  # fmt: skip
    assert len(matches) == 1, f"observation {code}: {len(matches)}"
    return matches[0]


def download(client, case):
    response = client.get(reverse("pharmacovigilance:e2b", args=[case.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.content)


def test_batch_and_message_headers(agency_client, case):
    root = download(agency_client, case)
    assert root.tag == "{urn:hl7-org:v3}MCCI_IN200100UV01"
    assert root.get("ITSVersion") == "XML_1.0"
    assert one(root, "hl7:id").get("root") == "2.16.840.1.113883.3.989.2.1.3.22"
    assert one(root, "hl7:interactionId").get("extension") == "MCCI_IN200100UV01"
    assert one(root, "hl7:name").get("code") == "1"  # ichicsr
    assert one(root, "hl7:responseModeCode").get("code") == "D"
    assert one(root, "hl7:receiver/hl7:device/hl7:id").get("root") == e2b.OID_BATCH_RECEIVER
    assert one(root, "hl7:sender/hl7:device/hl7:id").get("root") == e2b.OID_BATCH_SENDER
    message = one(root, "hl7:PORR_IN049016UV")
    assert one(message, "hl7:interactionId").get("extension") == "PORR_IN049016UV"
    assert one(message, "hl7:processingCode").get("code") == "P"
    assert one(message, "hl7:acceptAckCode").get("code") == "AL"
    control = one(message, "hl7:controlActProcess")
    assert one(control, "hl7:code").get("code") == "PORR_TE049016UV"
    event = one(control, "hl7:subject/hl7:investigationEvent")
    ids = {i.get("root"): i.get("extension") for i in event.findall("hl7:id", NS)}
    assert (
        ids[e2b.OID_SAFETY_REPORT_ID]
        == ids[e2b.OID_WORLDWIDE_CASE_ID]
        == e2b.safety_report_id(case)
    )
    assert one(event, "hl7:code").get("code") == "PAT_ADV_EVNT"
    assert one(event, "hl7:effectiveTime/hl7:low").get("value") == "20140602"  # received
    assert one(event, "hl7:text").text.startswith("Generalised seizure")
    report_type = one(event, "hl7:subjectOf2/hl7:investigationCharacteristic")
    assert one(report_type, "hl7:value").get("code") == "2"
    sender = one(event, "hl7:subjectOf1/hl7:controlActEvent/hl7:author/hl7:assignedEntity")
    assert one(sender, "hl7:code").get("codeSystem") == e2b.CS_SENDER_TYPE


def test_patient_reaction_seriousness_and_outcome(agency_client, case):
    root = download(agency_client, case)
    role = one(root, ".//hl7:adverseEventAssessment/hl7:subject1/hl7:primaryRole")
    assert one(role, "hl7:player1/hl7:name").text == "BAC-A001-0001"
    sex = one(role, "hl7:player1/hl7:administrativeGenderCode")
    assert (sex.get("code"), sex.get("codeSystem")) == ("1", "1.0.5218")  # male
    age = one(observation(role, "3"), "hl7:value")
    assert (age.get("value"), age.get("unit"), age.get(XSI_TYPE)) == ("48", "a", "PQ")
    assert one(observation(role, "4"), "hl7:value").get("code") == "5"  # adult

    reaction = observation(role, "29")
    assert one(reaction, "hl7:effectiveTime/hl7:low").get("value") == "20140510"
    value = one(reaction, "hl7:value")
    assert value.get("codeSystem") == e2b.OID_MEDDRA and value.get("nullFlavor") == "OTH"
    assert one(value, "hl7:originalText").text == "Convulsions"
    assert one(reaction, ".//hl7:locatedPlace/hl7:code").get("code") == "FR"
    expected = {
        "34": "false",
        "21": "true",
        "33": "true",
        "35": "false",
        "12": "false",
        "26": "false",
    }
    for code, flag in expected.items():
        criterion = one(observation(reaction, code), "hl7:value")
        assert (criterion.get(XSI_TYPE), criterion.get("value")) == ("BL", flag), code
    outcome = one(observation(reaction, "27"), "hl7:value")
    assert (outcome.get("code"), outcome.get("codeSystem")) == ("2", e2b.CS_OUTCOME)


def test_suspect_drug_dose_action_and_causality(agency_client, case):
    root = download(agency_client, case)
    drug = one(root, ".//hl7:organizer/hl7:component/hl7:substanceAdministration")
    assert one(root, ".//hl7:organizer/hl7:code").get("code") == "4"  # drugInformation
    assert one(drug, ".//hl7:kindOfProduct/hl7:name").text == "Baclofène"
    action = one(drug, "hl7:outboundRelationship2/hl7:act/hl7:code")
    assert (action.get("code"), action.get("codeSystem")) == ("1", e2b.CS_ACTION_TAKEN)
    dose = one(drug, ".//hl7:doseQuantity")
    assert (dose.get("value"), dose.get("unit")) == ("60", "mg")
    assert one(drug, ".//hl7:period").get("unit") == "d"
    assert one(observation(drug, "31"), "hl7:value").get("code") == "2"  # did not recur
    drug_id = one(drug, "hl7:id").get("root")

    assessments = root.findall(
        ".//hl7:adverseEventAssessment/hl7:component/hl7:causalityAssessment", NS
    )
    by_code = {one(a, "hl7:code").get("code"): a for a in assessments}
    assert one(by_code["20"], "hl7:value").get("code") == "1"  # suspect
    causality = by_code["39"]
    assert one(causality, "hl7:value").text == "Probable"  # French, the agency's language
    assert one(causality, "hl7:subject2/hl7:productUseReference/hl7:id").get("root") == drug_id
    reaction_id = one(observation(root, "29"), "hl7:id").get("root")
    assert (
        one(causality, "hl7:subject1/hl7:adverseEffectReference/hl7:id").get("root") == reaction_id
    )


@pytest.mark.parametrize(
    ("action", "code"),
    [("none", "4"), ("dose_reduced", "2"), ("dose_increased", "3"), ("temporarily_stopped", "1")],
)
def test_action_taken_codes(patient, action, code):
    with frozen():
        case = make_case(patient, action_taken=action)
    root = ET.fromstring(e2b.build_batch([case]))
    assert (
        one(root, ".//hl7:substanceAdministration/hl7:outboundRelationship2/hl7:act/hl7:code").get(
            "code"
        )
        == code
    )


@pytest.mark.parametrize(
    ("outcome", "criteria", "code"),
    [("recovered", [], "1"), ("not_recovered", [], "3"), ("recovered_with_sequelae", [], "4"),
     ("fatal", ["death"], "5"), ("unknown", [], "0")],
)  # fmt: skip
def test_outcome_codes(patient, outcome, criteria, code):
    with frozen():
        case = make_case(
            patient, outcome=outcome, serious=bool(criteria), seriousness_criteria=criteria
        )
    root = ET.fromstring(e2b.build_batch([case]))
    assert one(observation(root, "27"), "hl7:value").get("code") == code


def test_female_elderly_patient_without_dose(alice):
    from tests.factories import PatientFactory

    patient = PatientFactory(prescriber=alice, sex="F", birth_year=1945)
    with frozen():
        case = make_case(patient)
    root = ET.fromstring(e2b.build_batch([case]))
    assert one(root, ".//hl7:administrativeGenderCode").get("code") == "2"
    assert one(observation(root, "4"), "hl7:value").get("code") == "6"
    assert root.find(".//hl7:doseQuantity", NS) is None  # no dose in the log: none invented


def test_batch_of_a_period(agency_client, patient, bob_patient):
    with frozen(date(2014, 4, 20)):
        make_case(patient, onset_date=date(2014, 4, 3), today=date(2014, 4, 20))
    with frozen():
        june = [make_case(patient), make_case(bob_patient, onset_date=date(2014, 5, 3))]
    response = agency_client.get(
        reverse("pharmacovigilance:e2b_batch"),
        {"received_from": "2014-06-01", "received_to": "2014-06-30"},
    )
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    messages = root.findall("hl7:PORR_IN049016UV", NS)
    assert len(messages) == 2
    names = {m.find(".//hl7:player1/hl7:name", NS).text for m in messages}
    assert names == {c.patient.code for c in june}


def test_e2b_access(client, alice_client, bob_client, case):
    url = reverse("pharmacovigilance:e2b", args=[case.pk])
    assert client.get(url).status_code == 302
    assert bob_client.get(url).status_code == 404
    assert alice_client.get(url).status_code == 200  # the reporter may keep a copy
