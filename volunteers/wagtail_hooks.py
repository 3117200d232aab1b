from . import admin_viewsets, import_admin  # noqa: F401
