"""Grid tasks on the site search page (core.search): the published tasks the viewer may see, by the scope
rule, as on the task list."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import search
from volunteers.scopes import scope_for

from .models import GridTask
from .templatetags.gridtasks import when


def register_search():
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
