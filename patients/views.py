"""Prescriber pages: dashboard, patient list, inclusion, patient page; admin transfer."""

from __future__ import annotations

import functools
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from prescriptions import rules, timeline
from prescriptions import services as prescription_services
from rtuportal.access import (
    ADMIN,
    AGENCY,
    PRESCRIBER,
    admin_required,
    prescriber_required,
    role_required,
)
from rtuportal.choices import OrganClass
from rtuportal.queries import CompiledValues

from . import charts, services
from .forms import InclusionForm, PatientSearchForm, TransferForm
from .models import VISIT_INTERVAL_DAYS, Patient
from .selectors import filter_patients, get_patient_for_user, patients_for_user

PAGE_SIZE = 25
DASHBOARD_ROWS = 20
readers_required = role_required(PRESCRIBER, AGENCY, ADMIN)


def _today():
    return timezone.localdate()


@prescriber_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Overdue visits, and patients above a threshold of the protocol in force today."""
    today = _today()
    protocol = rules.protocol_in_force(today)
    mine = Patient.objects.filter(prescriber=request.user, stopped_on__isnull=True)
    overdue = list(
        filter_patients(mine, today=today, status="overdue", sort="next_due")[:DASHBOARD_ROWS]
    )
    watch_from = protocol.multidisciplinary_care_above_mg or (protocol.second_opinion_from_mg - 1)
    above = list(
        mine.filter(latest_dose_mg__gt=watch_from).order_by("-latest_dose_mg", "code")[
            :DASHBOARD_ROWS
        ]
    )
    above_cap = list(
        mine.filter(latest_dose_mg__gt=protocol.max_daily_dose_mg).order_by(
            "-latest_dose_mg", "code"
        )[:DASHBOARD_ROWS]
    )
    proposals = _taper_proposals(above_cap, today=today, protocol=protocol)
    context = {
        "today": today,
        "protocol": protocol,
        "overdue": overdue,
        "above": above,
        "watch_from": watch_from,
        "proposals": proposals,
        "counts": mine.aggregate(
            total=Count("pk"), titration=Count("pk", filter=Q(in_titration=True))
        ),
    }
    return render(request, "patients/dashboard.html", context)


def _taper_proposals(patients, *, today, protocol) -> list[dict]:
    """A taper plan to the cap now in force, for each patient above it (the 2017 switch)."""
    if not patients:
        return []
    from prescriptions.models import Visit

    recorded = {
        row["patient"]: row
        for row in Visit.objects.filter(patient__in=patients)
        .values("patient")
        .annotate(
            second=Count("pk", filter=Q(second_opinion=True)),
            collegial=Count("pk", filter=Q(collegial_opinion=True)),
            multi=Count("pk", filter=Q(multidisciplinary_care=True)),
        )
    }
    proposals = []
    for patient in patients:
        row = recorded.get(patient.pk, {})
        try:
            plan = rules.plan_titration(
                start=today,
                from_dose_mg=patient.latest_dose_mg,
                target_dose_mg=protocol.max_daily_dose_mg,
                age=patient.age_on(today),
                second_opinion=bool(row.get("second")),
                collegial_opinion=bool(row.get("collegial")),
                multidisciplinary_care=bool(row.get("multi")),
            )
            proposals.append({"patient": patient, "plan": plan[1:], "error": ""})
        except ValueError as exc:
            proposals.append({"patient": patient, "plan": [], "error": str(exc)})
    return proposals


def _dmy(day) -> str:
    """`day|date:"d/m/Y"` (digits only: the same in every language)."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


