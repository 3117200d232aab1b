"""The foundation's view of the scope rule: what each person may see and change.

The rule itself is domain knowledge (staff posts over places, grid workers' grids, organisation
memberships) and lives in volunteers.scopes, a layer above this one. The foundation's own screens and
services (the admin kit, the undelivered-notifications list) need only its answers, so they ask through
the two functions below, and settings.SCOPE_RULE names the module that answers — the way
AUTH_USER_MODEL names the user model: the project's settings (the top floor) join the layers, and
core imports no domain app.

The module named must provide:
- `scope_for(user) -> Scope`, a Scope being anything with the attributes of `Scope` below;
- `staff_holding(roles) -> Q`, a filter on the user model for the people who hold any of those staff
  roles (for Wagtail's "who may do this" questions, such as whom to notify about a workflow task).
"""

from importlib import import_module
from typing import Protocol

from django.conf import settings
from django.db.models import Model, Q, QuerySet


class Scope(Protocol):
    superuser: bool

    @property
    def roles(self) -> set[str]: ...

    @property
    def is_staff(self) -> bool: ...

    def visible(self, qs: QuerySet) -> QuerySet: ...

    def changeable(self, qs: QuerySet) -> QuerySet: ...

    def can_view(self, obj: Model) -> bool: ...

    def can_change(self, obj: Model) -> bool: ...


def _rule():
    # Resolved at call time: the module is a domain app's, loaded with the project (sys.modules keeps it).
    return import_module(settings.SCOPE_RULE)


def scope_for(user) -> Scope:
    return _rule().scope_for(user)


def staff_holding(roles) -> Q:
    return _rule().staff_holding(roles)
