"""import_cohort: a valid file imports; any bad line rejects the whole file, each named."""

import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import PrescriberProfile
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from reports.statistics import cohort_summary
from tests.reports.cohort import term

pytestmark = pytest.mark.django_db

RPPS = "10000000009"  # DESIGN.md's example (valid check digit)


def line(**overrides):
    record = {
        "prescriber": {"rpps": RPPS, "specialty": "addiction", "region": "84"},
        "patient": {
            "sex": "M",
            "birth_year": 1966,
            "inclusion_date": "2014-04-02",
            "indication": "reduction",
            "treatment_status": "initiation",
            "current_dose_mg": None,
            "alcohol_g_per_day": 120,
            "craving": 7,
            "abstinent": False,
            "precautions": [],
            "failed_treatments": ["acamprosate"],
        },
        "visits": [
            {
                "visit_date": "2014-04-02",
                "daily_dose_mg": 15,
                "alcohol_g_per_day": 120,
                "craving": 7,
                "abstinent": False,
                "second_opinion": False,
                "collegial_opinion": False,
                "multidisciplinary_care": False,
                "steps": [["2014-04-02", 15], ["2014-04-05", 20]],
            },
            {
                "visit_date": "2014-05-02",
                "daily_dose_mg": 40,
                "alcohol_g_per_day": 40,
                "craving": 3,
                "abstinent": False,
                "steps": [["2014-05-02", 40]],
            },
        ],
        "stop": None,
        "adverse_events": [
            {
                "onset_date": "2014-05-10",
                "term": "somnolence",
                "serious": False,
                "criteria": [],
                "outcome": "recovered",
                "causality": "possible",
                "action": "dose_reduced",
            }
        ],
    }
    for key, value in overrides.items():
        record[key] = value
    return json.dumps(record)


@pytest.fixture(autouse=True)
def _terms(db):
    term("somnolence")


def test_valid_file_imports(tmp_path, capsys):
    second = json.loads(line())
    second["prescriber"]["rpps"] = "10000000017"
    second["patient"]["treatment_status"] = "pretreated"
    second["patient"]["current_dose_mg"] = 60
    second["stop"] = {"date": "2014-06-01", "reason": "goal_reached"}
    path = tmp_path / "cohort.jsonl"
    path.write_text(line() + "\n\n" + json.dumps(second) + "\n")
    call_command("import_cohort", str(path))
    assert "Imported 2 patients" in capsys.readouterr().out
    assert Patient.objects.count() == 2
    assert PrescriberProfile.objects.count() == 2
    assert Visit.objects.count() == 4 and DoseStep.objects.count() == 6
    assert StopOfTreatment.objects.count() == 1 and AdverseEvent.objects.count() == 2
    first = Patient.objects.get(treatment_status="initiation")
    assert (first.latest_dose_mg, str(first.last_visit_date), first.stopped_on) == (
        40,
        "2014-05-02",
        None,
    )
    assert Visit.objects.get(patient=first, visit_date=first.inclusion_date).is_inclusion
    event = AdverseEvent.objects.filter(patient=first).get()
    assert (event.dose_at_onset_mg, event.organ_class, (event.due_on - event.received_on).days) == (
        40,
        "nervous_system",
        90,
    )
    stopped = Patient.objects.get(treatment_status="pretreated")
    assert stopped.latest_dose_mg is None and str(stopped.stopped_on) == "2014-06-01"
    summary = cohort_summary()
    assert summary["followed_up"] == 2 and summary["stopped"] == 1
    # The 15 -> 40 jump of the legacy data is not an error: it shows as a finding.
    assert summary["protocol_findings"][0]["findings"]["STEP_TOO_LARGE"] == 2


