from datetime import timedelta

import factory
from django.utils import timezone

from tests.factories import GridFactory, UserFactory
from volunteers.gridtasks.models import GridTask
from volunteers.models import DutyCategory


class GridTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridTask

    title = factory.Sequence(lambda n: f"夜间巡防 {n}")
    category = factory.LazyFunction(lambda: DutyCategory.objects.get(code="patrol"))
    grid = factory.SubFactory(GridFactory)
    created_by = factory.SubFactory(UserFactory)
    place_name = "星兴社区治安岗亭"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=4))
    capacity = 5
    points = 20
    status = GridTask.Status.PUBLISHED
