from django.urls import path

from . import views

app_name = "pharmacovigilance"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("cases.csv", views.case_csv, name="csv"),
    path("e2b.xml", views.e2b_batch, name="e2b_batch"),
    path("terms/", views.term_search, name="term_search"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/e2b.xml", views.case_e2b, name="e2b"),
    path("<int:case_id>/transmitted/", views.case_mark_transmitted, name="mark_transmitted"),
]
