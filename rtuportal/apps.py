from django.apps import AppConfig


class RtuPortalConfig(AppConfig):
    name = "rtuportal"
    verbose_name = "RTU portal"
