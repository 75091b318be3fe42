"""Routed at /patients/<code>/adverse-events/ (see rtuportal/urls.py)."""

from django.urls import path

from . import views

app_name = "patient_adverse_events"

urlpatterns = [
    path("new/", views.report_new, name="new"),
    path("<int:case_id>/follow-up/", views.follow_up_new, name="follow_up"),
]
