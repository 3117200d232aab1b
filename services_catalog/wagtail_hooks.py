from wagtail import hooks

from .admin_viewsets import Services


@hooks.register("register_admin_viewset")
def register_services():
    return Services()
