from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo district (`manage.py seed_demo`, `manage.py demo_totp`): on the top floor, because seeding
    touches every app. It has no models; each app's own demo builders (services_catalog.demo, cms.demo) are
    called from here."""

    name = "demo"
