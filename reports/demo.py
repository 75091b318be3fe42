"""The demo accounts and a synthetic cohort calibrated on the agency's 2015 interim summary.

Deterministic for a given seed. Shares that the summary publishes are drawn as exact quotas
(rng.sample of round(p * n) patients within each group) rather than coin flips, so that the
report of the default cohort lands on the published figures and not merely near them; means
are calibrated by rescaling the drinkers' last consumption. Rows are generated as plain tuples
and go in by chunks through reports.bulk (COPY on PostgreSQL, executemany on SQLite), with the
denormalised patient columns filled as the services fill them, each visit's daily dose split
into intakes, and each case routed to its prescriber's CRPV and notified within its deadline.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PrescriberProfile, User
from accounts.services import account_create
from accounts.validators import rpps_with_check_digit
from patients.codes import ALPHABET
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent, CRPVRegion, ReactionTerm
from prescriptions import rules
from prescriptions.models import DoseStep, StopOfTreatment, Visit
from reports import bulk, summaries
from rtuportal.choices import Region

DEFAULT_PATIENTS = 5928
DEFAULT_PRESCRIBERS = 679
DEFAULT_SEED = 2014
CHUNK = 2000
CHUNK_POSTGRESQL = 10000
# Patients of the 2014 cohort left to the demo prescriber (the others go to other prescribers).
DEMO_HISTORICAL_PATIENTS = 5

FIRST_INCLUSION = date(2014, 3, 14)
LAST_INCLUSION = date(2015, 3, 31)
# Every visit, stop and case of the calibrated cohort falls before this day: a report from
# FIRST_INCLUSION to CALIBRATED_UNTIL is the 2015 cohort alone, without the demo caseload.
CALIBRATED_UNTIL = date(2016, 12, 31)

# The 2015 summary (domain/ANSM-2015-SUMMARY.md).
SPECIALTY_SHARES = (
    ("general_practice", 0.45),
    ("addiction", 0.32),
    ("psychiatry", 0.13),
    ("other", 0.10),
)
MEN = 0.70
MEAN_AGE = 48
INITIATION = 0.39
REDUCTION_AMONG_INITIATION = 0.65
FOLLOWED_UP = 0.57
STOPPED_AMONG_FOLLOWED = 0.08
GROUP = {
    # abstinent at inclusion (pretreated: not published, a plausible 40 %), at last visit,
    # craving improved, mean change in g/day.
    "initiation": {
        "abstinent_inclusion": 0.12,
        "abstinent_last": 0.32,
        "craving": 0.74,
        "change": -56.0,
    },
    "pretreated": {
        "abstinent_inclusion": 0.40,
        "abstinent_last": 0.46,
        "craving": 0.45,
        "change": -15.0,
    },
}
AE_ANY = 0.14
AE_RELATED = 0.09
AE_SERIOUS = 0.017
AE_SERIOUS_RELATED = 0.011
# Shares of followed-up patients by organ class and named reaction (one event per patient).
NERVOUS = 0.039
PSYCHIATRIC = 0.029
NAMED_TERMS = {
    "convulsion": 0.002,
    "anxiety": 0.005,
    "depression": 0.003,
    "suicidal_ideation": 0.002,
}
SERIOUS_TERMS = ("convulsion", "depression", "suicidal_ideation")
NERVOUS_FILLERS = ("somnolence", "dizziness", "headache", "paraesthesia")
PSYCHIATRIC_FILLERS = ("insomnia", "confusion")
OTHER_FILLERS = ("asthenia", "nausea", "vomiting", "tinnitus", "weight_gain", "sleep_apnoea")
TERM_DEFAULTS = {
    "convulsion": ("Convulsions", "Convulsion", "nervous_system"),
    "somnolence": ("Somnolence", "Somnolence", "nervous_system"),
    "dizziness": ("Sensations vertigineuses", "Dizziness", "nervous_system"),
    "headache": ("Céphalées", "Headache", "nervous_system"),
    "paraesthesia": ("Paresthésies", "Paraesthesia", "nervous_system"),
    "anxiety": ("Anxiété", "Anxiety", "psychiatric"),
    "depression": ("Dépression", "Depression", "psychiatric"),
    "suicidal_ideation": ("Idées suicidaires", "Suicidal ideation", "psychiatric"),
    "insomnia": ("Insomnie", "Insomnia", "psychiatric"),
    "confusion": ("Confusion", "Confusional state", "psychiatric"),
    "asthenia": ("Asthénie / fatigue", "Asthenia / fatigue", "general"),
    "nausea": ("Nausées", "Nausea", "gastrointestinal"),
    "vomiting": ("Vomissements", "Vomiting", "gastrointestinal"),
    "tinnitus": ("Acouphènes", "Tinnitus", "ear"),
    "weight_gain": ("Prise de poids", "Weight gain", "metabolism"),
    "sleep_apnoea": ("Apnées du sommeil", "Sleep apnoea", "respiratory"),
}

DEMO_PASSWORD = "Baclofene-Demo-2014!"
DEMO_ACCOUNTS = (
    # email, role, TOTP secret (base32 of 15 bytes: 24 characters, no padding)
    ("prescripteur@demo.rtu-baclofene.fr", "prescriber", None),
    ("agence@demo.rtu-baclofene.fr", "agency", "OJ2HULLEMVWW6LLBM5SW4Y3Z"),
    ("admin@demo.rtu-baclofene.fr", "admin", "OJ2HULLEMVWW6LLBMRWWS3RB"),
)
DEMO_PRESCRIBER_RPPS = rpps_with_check_digit("1999999999")


@dataclass
class DemoAccount:
    email: str
    role: str
    password: str
    totp_secret: str | None
    created: bool


def ensure_demo_accounts() -> list[DemoAccount]:
    """The three demo logins; an existing account is left as it is (idempotent)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    result = []
    for email, role, secret in DEMO_ACCOUNTS:
        user = User.objects.filter(email=email).first()
        created = user is None
        if created:
            with transaction.atomic():
                user = account_create(
                    email=email,
                    password=DEMO_PASSWORD,
                    role=role,
                    rpps=DEMO_PRESCRIBER_RPPS if role == "prescriber" else None,
                    specialty="addiction",
                    region="84",
                    first_name="Démo",
                    last_name={
                        "prescriber": "Prescripteur",
                        "agency": "Agence",
                        "admin": "Administrateur",
                    }[role],
                )
                if secret:
                    TOTP.activate(user, secret)
        elif (
            secret
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            TOTP.activate(user, secret)
        result.append(DemoAccount(email, role, DEMO_PASSWORD, secret, created))
    return result


# --------------------------------------------------------------------------------------------
# Cohort
# --------------------------------------------------------------------------------------------


def _quota(rng: random.Random, items: list[Any], share: float) -> set[Any]:
    return set(rng.sample(items, round(share * len(items))))


def _round5(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(round(value / 5.0)) * 5))


