from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class GridTasksConfig(AppConfig):
    """Grid tasks, sign-ups, QR check-in/out and attendance: part of volunteers/, its own app for clarity."""

    name = "volunteers.gridtasks"
    label = "gridtasks"
    verbose_name = _("Grid tasks")

    def ready(self):
        from volunteers.scopes import Rule, _via, register

        from .models import GridTask, SignUp

        register(
            GridTask,
            Rule(
                places=_via("grid"),
                organisation="organisation",
                owner="created_by",
                owner_changes=True,
                grid_worker_changes=True,
                public=Q(status=GridTask.Status.PUBLISHED),
            ),
        )
        register(
            SignUp,
            Rule(
                places=_via("task__grid"),
                organisation="task__organisation",
                owner="person",
                grid_worker_changes=True,
            ),
        )
