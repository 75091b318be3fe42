from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacovigilanceConfig(AppConfig):
    name = "pharmacovigilance"
    verbose_name = _("Pharmacovigilance")

    def ready(self) -> None:
        # Register the Celery tasks in every process (web included): the outbox looks tasks up
        # by name in the app's registry, which autodiscovery fills only in workers.
        from . import tasks  # noqa: F401