@dataclass
class _Plan:
    """One patient before insertion, as plain rows (no model instance: 300,000 of them).

    `patient` lacks the id; each visit row lacks (id, patient_id) and comes with the steps it
    planned; the stop is (stop_date, reason, taper steps); the event row lacks patient_id.
    """

    patient: tuple
    visits: list[tuple[tuple, list[tuple[date, int]]]] = field(default_factory=list)
    stop: tuple[date, str, list[tuple[date, int]]] | None = None
    event: tuple | None = None
    group: str = ""
    followed: bool = False
    inclusion_alcohol: int = 0


def _codes(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    codes = []
    while len(codes) < n:
        chars = "".join(rng.choice(ALPHABET) for _ in range(8))
        code = f"BAC-{chars[:4]}-{chars[4:]}"
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


def _prescribers(rng: random.Random, count: int, seed: int) -> list[User]:
    """The cohort's prescribers: the demo prescriber first, then generated accounts."""
    demo = User.objects.get(email=DEMO_ACCOUNTS[0][0])
    specialties: list[str] = []
    for specialty, share in SPECIALTY_SHARES:
        specialties += [specialty] * round(share * count)
    specialties = (specialties + ["general_practice"] * count)[:count]
    specialties.remove("addiction")  # the demo prescriber is an addiction specialist
    rng.shuffle(specialties)
    emails = [f"prescripteur{i:05d}.s{seed}@demo.rtu-baclofene.fr" for i in range(1, count)]
    existing = {u.email: u for u in User.objects.filter(email__in=emails)}
    unusable = make_password(None)
    regions = [r.value for r in Region]
    new_users = [
        User(
            email=email,
            role="prescriber",
            status=User.Status.APPROVED,
            is_active=True,
            password=unusable,
            first_name="Démo",
            last_name=f"Prescripteur {i}",
        )
        for i, email in enumerate(emails, start=1)
        if email not in existing
    ]
    User.objects.bulk_create(new_users, batch_size=1000)
    if new_users:
        created = {u.email: u for u in User.objects.filter(email__in=[u.email for u in new_users])}
        profiles = []
        for i, email in enumerate(emails, start=1):
            if email in created:
                profiles.append(
                    PrescriberProfile(
                        user=created[email],
                        rpps=rpps_with_check_digit(f"3{seed % 1000:03d}{i:06d}"),
                        specialty=specialties[i - 1],
                        region=rng.choice(regions),
                    )
                )
        PrescriberProfile.objects.bulk_create(profiles, batch_size=1000)
        existing.update(created)
    return [demo] + [existing[e] for e in emails]


def _terms() -> dict[str, ReactionTerm]:
    terms = {}
    for code, (fr, en, organ) in TERM_DEFAULTS.items():
        terms[code], _ = ReactionTerm.objects.get_or_create(
            code=code, defaults={"label_fr": fr, "label_en": en, "organ_class": organ}
        )
    return terms


def _dose_on(steps: list[tuple[date, int]], on: date) -> int | None:
    dose = None
    for start, value in steps:
        if start <= on:
            dose = value
    return dose


def _notified_at(rng: random.Random, received: date, serious: bool) -> datetime:
    """A transmission to the CRPV within the deadline: days after receipt, office hours."""
    day = received + timedelta(days=rng.randint(1, 10 if serious else 40))
    moment = datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60)))
    return timezone.make_aware(moment)


