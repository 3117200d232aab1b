from wagtail import hooks

from .admin_viewsets import PointsGroup


@hooks.register("register_admin_viewset")
def register_points():
    return PointsGroup()
