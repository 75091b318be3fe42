"""Visit, correction, stop and restart pages, and their live protocol checks (htmx)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patients.selectors import get_patient_for_user
from rtuportal.access import prescriber_required

from . import rules, services, timeline
from .forms import CorrectionForm, RestartForm, StopForm, VisitForm, step_formset, steps_from
from .models import Visit


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


def _step_errors(exc: ValidationError) -> list[str]:
    return exc.message_dict.get("steps", []) if hasattr(exc, "error_dict") else []


def _visit_kwargs(form) -> dict:
    data = form.cleaned_data
    return {
        "visit_date": data["visit_date"],
        "daily_dose_mg": data["daily_dose_mg"],
        "intakes": form.intakes(),
        "alcohol_g_per_day": data["alcohol_g_per_day"],
        "craving": data["craving"],
        "abstinent": data["abstinent"],
        "opinions": form.opinions(),
        "note": data.get("note") or "",
        "warnings_acknowledged": bool(data.get("acknowledge_warnings")),
    }


def _visit_initial(patient) -> dict:
    stored = services.patient_log(patient)
    today = timezone.localdate()
    current = timeline.dose_on(stored.log, today)
    initial = {"visit_date": today}
    last = max(stored.visits, key=lambda v: (v.visit_date, v.pk), default=None)
    if last is None:
        initial.update(
            visit_date=patient.inclusion_date,
            alcohol_g_per_day=patient.alcohol_g_per_day,
            craving=patient.craving,
            abstinent="yes" if patient.abstinent else "no",
        )
    if current:
        initial["daily_dose_mg"] = current
    elif patient.pretreatment_dose_mg is None:
        first = rules.protocol_in_force(max(initial["visit_date"], rules.RTU_START))
        initial["daily_dose_mg"] = first.highest_first_dose_mg
    if last is not None and last.daily_dose_mg == initial.get("daily_dose_mg"):
        # A monthly visit at an unchanged dose keeps the patient's split into intakes.
        initial.update(
            dose_morning_mg=last.dose_morning_mg,
            dose_noon_mg=last.dose_noon_mg,
            dose_evening_mg=last.dose_evening_mg,
            dose_bedtime_mg=last.dose_bedtime_mg,
        )
    return initial


def _render_visit_form(
    request, patient, form, formset, *, assessment=None, visit=None, step_errors=(), status=200
):
    return render(
        request,
        "prescriptions/visit_form.html",
        {
            "patient": patient,
            "form": form,
            "formset": formset,
            "assessment": assessment,
            "visit": visit,
            "step_errors": step_errors,
        },
        status=status,
    )


@prescriber_required
def visit_new(request: HttpRequest, code: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, code, for_write=True)
    if request.method != "POST":
        if patient.stopped_on is not None:
            messages.warning(
                request,
                _("The treatment was stopped on %(date)s: record a restart before a new visit.")
                % {"date": patient.stopped_on.strftime("%d/%m/%Y")},
            )
            return redirect("patients:restart", code=patient.code)
        form = VisitForm(initial=_visit_initial(patient))
        return _render_visit_form(request, patient, form, step_formset())
    form = VisitForm(request.POST)
    formset = step_formset(request.POST)
    assessment = None
    step_errors: list[str] = []
    if form.is_valid() and formset.is_valid():
        try:
            visit = services.visit_record(
                patient=patient, by=request.user, steps=steps_from(formset), **_visit_kwargs(form)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
            step_errors = _step_errors(exc)
            assessment = getattr(exc, "assessment", None)
        else:
            messages.success(
                request,
                _("Visit of %(date)s recorded.") % {"date": visit.visit_date.strftime("%d/%m/%Y")},
            )
            return redirect("patients:detail", code=patient.code)
    return _render_visit_form(
        request, patient, form, formset, assessment=assessment, step_errors=step_errors, status=422
    )


@prescriber_required
def visit_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Correct a visit; the reason is required and the old values stay in the history."""
    patient = get_patient_for_user(request.user, code, for_write=True)
    try:
        visit = patient.visits.get(pk=pk)
    except Visit.DoesNotExist:
        raise Http404 from None
    if request.method != "POST":
        initial = {
            name: getattr(visit, name)
            for name in CorrectionForm.base_fields
            if hasattr(visit, name)
        }
        initial["abstinent"] = "yes" if visit.abstinent else "no"
        initial["version"] = visit.version
        initial["acknowledge_warnings"] = False
        own = [(s.start_date, s.daily_dose_mg) for s in visit.steps.all()]
        steps = [{"start_date": on, "daily_dose_mg": dose} for on, dose in own[1:]]
        form = CorrectionForm(initial=initial)
        return _render_visit_form(request, patient, form, step_formset(initial=steps), visit=visit)
    form = CorrectionForm(request.POST)
    formset = step_formset(request.POST)
    assessment = None
    step_errors: list[str] = []
    if form.is_valid() and formset.is_valid():
        try:
            services.visit_correct(
                visit=visit,
                by=request.user,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                steps=steps_from(formset),
                **_visit_kwargs(form),
            )
        except services.VisitConflict as exc:
            form.add_error(None, exc)
            return _render_visit_form(request, patient, form, formset, visit=visit, status=409)
        except ValidationError as exc:
            _add_errors(form, exc)
            step_errors = _step_errors(exc)
            assessment = getattr(exc, "assessment", None)
        else:
            messages.success(
                request, _("Visit corrected; the previous values stay in the history.")
            )
            return redirect("patients:detail", code=patient.code)
    return _render_visit_form(
        request,
        patient,
        form,
        formset,
        assessment=assessment,
        visit=visit,
        step_errors=step_errors,
        status=422,
    )