def _demo_historical_patients(
    owner: list[int], stopped: set[int], keep: int = DEMO_HISTORICAL_PATIENTS
) -> None:
    """Leave the demo prescriber (doctor 0) a few patients of the 2014 cohort, stopped ones
    first, and hand the others to the other prescribers (in turn): the demo account then has a
    caseload one can read, and every figure of the calibrated cohort is unchanged (they do not
    depend on which prescriber follows whom; each prescriber keeps at least one patient)."""
    others = max(owner) if owner else 0
    if others == 0:
        return
    mine = [i for i, o in enumerate(owner) if o == 0]
    kept = [i for i in mine if i in stopped][:keep] or mine[:1]
    kept_set = set(kept)
    turn = 0
    for i in mine:
        if i not in kept_set:
            owner[i] = 1 + turn % others
            turn += 1


def seed_cohort(
    *,
    patients: int = DEFAULT_PATIENTS,
    prescribers: int = DEFAULT_PRESCRIBERS,
    seed: int = DEFAULT_SEED,
    follow_up_visits: tuple[int, int] = (1, 4),
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, int]:
    """Insert the synthetic cohort; returns the row counts. Call ensure_demo_accounts first."""
    rng = random.Random(seed)  # noqa: S311 - reproducible from the seed, not a secret
    n = patients
    if n <= 0:
        return {"patients": 0}
    # Their own generator: accounts left by an earlier run must not shift the cohort's draws.
    generator = random.Random(seed * 7919 + 1)  # noqa: S311 - reproducible, not secret
    # Transmission times of the cases: their own generator too (the calibrated draws stay).
    notify_rng = random.Random(seed * 104729 + 3)  # noqa: S311 - reproducible, not secret
    doctors = _prescribers(generator, max(1, min(prescribers, n)), seed)
    terms = _terms()
    log(f"{len(doctors)} prescribers")
    doctor_ids = [d.pk for d in doctors]
    region_of = dict(
        PrescriberProfile.objects.filter(user_id__in=doctor_ids).values_list("user_id", "region")
    )
    crpv_of_region = dict(CRPVRegion.objects.values_list("region", "crpv_id"))
    crpv_of_doctor = [crpv_of_region.get(region_of.get(pk)) for pk in doctor_ids]

    # Assignment of patients to prescribers: each prescriber has at least one patient.
    owner = list(range(len(doctors))) + [
        min(int(rng.paretovariate(1.2)) - 1, len(doctors) - 1)
        if rng.random() < 0.3
        else rng.randrange(len(doctors))
        for _ in range(n - len(doctors))
    ]
    rng.shuffle(owner)

    everyone = list(range(n))
    men = _quota(rng, everyone, MEN)
    initiation = _quota(rng, everyone, INITIATION)
    init_list = sorted(initiation)
    reduction = _quota(rng, init_list, REDUCTION_AMONG_INITIATION)
    reduction |= _quota(rng, sorted(set(everyone) - initiation), 0.5)
    followed = _quota(rng, everyone, FOLLOWED_UP)
    followed_list = sorted(followed)
    stopped = _quota(rng, followed_list, STOPPED_AMONG_FOLLOWED)
    _demo_historical_patients(owner, stopped)

    abstinent_inclusion: set[int] = set()
    abstinent_last: set[int] = set()
    craving_improved: set[int] = set()
    for group in ("initiation", "pretreated"):
        shares = GROUP[group]
        members = [i for i in everyone if (i in initiation) == (group == "initiation")]
        stratum_followed = [i for i in members if i in followed]
        stratum_other = [i for i in members if i not in followed]
        for stratum in (stratum_followed, stratum_other):
            abstinent_inclusion |= _quota(rng, stratum, shares["abstinent_inclusion"])
        # Most patients abstinent at inclusion stay so; drinkers fill the rest of the quota.
        wanted = round(shares["abstinent_last"] * len(stratum_followed))
        stay = [i for i in stratum_followed if i in abstinent_inclusion and rng.random() < 0.85]
        stay = stay[:wanted]
        drinkers = [i for i in stratum_followed if i not in abstinent_inclusion]
        abstinent_last |= set(stay) | set(rng.sample(drinkers, wanted - len(stay)))
        craving_improved |= _quota(rng, stratum_followed, shares["craving"])

    # Adverse events: one per patient, exact quotas over the followed-up patients.
    f = len(followed_list)
    order = rng.sample(followed_list, f)
    with_event = order[: round(AE_ANY * f)]
    term_of: dict[int, str] = {}
    cursor = 0

    def take(count: int, code_for: Callable[[], str]) -> None:
        nonlocal cursor
        for i in with_event[cursor : cursor + count]:
            term_of[i] = code_for()
        cursor += count

    named = {code: round(share * f) for code, share in NAMED_TERMS.items()}
    for code, count in named.items():
        take(count, lambda code=code: code)
    take(max(0, round(NERVOUS * f) - named["convulsion"]), lambda: rng.choice(NERVOUS_FILLERS))
    take(
        max(
            0,
            round(PSYCHIATRIC * f)
            - named["anxiety"]
            - named["depression"]
            - named["suicidal_ideation"],
        ),
        lambda: rng.choice(PSYCHIATRIC_FILLERS),
    )
    take(len(with_event) - cursor, lambda: rng.choice(OTHER_FILLERS))
    must_be_serious = [i for i in with_event if term_of[i] in SERIOUS_TERMS]
    others = [i for i in with_event if term_of[i] not in SERIOUS_TERMS]
    n_serious = round(AE_SERIOUS * f)
    serious = set(must_be_serious[:n_serious]) | set(
        rng.sample(others, max(0, n_serious - len(must_be_serious)))
    )
    serious_list = sorted(serious)
    related = set(rng.sample(serious_list, min(len(serious_list), round(AE_SERIOUS_RELATED * f))))
    not_serious = [i for i in with_event if i not in serious]
    related |= set(rng.sample(not_serious, round(AE_RELATED * f) - len(related)))

    span = (LAST_INCLUSION - FIRST_INCLUSION).days
    codes = _codes(rng, n, set())
    counts = {"patients": 0, "visits": 0, "steps": 0, "stops": 0, "adverse_events": 0}
    now = bulk.now_value()
    protocol_version = rules.protocol_in_force
    stop_reasons = [
        "goal_reached",
        "no_response",
        "adverse_event",
        "patient_decision",
        "lost_to_follow_up",
    ]
    treatments = ["acamprosate", "naltrexone", "nalmefene", "disulfiram"]
    second_by, collegial_by = "Dr Avis (CSAPA)", "Réunion collégiale (CSAPA)"

    def plan_patient(i: int) -> _Plan:
        # The draws below come in the order of the original generator (same cohort per seed).
        group = "initiation" if i in initiation else "pretreated"
        inclusion = FIRST_INCLUSION + timedelta(days=rng.randrange(span + 1))
        age = max(20, min(80, int(round(rng.gauss(MEAN_AGE, 11)))))
        if i in abstinent_inclusion:
            alcohol = 0
        elif group == "initiation":
            alcohol = rng.randint(60, 200)
        else:
            alcohol = rng.randint(20, 120)
        craving = rng.randint(4, 9) if group == "initiation" else rng.randint(2, 8)
        doctor_index = owner[i]
        doctor = doctor_ids[doctor_index]
        if group == "initiation":
            target = _round5(rng.gauss(90, 45), 30, 300)
            pretreatment = None
        else:
            target = pretreatment = _round5(rng.gauss(100, 50), 15, 300)
        # Age is counted per calendar year: a patient of 65 at inclusion is 66 next January.
        over_65 = age + 1 > rules.OLDER_PATIENT_AGE_ABOVE
        second = target >= 120
        collegial = target > 180 or (over_65 and target >= 120)
        opinions = {
            "second_opinion": second,
            "collegial_opinion": collegial,
            "multidisciplinary_care": False,
        }
        steps = rules.plan_titration(
            start=inclusion,
            from_dose_mg=pretreatment,
            target_dose_mg=target,
            age=age,
            **opinions,
        )
        failed = json.dumps(rng.sample(treatments, rng.randint(1, 2)))
        is_followed = i in followed
        dates = [inclusion]
        if is_followed:
            for _visit in range(rng.randint(*follow_up_visits)):
                dates.append(dates[-1] + timedelta(days=rng.randint(21, 35)))
        # The last visit's state; intermediate visits move linearly towards it.
        if is_followed:
            last_abstinent = i in abstinent_last
            last_alcohol = (
                0
                if last_abstinent
                else (
                    rng.randint(10, 60)
                    if alcohol == 0
                    else max(
                        5,
                        int(
                            alcohol * rng.uniform(0.3, 0.9)
                            if group == "initiation"
                            else alcohol * rng.uniform(0.6, 1.1)
                        ),
                    )
                )
            )
            last_craving = (
                rng.randint(0, craving - 1)
                if i in craving_improved
                else min(10, craving + rng.randint(0, 1))
            )
        else:
            last_alcohol, last_craving = alcohol, craving
        # Pretreated patients sometimes lower their dose at the first follow-up.
        if group == "pretreated" and len(dates) > 1 and pretreatment > 30 and rng.random() < 0.3:
            try:
                steps += rules.plan_titration(
                    start=dates[1],
                    from_dose_mg=pretreatment,
                    target_dose_mg=pretreatment - 20,
                    age=age,
                    **opinions,
                )[1:]
            except ValueError:
                pass
        plan = _Plan((), group=group, followed=is_followed, inclusion_alcohol=alcohol)
        last_index = len(dates) - 1
        for index, day in enumerate(dates):
            following = dates[index + 1] if index < last_index else None
            if index == 0:
                chunk = [s for s in steps if following is None or s[0] < following]
            else:
                chunk = [
                    s for s in steps if s[0] >= day and (following is None or s[0] < following)
                ]
            fraction = index / last_index if last_index else 0.0
            visit_alcohol = round(alcohol + (last_alcohol - alcohol) * fraction)
            dose = chunk[-1][1] if chunk else (_dose_on(steps, day) or steps[0][1])
            if index and index == last_index:
                abstinent = last_alcohol == 0
            else:
                abstinent = visit_alcohol == 0 if index else alcohol == 0
            morning, noon, evening, bedtime = bulk.split_intakes(dose)
            plan.visits.append(
                (
                    (
                        day,
                        index == 0,
                        protocol_version(day).version,
                        dose,
                        morning,
                        noon,
                        evening,
                        bedtime,
                        visit_alcohol,
                        round(craving + (last_craving - craving) * fraction),
                        abstinent,
                        second,
                        inclusion if second else None,
                        second_by if second else "",
                        collegial,
                        inclusion if collegial else None,
                        collegial_by if collegial else "",
                        False,
                        None,
                        "",
                        "",
                        False,
                        1,
                        doctor,
                        now,
                        now,
                    ),
                    chunk,
                )
            )
        last_visit = dates[-1]
        last_steps = plan.visits[-1][1]
        in_titration = len(last_steps) > 1
        latest_dose = steps[-1][1] if steps else None
        stopped_on = None
        if i in stopped:
            # The taper starts once the titration has settled (2 days after its last step).
            stop_day = max(
                last_visit + timedelta(days=rng.randint(1, 20)), steps[-1][0] + timedelta(days=2)
            )
            taper = rules.plan_titration(
                start=stop_day,
                from_dose_mg=latest_dose,
                target_dose_mg=0,
                age=age,
                **opinions,
            )
            plan.stop = (stop_day, rng.choice(stop_reasons), taper[1:])
            stopped_on = stop_day
            latest_dose = None
            in_titration = False
        if i in term_of:
            term = terms[term_of[i]]
            onset = inclusion + timedelta(
                days=rng.randint(1, max(1, (last_visit - inclusion).days))
            )
            received = onset + timedelta(days=rng.randint(0, 10))
            is_serious = i in serious
            criteria = (
                [rng.choice(["hospitalisation", "medically_important"])] if is_serious else []
            )
            outcome = rng.choice(["recovered", "recovered", "recovering", "unknown"])
            causality = (
                rng.choice(["possible", "possible", "probable", "certain"])
                if i in related
                else rng.choice(["unlikely", "excluded"])
            )
            action = rng.choice(["none", "dose_reduced", "temporarily_stopped"])
            plan.event = (
                doctor,
                onset,
                term.pk,
                "",
                term.organ_class,
                "",
                is_serious,
                json.dumps(criteria),
                outcome,
                causality,
                action,
                "unknown",
                "unknown",
                _dose_on(steps, onset),
                protocol_version(onset).version,
                crpv_of_doctor[doctor_index],
                received,
                AdverseEvent.deadline_for(serious=is_serious, received_on=received),
                bulk.datetime_value(_notified_at(notify_rng, received, is_serious)),
                1,
                now,
                now,
            )
        plan.patient = (
            codes[i],
            doctor,
            "M" if i in men else "F",
            inclusion.year - age,
            inclusion,
            protocol_version(inclusion).version,
            "reduction" if i in reduction else "abstinence",
            group,
            pretreatment,
            failed,
            "[]",
            alcohol,
            craving,
            alcohol == 0,
            True,
            True,
            latest_dose,
            last_visit,
            in_titration,
            stopped_on,
            now,
            now,
        )
        return plan

    # Insert in chunks, then calibrate each group's mean change in consumption.
    last_visits: list[tuple[str, int, int, int]] = []
    chunk_size = CHUNK_POSTGRESQL if bulk.is_postgresql() else CHUNK
    with transaction.atomic():
        bulk.fast_session()
        for start in range(0, n, chunk_size):
            plans = [plan_patient(i) for i in range(start, min(n, start + chunk_size))]
            _insert(plans, counts, last_visits)
            log(f"{min(n, start + chunk_size)} / {n} patients")
        _recalibrate_means(last_visits)
        log("patient summaries")
        summaries.summaries_refresh()
    return counts


