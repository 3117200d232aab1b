from wagtail import hooks

from .admin_viewsets import Rewards


@hooks.register("register_admin_viewset")
def register_rewards():
    return Rewards()
