"""Factories and helpers for the redemption tests."""

import factory

from points.models import Entry
from points.redemption.models import Merchant, MerchantStaff, RewardItem
from points.services.ledger import do_post
from tests.factories import StreetFactory, UserFactory


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"第{n}便民服务中心")
    street = factory.SubFactory(StreetFactory)
    address = "文德路1号"


class RewardItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RewardItem

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"奖品{n}")
    description = "洗衣液一瓶"
    price = 100
    stock = 10


def merchant_staff(merchant, person=None):
    person = person or UserFactory(notify_sms=False)
    MerchantStaff.objects.create(merchant=merchant, person=person)
    return person


def give_points(person, amount, key=None, **kwargs):
    return do_post(
        person_id=person.pk,
        amount=amount,
        kind=kwargs.pop("kind", Entry.Kind.ADJUSTMENT),
        key=key or f"test-grant:{person.pk}:{amount}:{Entry.objects.count()}",
        reason="test grant",
        **kwargs,
    ).entry


def balance(person) -> int:
    from points.models import Account

    account = Account.objects.filter(person=person, unit=Account.Unit.POINTS).first()
    return account.balance if account else 0
