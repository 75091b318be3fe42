from django.apps import AppConfig


def _history_manager_class_once() -> None:
    """django-simple-history builds a new manager class (Manager.from_queryset, which walks the
    queryset class with inspect.getmembers) on every read of `Model.history`, and it reads it
    on every save of a tracked model and on every patient page: about 0.3 ms each time on the
    2026-12-03 machine. The class depends only on the descriptor, so it is built once; each
    read still gets its own manager instance, as before."""
    from simple_history.manager import HistoryDescriptor

    if getattr(HistoryDescriptor, "_rtu_class_once", False):
        return

    def __get__(self, instance, owner):  # noqa: N807 - the descriptor protocol's name
        manager_class = self.__dict__.get("_manager_class")
        if manager_class is None:
            manager_class = self.manager_class.from_queryset(self.queryset_class)
            self._manager_class = manager_class
        return manager_class(self.model, instance)

    HistoryDescriptor.__get__ = __get__
    HistoryDescriptor._rtu_class_once = True


class RtuPortalConfig(AppConfig):
    name = "rtuportal"
    verbose_name = "RTU portal"

    def ready(self) -> None:
        # The outbox publishes tasks by name: every app's tasks module must be registered in the
        # web process too, not only in workers (where Celery autodiscovers them lazily).
        from .celery import app

        app.autodiscover_tasks(force=True)
        _history_manager_class_once()
