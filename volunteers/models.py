"""Places (district → street → community → grid), people, their "1+3+N" identities and organisations."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.masking import mask_name, mask_phone
from core.models import EventRow


class District(models.Model):
    name = models.CharField(_("name"), max_length=60)
    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Street(models.Model):
    district = models.ForeignKey(District, models.PROTECT, related_name="streets", verbose_name=_("district"))
    name = models.CharField(_("name"), max_length=60)
    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Community(models.Model):
    class Kind(models.TextChoices):
        COMMUNITY = "community", _("Community")
        VILLAGE = "village", _("Village")

    street = models.ForeignKey(Street, models.PROTECT, related_name="communities", verbose_name=_("street"))
    name = models.CharField(_("name"), max_length=60)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMMUNITY)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Grid(models.Model):
    class PartyOrgKind(models.TextChoices):
        BRANCH = "branch", _("Party branch")
        GROUP = "group", _("Party group")

    community = models.ForeignKey(
        Community, models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=60)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    party_org_kind = models.CharField(
        _("party organisation"), max_length=10, choices=PartyOrgKind.choices, default=PartyOrgKind.GROUP
    )
    party_org_name = models.CharField(_("party organisation name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]

    def __str__(self):
        return f"{self.community.name} · {self.name}"


class DutyCategory(models.Model):
    """One of the nine categories of the "9-81" all-element grid duty list (seeded as data)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("duty category")
        verbose_name_plural = _("duty categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class GridWorkerRole(models.Model):
    """One of the six roles of an all-round grid worker (全科网格员), seeded as data."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("grid worker role")
        verbose_name_plural = _("grid worker roles")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class Skill(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone, password=None, **extra):
        user = self.model(phone=phone, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractUser):
    """A person. The mobile number (E.164, +86…) is the login; name is the single 姓名 field."""

    username = None
    first_name = None
    last_name = None
    name = models.CharField(_("full name"), max_length=40)
    phone = models.CharField(_("mobile number"), max_length=20, unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(_("mobile verified"), default=False)
    email = models.EmailField(_("email"), blank=True)
    home_grid = models.ForeignKey(
        Grid, models.SET_NULL, null=True, blank=True, related_name="residents", verbose_name=_("home grid")
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="people", verbose_name=_("skills"))
    large_text = models.BooleanField(_("large text"), default=False)
    privacy_consented_at = models.DateTimeField(_("privacy consent given"), null=True, blank=True)
    notify_sms = models.BooleanField(_("notify me by SMS"), default=True)
    notify_email = models.BooleanField(_("notify me by email"), default=False)

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["name"]
    objects = UserManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["id"]

    def __str__(self):
        return self.name or mask_phone(self.phone)

    def refresh_from_db(self, *args, **kwargs):
        # Roles may have changed: drop the scope cached by volunteers.scopes.scope_for.
        self.__dict__.pop("_gongzhi_scope", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def masked_name(self):
        return mask_name(self.name)

    @property
    def masked_phone(self):
        return mask_phone(self.phone)


class IdentityKind(models.TextChoices):
    """The "1+3+N" identities: 1 party member; 3 deputy, legal officer, full-time grid worker; N the rest
    (see IDENTITY_TIER). A person may hold several; only verified ones count."""

    PARTY_MEMBER = "party_member", _("Party member")
    DEPUTY = "deputy", _("Deputy (people's congress or CPPCC)")
    LEGAL_OFFICER = "legal_officer", _("Legal officer (judge, prosecutor, police, lawyer)")
    GRID_WORKER_FULL = "grid_worker_full", _("Full-time grid worker")
    MASS_ORG = "mass_org", _("Mass organisation member")
    SOCIAL_ORG = "social_org", _("Social organisation member")
    VOLUNTEER_TEAM = "volunteer_team", _("Volunteer team member")
    LOCAL_WORTHY = "local_worthy", _("Local worthy")
    COMMUNITY_DOCTOR = "community_doctor", _("Community doctor")
    BUILDING_HEAD = "building_head", _("Building head")
    GRID_WORKER_PART = "grid_worker_part", _("Part-time grid worker")
    VOLUNTEER = "volunteer", _("Volunteer")


IDENTITY_TIER = {
    IdentityKind.PARTY_MEMBER: "1",
    IdentityKind.DEPUTY: "3",
    IdentityKind.LEGAL_OFFICER: "3",
    IdentityKind.GRID_WORKER_FULL: "3",
}
GRID_WORKER_KINDS = (IdentityKind.GRID_WORKER_FULL, IdentityKind.GRID_WORKER_PART)
# Identities that belong to a grid: the claim must name one, and staff of that grid verify it.
GRID_BOUND_KINDS = (
    IdentityKind.PARTY_MEMBER,
    IdentityKind.GRID_WORKER_FULL,
    IdentityKind.GRID_WORKER_PART,
    IdentityKind.BUILDING_HEAD,
)


class IdentityClaim(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="identity_claims")
    kind = models.CharField(_("identity"), max_length=30, choices=IdentityKind.choices)
    grid = models.ForeignKey(
        Grid, models.PROTECT, null=True, blank=True, related_name="identity_claims", verbose_name=_("grid")
    )
    detail = models.CharField(_("details"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.CLAIMED)
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("identity claim")
        verbose_name_plural = _("identity claims")
        ordering = ["-created_at"]
        constraints = [
            # One live claim per identity and grid: a second click cannot create a duplicate. Two
            # constraints because NULL grids are distinct in a unique index (SQLite: no NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["person", "kind", "grid"],
                condition=Q(status__in=["claimed", "verified"], grid__isnull=False),
                name="one_live_claim_per_identity_and_grid",
                violation_error_message=_("You have already claimed this identity."),
            ),
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(status__in=["claimed", "verified"], grid__isnull=True),
                name="one_live_claim_per_identity_without_grid",
                violation_error_message=_("You have already claimed this identity."),
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.get_kind_display()}"

    @property
    def tier(self):
        return IDENTITY_TIER.get(self.kind, "N")


class IdentityEvent(EventRow):
    """Every status change of a claim, with who made it and why."""

    claim = models.ForeignKey(IdentityClaim, models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=IdentityClaim.Status.choices)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        SOCIAL = "social", _("Social organisation")
        MASS = "mass", _("Mass organisation")
        VOLUNTEER_TEAM = "volunteer_team", _("Volunteer team")
        PARTY = "party", _("Party organisation")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    street = models.ForeignKey(Street, models.PROTECT, related_name="organisations", verbose_name=_("street"))
    community = models.ForeignKey(
        Community,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("community"),
        help_text=_("Leave empty if the organisation serves the whole street."),
    )
    description = models.TextField(_("description"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLIED)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("applied by")
    )
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"],
                name="unique_org_name_per_street",
                violation_error_message=_(
                    "An organisation with this name is already registered in this street."
                ),
            )
        ]

    def __str__(self):
        return self.name


class OrganisationEvent(EventRow):
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=Organisation.Status.choices)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MEMBER = "member", _("Member")

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        REMOVED = "removed", _("Removed")

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="memberships")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "person"],
                condition=Q(status__in=["invited", "active"]),
                name="one_live_membership",
            )
        ]

    def __str__(self):
        return f"{self.person} @ {self.organisation}"


class StaffPost(models.Model):
    """A staff appointment at a service-management centre: community, street or district level."""

    class Level(models.TextChoices):
        COMMUNITY = "community", _("Community staff")
        STREET = "street", _("Street staff")
        DISTRICT = "district", _("District administrator")

    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="staff_posts")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    district = models.ForeignKey(District, models.CASCADE, null=True, blank=True, related_name="+")
    street = models.ForeignKey(Street, models.CASCADE, null=True, blank=True, related_name="+")
    community = models.ForeignKey(Community, models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff post")
        verbose_name_plural = _("staff posts")
        constraints = [
            models.CheckConstraint(
                name="staff_post_names_its_place",
                condition=(
                    Q(level="community", community__isnull=False)
                    | Q(level="street", street__isnull=False)
                    | Q(level="district", district__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return f"{self.person} · {self.get_level_display()}"

    @property
    def place(self):
        return {"community": self.community, "street": self.street, "district": self.district}[self.level]


class ImportBatch(models.Model):
    """One uploaded spreadsheet: its parsed and validated rows wait here until staff confirm them.

    The rows are kept as JSON (the cell texts, the reasons a row is bad and what it would create) so the
    preview survives a reload and the confirmation re-validates exactly what was previewed.
    """

    class Kind(models.TextChoices):
        GRIDS = "grids", _("Grids")
        PEOPLE = "people", _("People")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Imported")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    rows = models.JSONField(_("rows"), default=list)
    ignored_columns = models.JSONField(_("ignored columns"), default=list)
    summary = models.JSONField(_("summary"), default=dict)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="import_batches", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="importbatch_status_created")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.file_name}"

    @property
    def bad_rows(self):
        return [row for row in self.rows if row.get("errors")]

    @property
    def good_rows(self):
        return [row for row in self.rows if not row.get("errors")]
