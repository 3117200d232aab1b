from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Platform")

    def ready(self):
        # The tasks module imports the models, which load only once the app registry is ready.
        from . import tasks
        from .signals import delivery_due

        delivery_due.connect(tasks.queue_delivery, dispatch_uid="core.queue_delivery")
