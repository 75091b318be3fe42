from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/progress/", views.report_progress, name="progress"),
    path("<int:pk>/retry/", views.report_retry, name="retry"),
    path("<int:pk>/pdf/", views.report_pdf, name="pdf"),
    path("<int:pk>/summary.json", views.report_json, name="json"),
    path("<int:pk>/summary.csv", views.report_csv, name="csv"),
]