def _insert(
    plans: list[_Plan], counts: dict[str, int], last_visits: list[tuple[str, int, int, int]]
) -> None:
    """Write the plans' rows with ids reserved up front; note each followed-up patient's last
    visit (group, inclusion consumption, visit id, last consumption) for the calibration."""
    patient_ids = bulk.reserve_ids(Patient, len(plans))
    visit_ids = iter(bulk.reserve_ids(Visit, sum(len(p.visits) for p in plans)))
    stop_ids = iter(bulk.reserve_ids(StopOfTreatment, sum(1 for p in plans if p.stop)))
    visits, steps, stops, events = [], [], [], []
    for pid, plan in zip(patient_ids, plans, strict=True):
        for row, chunk in plan.visits:
            vid = next(visit_ids)
            visits.append((vid, pid, *row))
            for day, dose in chunk:
                steps.append((pid, vid, None, day, dose))
        if plan.followed and len(plan.visits) > 1:
            last = visits[-1]
            last_visits.append((plan.group, plan.inclusion_alcohol, last[0], last[10]))
        if plan.stop:
            sid = next(stop_ids)
            stop_day, reason, taper = plan.stop
            doctor = plan.patient[1]
            stops.append((sid, pid, stop_day, reason, "", None, "", doctor, plan.patient[-1]))
            for day, dose in taper:
                steps.append((pid, None, sid, day, dose))
        if plan.event:
            events.append((pid, *plan.event))
    bulk.insert_rows(
        Patient,
        bulk.PATIENT_COLUMNS,
        ((pid, *p.patient) for pid, p in zip(patient_ids, plans, strict=True)),
    )
    bulk.insert_rows(Visit, bulk.VISIT_COLUMNS, visits)
    bulk.insert_rows(StopOfTreatment, bulk.STOP_COLUMNS, stops)
    bulk.insert_rows(DoseStep, bulk.STEP_COLUMNS, steps)
    bulk.insert_rows(AdverseEvent, bulk.EVENT_COLUMNS, events)
    counts["patients"] += len(plans)
    counts["visits"] += len(visits)
    counts["steps"] += len(steps)
    counts["stops"] += len(stops)
    counts["adverse_events"] += len(events)


