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
        _register_search()


def _register_search():
    """Published tasks the viewer may see, on the site search page (core.search)."""
    from django.urls import reverse

    from core import search
    from volunteers.scopes import scope_for

    from .models import GridTask
    from .templatetags.gridtasks import when

    def visible(viewer):
        return scope_for(viewer).visible(GridTask.objects.filter(status=GridTask.Status.PUBLISHED))

    def hit(task):
        return search.Hit(
            title=task.title,
            url=reverse("gridtasks:detail", args=[task.public_code]),
            text=task.description,
            meta=[when(task), task.place_name, str(task.grid)],
            badge=task.category.name,
        )

    search.register(
        search.Kind(
            key="task",
            label=_("Grid tasks"),
            model=GridTask,
            visible=visible,
            hit=hit,
            joins=("category", "grid__community"),
            fields=GridTask.SEARCH_SOURCE_FIELDS,
        )
    )
