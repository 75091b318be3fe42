from django.apps import AppConfig


class PharmacovigilanceConfig(AppConfig):
    name = "pharmacovigilance"