def _recalibrate_means(last_visits: list[tuple[str, int, int, int]]) -> None:
    """Rescale the drinkers' last-visit consumption so each group's mean change is on target.

    From the (group, inclusion consumption, last visit id, last consumption) of each followed-up
    patient noted at insertion: the last visit of each patient who still drinks gets
    alcohol = last * k, per group, then one bulk update.
    """
    for group in ("initiation", "pretreated"):
        target = GROUP[group]["change"]
        members = [(vid, start, last) for g, start, vid, last in last_visits if g == group]
        if not members:
            continue
        values = {vid: last for vid, _start, last in members}
        start_of = {vid: start for vid, start, _last in members}
        for _round in range(6):
            total = sum(values[v] - start_of[v] for v in values)
            drinkers = [v for v in values if values[v] > 0]
            fixed = sum(values[v] - start_of[v] for v in values if values[v] == 0)
            wanted_last = target * len(values) - fixed + sum(start_of[v] for v in drinkers)
            have_last = sum(values[v] for v in drinkers)
            if not drinkers or have_last <= 0 or abs(total / len(values) - target) < 0.2:
                break
            factor = wanted_last / have_last
            for v in drinkers:
                values[v] = max(5, min(600, int(round(values[v] * factor))))
        bulk.update_column(
            Visit,
            "alcohol_g_per_day",
            [(vid, values[vid]) for vid, _start, last in members if values[vid] != last],
        )


