"""Writes of the leaderboards app: keeping scores in step with the ledger, and a person's opt-out.

Scores follow the ledger inside the ledger's own transaction: `record_entry` is connected to post_save of
`points.Entry` (see apps.py), which `points.services.ledger.do_post` fires right after inserting the entry,
while it holds the row lock of the person's account. So a score can never disagree with committed
entries, and two posts for one person never race on the same score rows.
"""

from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Subquery, Sum
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import timezone

from core.exceptions import NotAllowed
from points.models import Account, Entry
from volunteers.models import User

from .models import ALL_TIME, OptOut, Score
from .periods import bounds, keys_for

# Entries that count towards a score; reversals of them take them out again (in the period of the
# original entry, so a score is never negative and a corrected award vanishes from the board it was on).
# Redemption, refund and expiry move points, not service; adjustments are bookkeeping corrections.
EARNING_KINDS = frozenset(
    {Entry.Kind.ATTENDANCE, Entry.Kind.INCIDENT_REWARD, Entry.Kind.CASE_REWARD, Entry.Kind.ORDER_SERVICE}
)


def counts_towards_score(entry) -> bool:
    return entry.kind in EARNING_KINDS and entry.amount > 0


def record_entry(*, entry: Entry) -> None:
    """Bring the poster's scores up to date with a just-inserted entry.

    Precondition: called inside the transaction that inserted `entry`, with the account row locked
    (do_post's post_save). Cheap for earnings (one upsert); a reversal recomputes the three periods of
    the original entry from the ledger (indexed by account and time).
    """
    account = entry.account
    if account.unit != Account.Unit.POINTS:
        return
    if counts_towards_score(entry):
        _add(person_id=account.person_id, amount=entry.amount, at=entry.created_at)
    elif entry.kind == Entry.Kind.REVERSAL and entry.reverses_id and counts_towards_score(entry.reverses):
        for key in keys_for(entry.reverses.created_at):
            _recompute(person_id=account.person_id, key=key)


# An upsert, so the first earning of a period needs no separate "create" step; the same SQL runs on
# PostgreSQL and SQLite. One row per period key (month, year, all time).
_ADD_SQL = """
INSERT INTO leaderboards_score
    (person_id, period, points, last_earned_at, grid_id, community_id, street_id, district_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (person_id, period) DO UPDATE SET
    points = leaderboards_score.points + EXCLUDED.points,
    last_earned_at = CASE WHEN EXCLUDED.last_earned_at > leaderboards_score.last_earned_at
        THEN EXCLUDED.last_earned_at ELSE leaderboards_score.last_earned_at END,
    grid_id = EXCLUDED.grid_id,
    community_id = EXCLUDED.community_id,
    street_id = EXCLUDED.street_id,
    district_id = EXCLUDED.district_id
"""

# The places of a person's home grid, as Score columns, read from the user row (usable in .values() and,
# as subqueries, in .update()).
_PLACE_PATHS = {
    "grid_id": "home_grid_id",
    "community_id": "home_grid__community_id",
    "street_id": "home_grid__community__street_id",
    "district_id": "home_grid__community__street__district_id",
}


def _places_of(person_id: int) -> dict:
    return User.objects.filter(pk=person_id).values(**{c: F(p) for c, p in _PLACE_PATHS.items()}).get()


def _add(*, person_id: int, amount: int, at) -> None:
    person = _places_of(person_id)
    places = [person[column] for column in _PLACE_PATHS]
    stamp = connection.ops.adapt_datetimefield_value(at)
    params = [value for key in keys_for(at) for value in (person_id, key, amount, stamp, *places)]
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL, params)


def refresh_places(*, scores=None, user_model=None) -> int:
    """Copy the people's current home grid, community, street and district onto their scores (all scores,
    or the `scores` queryset): after a person moves grid, or a grid, community or street moves in the
    place tree. One UPDATE; returns the rows changed."""
    user_model = user_model or User
    if scores is None:
        scores = Score.objects.all()
    person = user_model.objects.filter(pk=OuterRef("person_id"))
    return scores.update(
        **{column: Subquery(person.values(path)[:1]) for column, path in _PLACE_PATHS.items()}
    )


def _counted_entries(entry_model=Entry):
    return entry_model.objects.filter(
        account__unit=Account.Unit.POINTS,
        kind__in=[str(kind) for kind in EARNING_KINDS],
        amount__gt=0,
        reversed_by__isnull=True,
    )


def _recompute(*, person_id: int, key: str) -> None:
    entries = _counted_entries().filter(account__person_id=person_id)
    if (span := bounds(key)) is not None:
        entries = entries.filter(created_at__gte=span[0], created_at__lt=span[1])
    totals = entries.aggregate(points=Sum("amount"), last=Max("created_at"))
    if totals["points"]:
        Score.objects.update_or_create(
            person_id=person_id,
            period=key,
            defaults={"points": totals["points"], "last_earned_at": totals["last"], **_places_of(person_id)},
        )
    else:
        Score.objects.filter(person_id=person_id, period=key).delete()


def rebuild_scores(*, entry_model=Entry, score_model=Score, user_model=None, batch_size: int = 5000) -> int:
    """Recompute every score from the ledger (a backfill; also a repair). Returns the rows written.

    Takes the models as arguments so a data migration can pass its historical models.
    """
    counted = _counted_entries(entry_model)
    rows = []
    person = "account__person_id"
    for trunc, fmt in ((TruncMonth, "%Y-%m"), (TruncYear, "%Y")):
        grouped = (
            counted.annotate(start=trunc("created_at"))
            .values(person, "start")
            .annotate(points=Sum("amount"), last=Max("created_at"))
            .order_by()
        )
        for row in grouped.iterator(chunk_size=batch_size):
            key = (
                timezone.localtime(row["start"]).strftime(fmt)
                if timezone.is_aware(row["start"])
                else (row["start"].strftime(fmt))
            )
            rows.append(
                score_model(
                    person_id=row[person], period=key, points=row["points"], last_earned_at=row["last"]
                )
            )
    for row in counted.values(person).annotate(points=Sum("amount"), last=Max("created_at")).order_by():
        rows.append(
            score_model(
                person_id=row[person], period=ALL_TIME, points=row["points"], last_earned_at=row["last"]
            )
        )
    with transaction.atomic():
        score_model.objects.all().delete()
        score_model.objects.bulk_create(rows, batch_size=batch_size)
        refresh_places(scores=score_model.objects.all(), user_model=user_model)
    return len(rows)


def do_set_visibility(*, person, actor, hidden: bool) -> OptOut:
    """Show or hide `person` on public boards. Only the person themself may choose (their points and
    ranks on their own page are unaffected). Idempotent."""
    if actor is None or actor.pk != person.pk:
        raise NotAllowed()
    choice, _ = OptOut.objects.update_or_create(person=person, defaults={"opted_out": bool(hidden)})
    return choice
