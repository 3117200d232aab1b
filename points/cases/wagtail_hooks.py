from wagtail import hooks

from .admin_viewsets import CaseRewards


@hooks.register("register_admin_viewset")
def register_case_rewards():
    return CaseRewards()
