from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from . import views

admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "RTU baclofène — administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path(
        "patients/<str:code>/adverse-events/",
        include("pharmacovigilance.patient_urls"),
    ),
    path("patients/", include("patients.urls")),
    path("pharmacovigilance/", include("pharmacovigilance.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "rtuportal.views.server_error"
