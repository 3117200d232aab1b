"""Web pages of the services catalogue, one module per audience; each module lists its own routes."""

from django.utils.translation import gettext as _


def first_error(form) -> str:
    """The first message of a form that did not validate, to show as the refusal's reason."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("Check the form.")