# --------------------------------------------------------------------------------------------
# The demo prescriber's current caseload
# --------------------------------------------------------------------------------------------

# (days since inclusion, days since the last visit or None for "as the visits fall", target
# dose, role). Dates are relative to the day of the seed, so the demo always looks current.
CASELOAD = (
    (3, None, 60, "titration"),
    (8, None, 70, "titration"),
    (13, None, 50, "titration"),
    (19, None, 80, "titration"),
    (26, None, 60, "titration"),
    (34, None, 40, "steady"),
    (41, None, 60, "steady"),
    (52, None, 75, "steady"),
    (66, None, 50, "steady"),
    (79, None, 80, "steady"),
    (95, None, 30, "steady"),
    (108, None, 65, "steady"),
    (124, None, 100, "high"),
    (140, None, 45, "steady"),
    (158, None, 60, "steady"),
    (171, 36, 70, "overdue"),
    (189, None, 55, "steady"),
    (206, None, 80, "steady"),
    (223, 47, 50, "overdue"),
    (240, None, 40, "steady"),
    (262, 61, 60, "stopped"),
    (281, None, 70, "steady"),
    (305, None, 35, "steady"),
    (330, None, 60, "steady"),
)
# Recent cases: (caseload index, days since onset, days since receipt, term, notified).
CASELOAD_EVENTS = (
    (1, 6, 5, "somnolence", False),
    (6, 20, 18, "dizziness", False),
    (9, 33, 31, "asthenia", False),
    (17, 150, 148, "insomnia", True),
)
MULTIDISCIPLINARY_TEAM = "CSAPA de Lyon"


