from django.apps import AppConfig


class RtuPortalConfig(AppConfig):
    name = "rtuportal"
    verbose_name = "RTU portal"

    def ready(self) -> None:
        # The outbox publishes tasks by name: every app's tasks module must be registered in the
        # web process too, not only in workers (where Celery autodiscovers them lazily).
        from .celery import app

        app.autodiscover_tasks(force=True)
