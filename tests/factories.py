import factory

from volunteers.models import (
    Community,
    District,
    Grid,
    IdentityClaim,
    Membership,
    Organisation,
    StaffPost,
    Street,
    User,
)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    name = "浦口区"
    code = "pukou"


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"第{n}街道")
    code = factory.Sequence(lambda n: f"street-{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"第{n}社区")
    code = factory.Sequence(lambda n: f"community-{n}")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n}网格")
    code = factory.Sequence(lambda n: f"grid-{n}")
    households = 400


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试{n}号")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    phone_verified = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class IdentityClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityClaim

    person = factory.SubFactory(UserFactory)
    kind = "volunteer"
    grid = factory.SubFactory(GridFactory)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"志愿服务队{n}")
    kind = Organisation.Kind.VOLUNTEER_TEAM
    street = factory.SubFactory(StreetFactory)
    status = Organisation.Status.APPROVED


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    person = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER
    status = Membership.Status.ACTIVE


class StaffPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffPost

    person = factory.SubFactory(UserFactory, is_staff=True)
    level = StaffPost.Level.COMMUNITY
