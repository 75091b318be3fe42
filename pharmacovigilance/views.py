"""Views of the pharmacovigilance app: they parse, call a service or a selector, and render."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from patients.selectors import get_patient_for_user
from rtuportal.access import PRESCRIBER, agency_required

from . import e2b, selectors, services
from .forms import AdverseEventForm, CaseFilterForm, FollowUpForm
from .models import AdverseEvent

PAGE_SIZE = 50
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def patient_page_url(code: str) -> str | None:
    """The patient page, if the patients app routes it (it is built in parallel)."""
    try:
        return reverse("patients:detail", args=[code])
    except NoReverseMatch:
        return None


def _show_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest, code: str) -> HttpResponse:
    """Report an adverse event of one of the prescriber's patients."""
    patient = get_patient_for_user(request.user, code, for_write=True)
    form = AdverseEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.adverse_event_report(
                patient=patient,
                reported_by=request.user,
                onset_date=data["onset_date"],
                term=data["term"],
                reporter_term=data["reporter_term"],
                organ_class=data["organ_class"],
                description=data["description"],
                serious=data["serious"],
                seriousness_criteria=data["seriousness_criteria"],
                outcome=data["outcome"],
                causality=data["causality"],
                action_taken=data["action_taken"],
                dechallenge=data["dechallenge"],
                rechallenge=data["rechallenge"],
            )
        except ValidationError as exc:
            _show_service_errors(form, exc)
        else:
            if case.serious:
                messages.success(
                    request,
                    _("Case %(id)s recorded. The regional pharmacovigilance centre is alerted.")
                    % {"id": case.pk},
                )
            else:
                messages.success(request, _("Case %(id)s recorded.") % {"id": case.pk})
            return redirect("pharmacovigilance:detail", case.pk)
    return render(
        request,
        "pharmacovigilance/report_form.html",
        {"form": form, "patient": patient, "patient_url": patient_page_url(patient.code)},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_new(request: HttpRequest, code: str, case_id: int) -> HttpResponse:
    """Add a follow-up report (new information, outcome change) to a case."""
    patient = get_patient_for_user(request.user, code, for_write=True)
    case = selectors.get_case_for_user(request.user, case_id)
    if case.patient_id != patient.pk:
        raise Http404
    form = FollowUpForm(request.POST or None, initial=FollowUpForm.initial_for(case))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.adverse_event_follow_up(case=case, reported_by=request.user, **data)
        except ValidationError as exc:
            _show_service_errors(form, exc)
        else:
            messages.success(request, _("Follow-up of case %(id)s recorded.") % {"id": case.pk})
            return redirect("pharmacovigilance:detail", case.pk)
    return render(
        request,
        "pharmacovigilance/follow_up_form.html",
        {"form": form, "case": case, "patient": patient},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def term_search(request: HttpRequest) -> HttpResponse:
    """htmx: the <option>s of the reaction select matching what the reporter typed."""
    if request.user.role != PRESCRIBER:
        raise PermissionDenied
    terms = selectors.search_terms(request.GET.get("q", "")[:60])
    return render(request, "pharmacovigilance/_term_options.html", {"terms": terms})


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, case_id)
    follow_ups = list(case.follow_ups.select_related("reported_by"))
    is_reporter = request.user.role == PRESCRIBER
    return render(
        request,
        "pharmacovigilance/detail.html",
        {
            "case": case,
            "follow_ups": follow_ups,
            "today": timezone.localdate(),
            "can_follow_up": is_reporter,
            "patient_url": patient_page_url(case.patient.code),
        },
    )


@login_required
@require_GET
def case_e2b(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, case_id)
    response = HttpResponse(e2b.build_batch([case]), content_type="application/xml; charset=utf-8")
    filename = f"{e2b.safety_report_id(case)}.xml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filtered_cases(request: HttpRequest):
    today = timezone.localdate()
    form = CaseFilterForm(request.GET or None)
    form.is_valid()
    cases = selectors.filter_cases(
        selectors.cases_for_user(request.user), form.filters(today=today)
    )
    return form, cases, today


@agency_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    form, cases, today = _filtered_cases(request)
    page = Paginator(selectors.case_list_rows(cases), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pharmacovigilance/list.html",
        {
            "form": form,
            "page": page,
            "counts": selectors.case_counts(cases, today=today),
            "dose_table": selectors.dose_band_table(cases),
            "today": today,
            "query": query.urlencode(),
        },
    )


def csv_safe(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ is prefixed by a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


CSV_COLUMNS = (
    "case_id", "patient_code", "region", "received_on", "due_on", "overdue", "notified_at",
    "onset_date", "term", "reaction", "organ_class", "serious", "seriousness_criteria",
    "outcome", "causality", "action_taken", "dose_at_onset_mg", "protocol_version", "crpv",
)  # fmt: skip


def _csv_row(case: AdverseEvent, today) -> list[object]:
    profile = getattr(case.patient.prescriber, "prescriber_profile", None)
    return [
        case.pk,
        case.patient.code,
        profile.region if profile else "",
        case.received_on.isoformat(),
        case.due_on.isoformat(),
        "yes" if case.is_overdue(today) else "no",
        case.notified_at.isoformat() if case.notified_at else "",
        case.onset_date.isoformat(),
        case.term.code,
        case.reaction_label,
        case.organ_class,
        "yes" if case.serious else "no",
        " ".join(case.seriousness_criteria),
        case.outcome,
        case.causality,
        case.action_taken,
        case.dose_at_onset_mg if case.dose_at_onset_mg is not None else "",
        case.protocol_version,
        case.crpv.city if case.crpv else "",
    ]


@agency_required
@require_GET
def case_csv(request: HttpRequest) -> HttpResponse:
    """The filtered list, pseudonymous (patient codes, no prescriber identity)."""
    _form, cases, today = _filtered_cases(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="rtu-baclofene-cases-{today:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for case in selectors.case_list_rows(cases).iterator(chunk_size=2000):
        writer.writerow([csv_safe(value) for value in _csv_row(case, today)])
    return response


@agency_required
@require_GET
def e2b_batch(request: HttpRequest) -> HttpResponse:
    """Every case of the filtered list (typically a period) in one E2B(R3) batch."""
    _form, cases, today = _filtered_cases(request)
    rows = cases.select_related("patient", "term").order_by("received_on", "pk")
    response = HttpResponse(e2b.build_batch(rows.iterator(chunk_size=500)),
                            content_type="application/xml; charset=utf-8")  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="rtu-baclofene-e2b-{today:%Y%m%d}.xml"'
    return response


@agency_required
@require_http_methods(["POST"])
def case_mark_transmitted(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record that a case was transmitted to its CRPV by other means (non-serious cases)."""
    case = selectors.get_case_for_user(request.user, case_id)
    if services.adverse_event_record_transmission(case=case):
        messages.success(request, _("Transmission of case %(id)s recorded.") % {"id": case.pk})
    else:
        messages.info(request, _("Case %(id)s was already transmitted.") % {"id": case.pk})
    return redirect("pharmacovigilance:detail", case.pk)