def seed_demo_caseload(
    *, seed: int = DEFAULT_SEED, today: date | None = None, log: Callable[[str], None] = print
) -> int:
    """Give the demo prescriber patients of today, through the portal's own services.

    About two dozen patients included in the last eleven months under the protocol in force:
    some in titration, one above 80 mg/day with multidisciplinary care, two with a visit
    overdue, one stopped with its taper, and a few recent adverse events still to transmit.
    Every dose comes from rules.plan_titration and is checked by the services (a finding would
    raise), which also keep the patient's summary columns and write the history. Outside the
    calibrated cohort's dates, so the 2015 figures are unchanged. Idempotent: nothing is added
    when the demo prescriber already has a patient included after the cohort.
    """
    from patients.services import patient_register
    from pharmacovigilance import services as cases
    from prescriptions import services as prescriptions

    today = today or timezone.localdate()
    prescriber = User.objects.get(email=DEMO_ACCOUNTS[0][0])
    if Patient.objects.filter(prescriber=prescriber, inclusion_date__gt=LAST_INCLUSION).exists():
        return 0
    rng = random.Random(seed * 9973 + 11)  # noqa: S311 - reproducible, not secret
    created: list[Patient] = []
    for days, last_seen, target, role in CASELOAD:
        inclusion = today - timedelta(days=days)
        age = rng.randint(27, 66)
        sex = "M" if rng.random() < 0.68 else "F"
        alcohol = rng.randint(75, 160) if sex == "M" else rng.randint(50, 120)
        craving = rng.randint(5, 9)
        high = role == "high"
        with transaction.atomic():
            patient = patient_register(
                prescriber=prescriber,
                sex=sex,
                birth_year=inclusion.year - age,
                inclusion_date=inclusion,
                indication="reduction",
                treatment_status="initiation",
                pretreatment_dose_mg=None,
                failed_treatments=rng.sample(["acamprosate", "naltrexone", "nalmefene"], 1),
                precautions=[],
                alcohol_g_per_day=alcohol,
                craving=craving,
                abstinent=False,
                psychosocial_care=True,
                informed_of_rtu=True,
            )
            # Visits: every 3 to 4 weeks (every 2 weeks while titrating), the last one recent.
            end = today - timedelta(days=last_seen) if last_seen else today
            visit_days = [inclusion]
            while True:
                gap = rng.randint(13, 16) if len(visit_days) < 3 else rng.randint(21, 27)
                following = visit_days[-1] + timedelta(days=gap)
                if following > end:
                    break
                visit_days.append(following)
            opinions = (
                {
                    "multidisciplinary_care": True,
                    "multidisciplinary_care_date": inclusion,
                    "multidisciplinary_care_by": MULTIDISCIPLINARY_TEAM,
                }
                if high
                else {}
            )
            dose: int | None = None
            for index, day in enumerate(visit_days):
                following = visit_days[index + 1] if index + 1 < len(visit_days) else None
                plan = rules.plan_titration(
                    start=day,
                    from_dose_mg=dose,
                    target_dose_mg=target,
                    age=day.year - patient.birth_year,
                    multidisciplinary_care=high,
                )
                steps = [s for s in plan[1:] if following is None or s[0] < following]
                progress = index / max(1, len(visit_days) - 1) if len(visit_days) > 1 else 0.0
                if index == 0:  # the initiation visit records the state at inclusion
                    drinking, feeling = alcohol, craving
                else:
                    drinking = max(0, round(alcohol * (1 - 0.7 * progress) - rng.randint(0, 10)))
                    if rng.random() < 0.15:
                        drinking = 0
                    feeling = max(0, craving - round(4 * progress) - rng.randint(0, 1))
                prescriptions.visit_record(
                    patient=patient,
                    by=prescriber,
                    visit_date=day,
                    daily_dose_mg=plan[0][1],
                    intakes=dict(
                        zip(prescriptions.INTAKES, bulk.split_intakes(plan[0][1]), strict=True)
                    ),
                    alcohol_g_per_day=drinking,
                    craving=feeling,
                    abstinent=drinking == 0,
                    opinions=opinions,
                    steps=steps,
                )
                dose = (steps or plan[:1])[-1][1]
            if role == "stopped":
                patient.refresh_from_db()
                start = visit_days[-1] + timedelta(days=rng.randint(5, 9))
                taper = rules.plan_titration(
                    start=start,
                    from_dose_mg=dose,
                    target_dose_mg=0,
                    age=start.year - patient.birth_year,
                )[1:]
                prescriptions.stop_record(
                    patient=patient,
                    by=prescriber,
                    stop_date=taper[-1][0] + timedelta(days=2),
                    reason="goal_reached",
                    note=_("Consumption under control; tapered as planned."),
                    taper=taper,
                )
        patient.refresh_from_db()
        created.append(patient)
    terms = _terms()
    for index, onset_days, received_days, term, notified in CASELOAD_EVENTS:
        received = today - timedelta(days=received_days)
        case = cases.adverse_event_report(
            patient=created[index],
            reported_by=prescriber,
            onset_date=today - timedelta(days=onset_days),
            term=terms[term],
            serious=False,
            seriousness_criteria=[],
            outcome="recovering" if not notified else "recovered",
            causality="possible",
            action_taken="dose_reduced" if term == "somnolence" else "none",
            today=received,
        )
        if notified:
            at = timezone.make_aware(datetime.combine(received + timedelta(days=4), time(10, 30)))
            if cases.case_claim_notification(case_id=case.pk, at=at):
                cases.case_record_notification(case_id=case.pk)
    log(f"demo prescriber: {len(created)} current patients, {len(CASELOAD_EVENTS)} recent cases")
    return len(created)
