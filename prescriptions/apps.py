from django.apps import AppConfig


class PrescriptionsConfig(AppConfig):
    name = "prescriptions"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from . import rules

        if hasattr(rules, "set_translator"):
            rules.set_translator(gettext)
