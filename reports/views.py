"""Agency pages: request a cohort report, watch it build, read it, download it."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rtuportal.access import agency_required

from . import services
from .forms import ReportRequestForm
from .models import CohortReport
from .pdf import report_context

PAGE_SIZE = 20
# The list never loads the PDF or the summary of every row.
LIST_FIELDS = (
    "pk",
    "date_from",
    "date_to",
    "language",
    "status",
    "progress",
    "created_at",
    "finished_at",
    "requested_by__email",
)


def _filename(report: CohortReport, extension: str) -> str:
    start = report.date_from.isoformat() if report.date_from else "debut"
    end = report.date_to.isoformat() if report.date_to else "fin"
    return f"rtu-baclofene-rapport-{report.pk}-{start}-{end}.{extension}"


@agency_required
def report_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ReportRequestForm(request.POST)
        if form.is_valid():
            running = services.report_in_progress(
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                language=form.cleaned_data["language"],
            )
            if running is not None:
                messages.info(
                    request, _("A report of this period is already being built: here it is.")
                )
                return redirect("reports:detail", pk=running.pk)
            try:
                report = services.report_request(
                    requested_by=request.user,
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    language=form.cleaned_data["language"],
                )
            except services.ReportError as exc:
                form.add_error(None, str(exc))
            else:
                report.refresh_from_db(fields=["status"])  # built already when tasks run inline
                if report.status == CohortReport.Status.DONE:
                    messages.success(request, _("The report is ready."))
                else:
                    messages.success(request, _("The report is being built."))
                return redirect("reports:detail", pk=report.pk)
        status = 400
    else:
        form = ReportRequestForm()
        status = 200
    reports = CohortReport.objects.values(*LIST_FIELDS).order_by("-created_at", "-pk")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/list.html", {"form": form, "page": page}, status=status)


def _report(pk: int, *, done: bool = False) -> CohortReport:
    queryset = CohortReport.objects.defer("pdf").select_related("requested_by")
    report = get_object_or_404(queryset, pk=pk)
    if done and report.status != CohortReport.Status.DONE:
        raise Http404(_("This report is not ready."))
    return report


@agency_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(pk)
    context: dict = {"report": report}
    if report.status == CohortReport.Status.DONE and report.summary:
        context.update(report_context(report.summary, generated_at=report.finished_at))
    return render(request, "reports/detail.html", context)


@agency_required
def report_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment polled while the report builds; reloads the page once it is over."""
    report = _report(pk)
    response = render(request, "reports/_progress.html", {"report": report})
    if report.status in (CohortReport.Status.DONE, CohortReport.Status.FAILED) and (
        request.headers.get("HX-Request")
    ):
        response["HX-Refresh"] = "true"
    return response


@agency_required
@require_POST
def report_retry(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(pk)
    try:
        services.report_retry(report_id=report.pk)
    except services.ReportError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The report is being built again."))
    return redirect("reports:detail", pk=report.pk)


@agency_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(CohortReport, pk=pk, status=CohortReport.Status.DONE)
    if not report.pdf:
        raise Http404(_("This report has no PDF."))
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "pdf")}"'
    return response


@agency_required
def report_json(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(pk, done=True)
    response = JsonResponse(report.summary, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "json")}"'
    return response


@agency_required
def report_csv(request: HttpRequest, pk: int) -> HttpResponse:
    from .presentation import csv_rows

    report = _report(pk, done=True)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    writer = csv.writer(response)
    for row in csv_rows(report.summary):
        writer.writerow(row)
    return response
