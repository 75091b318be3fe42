from django.urls import path

from prescriptions.urls import patient_urlpatterns

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_new, name="new"),
    path("transfer/", views.transfer, name="transfer"),
    path("<str:code>/", views.patient_detail, name="detail"),
    *patient_urlpatterns,
]
