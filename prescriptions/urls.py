"""Routes under /patients/<code>/ (included by patients.urls, in the "patients" namespace)."""

from django.urls import path

from . import views

patient_urlpatterns = [
    path("<str:code>/visits/new/", views.visit_new, name="visit_new"),
    path("<str:code>/visits/check/", views.visit_check, name="visit_check"),
    path("<str:code>/visits/plan/", views.visit_plan, name="visit_plan"),
    path("<str:code>/visits/<int:pk>/edit/", views.visit_edit, name="visit_edit"),
    path("<str:code>/stop/", views.stop, name="stop"),
    path("<str:code>/stop/check/", views.stop_check, name="stop_check"),
    path("<str:code>/stop/plan/", views.stop_plan, name="stop_plan"),
    path("<str:code>/restart/", views.restart, name="restart"),
]