@readers_required
def patient_list(request: HttpRequest) -> HttpResponse:
    today = _today()
    form = PatientSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = filter_patients(
        patients_for_user(request.user),
        today=today,
        q=filters.get("q", ""),
        status=filters.get("status", ""),
        sort=filters.get("sort", ""),
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    overdue_before = today - timedelta(days=VISIT_INTERVAL_DAYS)
    # The per-row work is done here rather than with `{% url %}`, `|date` and `{% blocktranslate %}`
    # in the template: about half the page's CPU time with 25 rows. Same text and links.
    # Each text is translated once per page, not once per row.
    detail_url = reverse("patients:detail", args=["CODE"]).removesuffix("CODE/")
    dose_text = _("%(dose)s mg/day")
    indications = {
        value: str(label) for value, label in Patient._meta.get_field("indication").choices
    }
    stopped = ("text-bg-secondary", _("Stopped"))
    in_titration = ("text-bg-info", _("In titration"))
    stable = ("text-bg-success", _("Stable dose"))
    rows = []
    for p in page.object_list:
        overdue = p.stopped_on is None and p.last_contact < overdue_before
        badge, status = stopped if p.stopped_on else in_titration if p.in_titration else stable
        rows.append(
            {
                "patient": p,
                "url": f"{detail_url}{p.code}/",
                "inclusion": _dmy(p.inclusion_date),
                "indication": indications.get(p.indication, p.indication),
                "last_visit": _dmy(p.last_visit_date) if p.last_visit_date else "—",
                "dose": dose_text % {"dose": p.latest_dose_mg} if p.latest_dose_mg else "—",
                "badge": badge,
                "status": status,
                "overdue": overdue,
                "next_due": "—" if p.stopped_on else _dmy(p.next_visit_due),
            }
        )
    return render(
        request,
        "patients/list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode(), "today": today},
    )


@prescriber_required
def patient_new(request: HttpRequest) -> HttpResponse:
    form = InclusionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = services.patient_register(
                prescriber=request.user,
                sex=data["sex"],
                birth_year=data["birth_year"],
                inclusion_date=data["inclusion_date"],
                indication=data["indication"],
                treatment_status=data["treatment_status"],
                pretreatment_dose_mg=data.get("current_dose_mg"),
                failed_treatments=data["failed_treatments"],
                precautions=data["precautions"],
                alcohol_g_per_day=data["alcohol_g_per_day"],
                craving=data["craving"],
                abstinent=data["abstinent"],
                psychosocial_care=data["psychosocial_care"],
                informed_of_rtu=data["informed_of_rtu"],
                contraindications=data["contraindications"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Patient included under the code %(code)s: keep it with your own records.")
                % {"code": patient.code},
            )
            return redirect("patients:visit_new", code=patient.code)
    return render(request, "patients/new.html", {"form": form})


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


def precaution_badges(patient: Patient, today) -> list[str]:
    from rtuportal.choices import Precaution

    badges = [Precaution(code).label for code in patient.precautions if code in Precaution.values]
    if patient.age_on(today) > rules.OLDER_PATIENT_AGE_ABOVE:
        badges.append(_("Age over 65"))
    return badges


@readers_required
def patient_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The patient page, in a fixed number of queries whatever the length of the history."""
    patient = get_patient_for_user(request.user, code)  # 1 query
    today = _today()
    visits, steps, stops = prescription_services.patient_records(patient)  # 3 queries
    adverse_events = _adverse_events(patient)  # 1 query
    replayed = timeline.replay(patient=patient, visits=visits, steps=steps, stops=stops)
    log = [(r.step.start_date, r.step.daily_dose_mg) for r in replayed]
    outcomes = [(patient.inclusion_date, patient.alcohol_g_per_day, patient.craving)]
    outcomes += [(v.visit_date, v.alcohol_g_per_day, v.craving) for v in visits]
    history = _history(patient, visits, stops)  # 3 queries
    can_write = request.user.role == PRESCRIBER
    context = {
        "patient": patient,
        "age": patient.age_on(today),
        "badges": precaution_badges(patient, today),
        "visits": visits,
        "stops": stops,
        "last_stop": stops[-1] if stops else None,
        "adverse_events": adverse_events,
        "organ_classes": dict(OrganClass.choices),
        "replayed": replayed,
        "dose_svg": charts.dose_chart(log, today=today),
        "outcome_svg": charts.outcome_chart(outcomes),
        "history": history,
        "can_write": can_write,
        "overdue": patient.is_overdue(today),
        "non_compliant": sum(1 for r in replayed if r.check and r.check.findings),
    }
    return render(request, "patients/detail.html", context)


@functools.cache
def _adverse_events_read() -> CompiledValues:
    from pharmacovigilance.models import AdverseEvent

    return CompiledValues(
        lambda value: (
            AdverseEvent.objects.filter(patient_id=value)
            .values("onset_date", "serious", "term__label_fr", "term__label_en")
            .order_by("-onset_date", "-pk")
        )
    )


def _adverse_events(patient: Patient) -> list[dict]:
    """The patient's adverse events, newest first: onset, seriousness, term in the language."""
    label = "term__label_en" if (get_language() or "fr").startswith("en") else "term__label_fr"
    return [
        {"onset_date": row["onset_date"], "serious": row["serious"], "term": row[label]}
        for row in _adverse_events_read()(patient.pk, using=patient._state.db or "default")
    ]


def _tracked(model) -> list[tuple[str, str]]:
    """The fields simple_history's diff_against compares (editable ones), in the model's order."""
    return [
        (f.name, f.attname)
        for f in model._meta.concrete_fields
        if f.editable and f.name not in {"id", "updated_at", "version"}
    ]


def _history_read(model, key: str) -> CompiledValues:
    """One patient's history records of `model` (`key` = the patient), as plain values."""
    columns = [attname for _name, attname in _tracked(model)]
    return CompiledValues(
        lambda value: (
            model.history.filter(**{key: value})
            .values(
                "id",
                "history_date",
                "history_type",
                "history_change_reason",
                "history_user__email",
                *columns,
            )
            .order_by("id", "history_date")
        )
    )


@functools.cache
def _history_sources() -> list[tuple]:
    from prescriptions.models import StopOfTreatment, Visit

    return [
        (gettext_lazy("Patient"), Patient, _history_read(Patient, "id")),
        (gettext_lazy("Visit"), Visit, _history_read(Visit, "patient_id")),
        (
            gettext_lazy("Stop of treatment"),
            StopOfTreatment,
            _history_read(StopOfTreatment, "patient_id"),
        ),
    ]


def _history(patient: Patient, visits, stops) -> list[dict]:
    """Who changed what and when, newest first, across the patient, its visits and stops.

    Read as plain values (3 queries, compiled once per process: see rtuportal.queries) and
    compared field by field in Python: the same entries as simple_history's diff_against,
    without building a model instance per record.
    """
    entries = []
    for label, model, read in _history_sources():
        tracked = _tracked(model)
        kinds = dict(model.history.model._meta.get_field("history_type").choices)
        previous_by_object: dict[int, dict] = {}
        for row in read(patient.pk, using=patient._state.db or "default"):
            before = previous_by_object.get(row["id"])
            changes = []
            if before is not None:
                changes = [
                    {
                        "field": str(model._meta.get_field(name).verbose_name),
                        "old": before[attname],
                        "new": row[attname],
                    }
                    for name, attname in tracked
                    if before[attname] != row[attname]
                ]
            previous_by_object[row["id"]] = row
            entries.append(
                {
                    "what": str(label),
                    "when": row["history_date"],
                    "who": row["history_user__email"] or _("system"),
                    "type": kinds.get(row["history_type"], row["history_type"]),
                    "reason": row["history_change_reason"] or "",
                    "changes": changes,
                }
            )
    entries.sort(key=lambda e: e["when"], reverse=True)
    return entries


@admin_required
def transfer(request: HttpRequest) -> HttpResponse:
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        count = services.patients_transfer(
            from_prescriber=form.cleaned_data["from_prescriber"],
            to_prescriber=form.cleaned_data["to_prescriber"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("%(count)s patient(s) transferred.") % {"count": count})
        return redirect("patients:transfer")
    return render(request, "patients/transfer.html", {"form": form})
