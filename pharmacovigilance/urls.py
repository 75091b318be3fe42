from django.urls import path

app_name = "pharmacovigilance"

urlpatterns: list = []
