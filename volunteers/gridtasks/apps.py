from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class GridTasksConfig(AppConfig):
    """Grid tasks, sign-ups, QR check-in/out and attendance: part of volunteers/, its own app for clarity."""

    name = "volunteers.gridtasks"
    label = "gridtasks"
    verbose_name = _("Grid tasks")

    def ready(self):
        # Models, and the modules that import them, load only once the app registry is ready.
        from volunteers.scopes import Rule, register, via

        from .models import GridTask, SignUp
        from .search import register_search

        register(
            GridTask,
            Rule(
                places=via("grid"),
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
                places=via("task__grid"),
                organisation="task__organisation",
                owner="person",
                grid_worker_changes=True,
            ),
        )
        register_search()  # published tasks on the site search page (core.search)