def test_three_bad_lines_import_nothing_and_are_named(tmp_path, capsys):
    bad_date = json.loads(line())
    bad_date["visits"][1]["visit_date"] = "2014-02-30"
    bad_term = json.loads(line())
    bad_term["adverse_events"][0]["term"] = "unicorn_syndrome"
    path = tmp_path / "cohort.jsonl"
    path.write_text(
        "\n".join(
            [
                line(),
                json.dumps(bad_date),
                line(),
                "{not json",
                json.dumps(bad_term),
                line(),
            ]
        )
        + "\n"
    )
    with pytest.raises(CommandError) as failure:
        call_command("import_cohort", str(path))
    assert failure.value.returncode == 1
    err = capsys.readouterr().err
    assert "line 2: visits[1].visit_date must be a date" in err
    assert "line 4: not valid JSON" in err
    assert "line 5: adverse_events[0].term 'unicorn_syndrome'" in err
    assert "line 1:" not in err and "line 3:" not in err and "line 6:" not in err
    assert Patient.objects.count() == 0
    assert PrescriberProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r["prescriber"].update(rpps="10000000000"), "not a valid RPPS number"),
        (lambda r: r["patient"].update(craving=11), "between 0 and 10"),
        (lambda r: r["patient"].update(sex="X"), "patient.sex 'X'"),
        (lambda r: r["patient"].update(inclusion_date="2013-12-31"), "is before 2014-03-14"),
        (lambda r: r["visits"][0]["steps"].append(["2014-04-09", 17]), "multiple of 5"),
        (lambda r: r["visits"][1].update(visit_date="2014-03-20"), "is before 2014-04-02"),
        (lambda r: r["adverse_events"][0].update(serious=True), "needs at least one"),
        (lambda r: r.update(stop={"date": "2014-06-01", "reason": "bored"}), "stop.reason"),
    ],
)
def test_each_rule_names_its_reason(tmp_path, capsys, change, reason):
    record = json.loads(line())
    change(record)
    path = tmp_path / "cohort.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(CommandError):
        call_command("import_cohort", str(path))
    assert reason in capsys.readouterr().err
    assert Patient.objects.count() == 0


def test_bad_line_after_written_chunks_rolls_everything_back(tmp_path, capsys, monkeypatch):
    """Chunks are written while later lines are still being validated (PostgreSQL): a bad
    line further down still leaves nothing behind, and every bad line is listed."""
    from reports import importer

    monkeypatch.setattr(importer, "CHUNK", 2)
    new_doctor = json.loads(line())
    new_doctor["prescriber"]["rpps"] = "10000000017"
    bad = json.loads(line())
    bad["patient"]["craving"] = 11
    path = tmp_path / "cohort.jsonl"
    path.write_text(
        "\n".join([line(), line(), line(), json.dumps(new_doctor), line(), json.dumps(bad)])
        + "\n"
        + "\n".join([line(), "[]", line()])
        + "\n"
    )
    with pytest.raises(CommandError) as failure:
        call_command("import_cohort", str(path))
    assert failure.value.returncode == 1
    err = capsys.readouterr().err
    assert "line 6: patient.craving must be between 0 and 10" in err
    assert "line 8: a line must be a JSON object" in err
    assert len(err.strip().splitlines()) == 2
    assert Patient.objects.count() == 0 and Visit.objects.count() == 0
    assert DoseStep.objects.count() == 0 and AdverseEvent.objects.count() == 0
    assert PrescriberProfile.objects.count() == 0


def test_many_chunks_import(tmp_path, capsys, monkeypatch):
    from reports import importer

    monkeypatch.setattr(importer, "CHUNK", 2)
    other = json.loads(line())
    other["prescriber"]["rpps"] = "10000000017"
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join([line(), line(), line(), json.dumps(other), line()]) + "\n")
    call_command("import_cohort", str(path))
    assert "Imported 5 patients" in capsys.readouterr().out
    assert Patient.objects.count() == 5 and PrescriberProfile.objects.count() == 2
    assert Visit.objects.count() == 10 and DoseStep.objects.count() == 15
    assert len(set(Patient.objects.values_list("code", flat=True))) == 5
    assert AdverseEvent.objects.filter(crpv__isnull=False).count() == AdverseEvent.objects.count()
    # The patients' report summaries are left to a worker, queued with the import's commit;
    # until it has run the report computes them from the clinical tables, with the same figures.
    from reports.models import PatientSummary
    from reports.statistics import cohort_summary
    from reports.summaries import summaries_refresh_missing
    from rtuportal.models import OutboxMessage

    assert OutboxMessage.objects.filter(
        task_name="reports.tasks.refresh_missing_summaries"
    ).exists()
    assert not PatientSummary.objects.exists()
    from_tables = cohort_summary()
    assert summaries_refresh_missing(batch=2) == 5
    assert PatientSummary.objects.count() == 5
    assert cohort_summary() == from_tables
    assert summaries_refresh_missing() == 0
