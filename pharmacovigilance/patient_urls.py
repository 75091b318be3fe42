from django.urls import path

app_name = "patient_adverse_events"

urlpatterns: list = []