@require_POST
@prescriber_required
def visit_check(request: HttpRequest, code: str) -> HttpResponse:
    """htmx: the rules' findings for the visit dose and each step, as the prescriber types."""
    patient = get_patient_for_user(request.user, code, for_write=True)
    form = VisitForm(request.POST)
    formset = step_formset(request.POST)
    form.is_valid()
    formset.is_valid()
    data = form.cleaned_data
    if not data.get("visit_date") or data.get("daily_dose_mg") is None:
        return render(request, "prescriptions/_findings.html", {"assessment": None})
    steps = [
        (f.cleaned_data["start_date"], f.cleaned_data["daily_dose_mg"])
        for f in formset.forms
        if hasattr(f, "cleaned_data")
        and f.cleaned_data.get("start_date")
        and f.cleaned_data.get("daily_dose_mg") is not None
    ]
    visit_id = request.POST.get("visit_id")
    assessment = services.visit_assess(
        patient=patient,
        visit_date=data["visit_date"],
        daily_dose_mg=data["daily_dose_mg"],
        steps=steps,
        opinions=form.opinions(),
        exclude_visit_id=int(visit_id) if visit_id and visit_id.isdigit() else None,
    )
    return render(request, "prescriptions/_findings.html", {"assessment": assessment})


def _plan_response(*, prefix: str, steps: list[dict], error: str, stop_date=None) -> HttpResponse:
    """The plan travels in the HX-Trigger header; prescriptions/steps.js fills the rows."""
    detail = {
        "prefix": prefix,
        "error": error,
        "steps": [[s["start_date"].isoformat(), s["daily_dose_mg"]] for s in steps],
        "stop_date": stop_date.isoformat() if stop_date else "",
    }
    response = HttpResponse(status=200)
    response["HX-Trigger"] = json.dumps({"stepsPlanned": detail})
    return response


@require_POST
@prescriber_required
def visit_plan(request: HttpRequest, code: str) -> HttpResponse:
    """htmx: fill the steps from the titration planner (visit dose -> target dose)."""
    patient = get_patient_for_user(request.user, code, for_write=True)
    form = VisitForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    error = ""
    initial: list[dict] = []
    if (
        not data.get("visit_date")
        or not data.get("daily_dose_mg")
        or not data.get("target_dose_mg")
    ):
        error = _("Give the visit date, the daily dose and the target dose to plan the titration.")
    else:
        opinions = form.opinions()
        recorded = timeline.opinions_on(services.patient_log(patient).visits, data["visit_date"])
        try:
            plan = rules.plan_titration(
                start=data["visit_date"],
                from_dose_mg=data["daily_dose_mg"],
                target_dose_mg=data["target_dose_mg"],
                age=patient.age_on(data["visit_date"]),
                **{n: bool(opinions.get(n)) or recorded[n] for n in timeline.OPINIONS},
            )
        except ValueError as exc:
            error = str(exc)
        else:
            initial = [{"start_date": on, "daily_dose_mg": dose} for on, dose in plan[1:]]
    return _plan_response(prefix="steps", steps=initial, error=error)


