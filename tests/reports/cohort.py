"""A small cohort built by hand; tests/reports/test_statistics.py states the right answers."""

from datetime import date, timedelta

from patients.models import Patient
from pharmacovigilance.models import AdverseEvent, ReactionTerm
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from tests.factories import prescriber

TERMS = {
    "somnolence": ("Somnolence", "Somnolence", "nervous_system"),
    "convulsion": ("Convulsions", "Convulsion", "nervous_system"),
    "anxiety": ("Anxiété", "Anxiety", "psychiatric"),
    "nausea": ("Nausées", "Nausea", "gastrointestinal"),
}


def term(code: str) -> ReactionTerm:
    fr, en, organ = TERMS[code]
    obj, _ = ReactionTerm.objects.get_or_create(
        code=code, defaults={"label_fr": fr, "label_en": en, "organ_class": organ}
    )
    return obj


_codes = iter(range(1, 10**6))


def patient(doctor, **kwargs) -> Patient:
    n = next(_codes)
    fields = {
        "code": f"BAC-H{n:03d}-{n:04d}",
        "prescriber": doctor,
        "protocol_version": "2014",
        "indication": "reduction",
        "craving": 5,
        "abstinent": False,
    }
    fields.update(kwargs)
    return Patient.objects.create(**fields)


def visit(
    p: Patient,
    day: date,
    *,
    alcohol: int,
    craving: int,
    abstinent: bool,
    steps: list[tuple[date, int]] = (),
    **opinions,
) -> Visit:
    v = Visit.objects.create(
        patient=p,
        visit_date=day,
        is_inclusion=day == p.inclusion_date,
        protocol_version="2014",
        daily_dose_mg=steps[-1][1] if steps else 15,
        alcohol_g_per_day=alcohol,
        craving=craving,
        abstinent=abstinent,
        **opinions,
    )
    for start, dose in steps:
        DoseStep.objects.create(patient=p, visit=v, start_date=start, daily_dose_mg=dose)
    return v


def event(
    p: Patient, code: str, onset: date, *, serious: bool, causality: str, dose: int | None
) -> AdverseEvent:
    t = term(code)
    return AdverseEvent.objects.create(
        patient=p,
        onset_date=onset,
        term=t,
        organ_class=t.organ_class,
        serious=serious,
        outcome="recovered",
        causality=causality,
        action_taken="none",
        dose_at_onset_mg=dose,
        protocol_version="2014",
        received_on=onset,
        due_on=onset + timedelta(days=15 if serious else 90),
    )


def build() -> dict[str, object]:
    gp = prescriber(specialty="general_practice")
    addiction = prescriber(specialty="addiction")
    psychiatrist = prescriber(specialty="psychiatry")
    d = date

    a = patient(
        gp,
        sex="M",
        birth_year=1964,
        inclusion_date=d(2014, 4, 1),
        treatment_status="initiation",
        indication="reduction",
        alcohol_g_per_day=100,
        craving=8,
        abstinent=False,
    )
    visit(
        a,
        d(2014, 4, 1),
        alcohol=100,
        craving=8,
        abstinent=False,
        steps=[(d(2014, 4, 1), 15), (d(2014, 4, 3), 20), (d(2014, 4, 4), 30)],
    )
    visit(a, d(2014, 5, 1), alcohol=40, craving=5, abstinent=False, steps=[(d(2014, 5, 1), 45)])
    visit(a, d(2014, 6, 1), alcohol=0, craving=2, abstinent=True)
    visit(a, d(2015, 1, 15), alcohol=200, craving=9, abstinent=False, steps=[(d(2015, 1, 15), 50)])
    event(a, "somnolence", d(2014, 5, 10), serious=False, causality="possible", dose=45)

    b = patient(
        gp,
        sex="F",
        birth_year=1974,
        inclusion_date=d(2014, 5, 1),
        treatment_status="initiation",
        indication="abstinence",
        alcohol_g_per_day=0,
        craving=6,
        abstinent=True,
    )
    visit(b, d(2014, 5, 1), alcohol=0, craving=6, abstinent=True, steps=[(d(2014, 5, 1), 15)])
    visit(b, d(2014, 6, 1), alcohol=20, craving=6, abstinent=False)
    StopOfTreatment.objects.create(patient=b, stop_date=d(2014, 6, 15), reason="adverse_event")
    event(b, "convulsion", d(2014, 6, 2), serious=True, causality="probable", dose=15)
    event(b, "anxiety", d(2014, 6, 3), serious=False, causality="unlikely", dose=15)

    c = patient(
        addiction,
        sex="M",
        birth_year=1950,
        inclusion_date=d(2014, 6, 1),
        treatment_status="pretreated",
        pretreatment_dose_mg=130,
        indication="reduction",
        alcohol_g_per_day=60,
        craving=5,
        abstinent=False,
    )
    visit(c, d(2014, 6, 1), alcohol=60, craving=5, abstinent=False, steps=[(d(2014, 6, 1), 130)])
    visit(
        c,
        d(2014, 7, 1),
        alcohol=30,
        craving=3,
        abstinent=False,
        second_opinion=True,
        steps=[(d(2014, 7, 1), 120)],
    )

    dd = patient(
        addiction,
        sex="M",
        birth_year=1980,
        inclusion_date=d(2014, 7, 1),
        treatment_status="pretreated",
        pretreatment_dose_mg=40,
        indication="abstinence",
        alcohol_g_per_day=0,
        craving=2,
        abstinent=True,
    )
    visit(dd, d(2014, 7, 1), alcohol=0, craving=2, abstinent=True, steps=[(d(2014, 7, 1), 40)])
    event(dd, "nausea", d(2014, 7, 5), serious=True, causality="certain", dose=40)

    e = patient(
        psychiatrist,
        sex="F",
        birth_year=1960,
        inclusion_date=d(2015, 1, 10),
        treatment_status="initiation",
        indication="reduction",
        alcohol_g_per_day=80,
        craving=7,
        abstinent=False,
    )
    visit(e, d(2015, 1, 10), alcohol=80, craving=7, abstinent=False, steps=[(d(2015, 1, 10), 15)])
    visit(e, d(2015, 2, 10), alcohol=40, craving=4, abstinent=False)
    return {"a": a, "b": b, "c": c, "d": dd, "e": e}