@prescriber_required
def stop(request: HttpRequest, code: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, code, for_write=True)
    if patient.stopped_on is not None:
        messages.info(request, _("The treatment is already stopped."))
        return redirect("patients:detail", code=patient.code)
    if request.method != "POST":
        today = timezone.localdate()
        form = StopForm(initial={"stop_date": today, "taper_start": today})
        return _render_stop(request, patient, form, step_formset(prefix="taper"))
    form = StopForm(request.POST)
    formset = step_formset(request.POST, prefix="taper")
    assessment = None
    step_errors: list[str] = []
    if form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            services.stop_record(
                patient=patient,
                by=request.user,
                stop_date=data["stop_date"],
                reason=data["reason"],
                note=data.get("note") or "",
                taper=steps_from(formset),
                warnings_acknowledged=bool(data.get("acknowledge_warnings")),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
            step_errors = _step_errors(exc)
            assessment = getattr(exc, "assessment", None)
        else:
            messages.success(request, _("Stop of treatment recorded."))
            return redirect("patients:detail", code=patient.code)
    return _render_stop(
        request, patient, form, formset, assessment=assessment, step_errors=step_errors, status=422
    )


def _render_stop(request, patient, form, formset, *, assessment=None, step_errors=(), status=200):
    log = services.patient_log(patient).log
    current = timeline.dose_on(log, timezone.localdate())
    return render(
        request,
        "prescriptions/stop_form.html",
        {
            "patient": patient,
            "form": form,
            "formset": formset,
            "assessment": assessment,
            "step_errors": step_errors,
            "current_dose": current,
        },
        status=status,
    )


@require_POST
@prescriber_required
def stop_check(request: HttpRequest, code: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, code, for_write=True)
    form = StopForm(request.POST)
    formset = step_formset(request.POST, prefix="taper")
    form.is_valid()
    formset.is_valid()
    stop_date = form.cleaned_data.get("stop_date")
    if not stop_date:
        return render(request, "prescriptions/_findings.html", {"assessment": None})
    taper = [
        (f.cleaned_data["start_date"], f.cleaned_data["daily_dose_mg"])
        for f in formset.forms
        if hasattr(f, "cleaned_data")
        and f.cleaned_data.get("start_date")
        and f.cleaned_data.get("daily_dose_mg") is not None
    ]
    assessment = services.stop_assess(patient=patient, stop_date=stop_date, taper=taper)
    return render(request, "prescriptions/_findings.html", {"assessment": assessment})


@require_POST
@prescriber_required
def stop_plan(request: HttpRequest, code: str) -> HttpResponse:
    """htmx: a taper from the current dose down to 5 mg/day, then the stop date."""
    patient = get_patient_for_user(request.user, code, for_write=True)
    form = StopForm(request.POST)
    form.is_valid()
    start = form.cleaned_data.get("taper_start") or timezone.localdate()
    log = services.patient_log(patient).log
    current = timeline.dose_on(log, start)
    error = ""
    initial: list[dict] = []
    stop_date = None
    if not current:
        error = _("No current dose: there is nothing to taper.")
    else:
        try:
            plan = rules.plan_titration(
                start=start,
                from_dose_mg=current,
                target_dose_mg=0,
                age=patient.age_on(start),
            )
        except ValueError as exc:
            error = str(exc)
        else:
            initial = [{"start_date": on, "daily_dose_mg": dose} for on, dose in plan[1:]]
            last = plan[-1][0]
            stop_date = last + timedelta(
                days=rules.protocol_in_force(last).fewest_days_between_decreases
            )
    return _plan_response(prefix="taper", steps=initial, error=error, stop_date=stop_date)


@prescriber_required
def restart(request: HttpRequest, code: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, code, for_write=True)
    if patient.stopped_on is None:
        messages.info(request, _("The treatment is not stopped."))
        return redirect("patients:detail", code=patient.code)
    form = RestartForm(request.POST or None, initial={"restarted_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.treatment_restart(
                patient=patient,
                by=request.user,
                restarted_on=form.cleaned_data["restarted_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Treatment restarted: record the visit of the restart."))
            return redirect("patients:visit_new", code=patient.code)
    return render(
        request,
        "prescriptions/restart_form.html",
        {"patient": patient, "form": form},
        status=422 if form.errors else 200,
    )
