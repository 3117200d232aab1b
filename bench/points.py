"""Points pages at scale: a person's points page and leaderboard pages, with a big ledger next to a tiny one.

For each of two sizes — small (100 people, 1,000 ledger entries) and large (100,000 people, 2,000,000
entries) — this script:

1. creates a PostgreSQL database of its own and migrates it with config.settings.production;
2. seeds places (100 people per grid, 10 grids per community, 10 communities per street), people (ORM
   bulk_create), their accounts, and the ledger entries with PostgreSQL's generate_series: entries spread
   over the last 730 days, in time order, every fifth entry of a person a 5-point redemption, the rest
   awards of 10-50 points, with balance_after a running sum per account and Account.balance the sum, so the
   ledger is consistent (inserting is what the append-only ledger allows); leaderboard scores are then
   built in one aggregate INSERT … SELECT with the definition of points.leaderboards.services, and
   checked against the ORM definition for the people measured;
3. posts one real award through points.services.ledger.do_post (so the score upkeep inside the ledger's
   transaction is timed on the big tables too);
4. times, in-process with Django's test client (server time: middleware, session, queries, templates),
   N rounds, each one request of: the person's points page (/points/), a community board this month, a
   street board of all time, and the public API board; reports median and p95 and the large/small ratios.

Run: .venv/bin/python bench/points.py   (about 5-8 minutes on 2 cores; --people/--entries to change sizes)
Target: each median under 50 ms and large/small under 1.5.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"


def production_env(args, db_name: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
            "DATABASE_URL": f"{args.server}/{db_name}",
            "CELERY_BROKER_URL": args.redis,
            "REDIS_URL": args.redis,
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "site") + os.pathsep + str(ROOT),
        }
    )
    return env


def _admin(args, sql: str) -> None:
    import psycopg

    parts = urlsplit(args.server)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


# --- the child: seed one database and measure it ---------------------------------------------------------
def seed(people: int, entries: int) -> dict:
    from django.db import connection, transaction

    from volunteers.models import Community, District, Grid, Street, User

    grids_n = max(1, people // 100)
    communities_n = max(1, grids_n // 10)
    streets_n = max(1, communities_n // 10)
    started = time.perf_counter()
    with transaction.atomic():
        district = District.objects.create(name="压测区", code="bench-district")
        streets = Street.objects.bulk_create(
            Street(district=district, name=f"压测{n}街道", code=f"bench-street-{n}") for n in range(streets_n)
        )
        communities = Community.objects.bulk_create(
            Community(street=streets[n % streets_n], name=f"压测{n}社区", code=f"bench-community-{n}")
            for n in range(communities_n)
        )
        grids = Grid.objects.bulk_create(
            Grid(community=communities[n % communities_n], name=f"压测{n}网格", code=f"bench-grid-{n}")
            for n in range(grids_n)
        )
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        User.objects.bulk_create(
            (
                User(
                    phone=f"+86135{n:08d}",
                    name=f"{surnames[n % len(surnames)]}志愿{n}",
                    phone_verified=True,
                    notify_sms=False,
                    password="!bench",  # noqa: S106 (an unusable password: no one signs in)
                    home_grid=grids[n % grids_n],
                )
                for n in range(people)
            ),
            batch_size=5000,
        )
    people_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO points_account (person_id, unit, balance, updated_at)
            SELECT id, unit, 0, now() FROM volunteers_user, (VALUES ('points'), ('minutes')) AS u(unit)
            """
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_acc AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS n, id AS account_id
            FROM points_account WHERE unit = 'points'
            """
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_acc (n)")
        # Entries in time order (as a live ledger fills), each person's a consistent running balance.
        cursor.execute(
            """
            INSERT INTO points_entry (account_id, amount, kind, reason, source, actor_id, key, fingerprint,
                                      balance_after, reverses_id, created_at)
            SELECT a.account_id, e.amount, e.kind, e.reason, '', NULL, 'bench:' || e.g, 'bench',
                   SUM(e.amount) OVER (PARTITION BY e.p ORDER BY e.t, e.g), NULL, e.t
            FROM (
                SELECT g, p, t,
                       CASE WHEN i %% 5 = 0 THEN -5 ELSE 10 + (g %% 41)::int END AS amount,
                       CASE WHEN i %% 5 = 0 THEN 'redemption' WHEN g %% 10 = 1 THEN 'incident'
                            WHEN g %% 10 = 2 THEN 'case' ELSE 'attendance' END AS kind,
                       CASE WHEN i %% 5 = 0 THEN '兑换：洗衣液一瓶'
                            WHEN g %% 10 = 1 THEN '一事一奖：消防通道清理'
                            WHEN g %% 10 = 2 THEN '一案一奖：邻里纠纷调解'
                            ELSE '网格巡防 2 小时' END AS reason
                FROM (
                    SELECT g, p, t, row_number() OVER (PARTITION BY p ORDER BY t, g) AS i
                    FROM (
                        SELECT g, floor(random() * %(people)s)::int AS p,
                               now() - random() * interval '730 days' AS t
                        FROM generate_series(1, %(entries)s) AS g
                    ) AS r
                ) AS numbered
            ) AS e
            JOIN bench_acc a ON a.n = e.p
            ORDER BY e.t
            """,
            {"people": people, "entries": entries},
        )
        cursor.execute(
            """
            UPDATE points_account a SET balance = s.total
            FROM (SELECT account_id, SUM(amount) AS total FROM points_entry GROUP BY account_id) AS s
            WHERE a.id = s.account_id
            """
        )
        entries_seconds = time.perf_counter() - started - people_seconds
        # The definition of points.leaderboards.services (earning kinds, positive, not reversed), in SQL.
        counted = """
            FROM points_entry e JOIN points_account a ON a.id = e.account_id
            WHERE a.unit = 'points' AND e.amount > 0 AND e.kind IN ('attendance', 'incident', 'case', 'order')
              AND NOT EXISTS (SELECT 1 FROM points_entry r WHERE r.reverses_id = e.id)
        """
        local = "(e.created_at AT TIME ZONE 'Asia/Shanghai')"
        cursor.execute(
            f"""
            INSERT INTO leaderboards_score (person_id, period, points, last_earned_at)
            SELECT a.person_id, to_char({local}, 'YYYY-MM'), SUM(e.amount), MAX(e.created_at) {counted}
            GROUP BY 1, 2
            UNION ALL
            SELECT a.person_id, to_char({local}, 'YYYY'), SUM(e.amount), MAX(e.created_at) {counted}
            GROUP BY 1, 2
            UNION ALL
            SELECT a.person_id, 'all', SUM(e.amount), MAX(e.created_at) {counted}
            GROUP BY 1
            """  # noqa: S608 (constant SQL, no input)
        )
        # Each score carries its person's places (see points.leaderboards.services.refresh_places).
        cursor.execute(
            """
            UPDATE leaderboards_score s
            SET grid_id = g.id, community_id = c.id, street_id = st.id, district_id = st.district_id
            FROM volunteers_user u
            JOIN volunteers_grid g ON g.id = u.home_grid_id
            JOIN volunteers_community c ON c.id = g.community_id
            JOIN volunteers_street st ON st.id = c.street_id
            WHERE s.person_id = u.id
            """
        )
        scores_seconds = time.perf_counter() - started - people_seconds - entries_seconds
    with connection.cursor() as cursor:
        for table in ("volunteers_user", "points_account", "points_entry", "leaderboards_score"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        # Write the bulk load out now, so a checkpoint does not land in the middle of the timings.
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT COUNT(*) FROM points_entry")
        (entry_rows,) = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM leaderboards_score")
        (score_rows,) = cursor.fetchone()
    return {
        "people": people,
        "entries": entry_rows,
        "score_rows": score_rows,
        "grids": grids_n,
        "communities": communities_n,
        "streets": streets_n,
        "seed_seconds": {
            "people": round(people_seconds, 1),
            "entries": round(entries_seconds, 1),
            "scores": round(scores_seconds, 1),
        },
    }


def _typical_person():
    """A person whose history is as long as the average, in a grid of ordinary size."""
    from django.db.models import Count

    from points.models import Account
    from volunteers.models import User

    counts = (
        Account.objects.filter(unit=Account.Unit.POINTS)
        .annotate(n=Count("entries"))
        .values_list("person_id", "n")
        .order_by("person_id")[:2000]
    )
    rows = list(counts)
    mean = statistics.fmean(n for _, n in rows)
    person_id = min(rows, key=lambda row: (abs(row[1] - mean), row[0]))[0]
    return User.objects.select_related("home_grid__community__street").get(pk=person_id)


def _check_scores(person) -> bool:
    """The SQL-built scores of `person` equal the ORM definition (services._counted_entries)."""
    from django.db.models import Sum

    from points.leaderboards.models import Score
    from points.leaderboards.services import _counted_entries

    total = _counted_entries().filter(account__person=person).aggregate(s=Sum("amount"))["s"] or 0
    score = Score.objects.get(person=person, period="all")
    street = person.home_grid.community.street_id
    return score.points == total and (score.grid_id, score.street_id) == (person.home_grid_id, street)


def measure(requests: int) -> dict:
    from django.test import Client
    from django.test.utils import override_settings

    from points.leaderboards.periods import MONTH, current_period
    from points.services.ledger import do_post

    person = _typical_person()
    community = person.home_grid.community
    street = community.street
    scores_ok = _check_scores(person)

    started = time.perf_counter()
    do_post(
        person_id=person.pk,
        amount=20,
        kind="attendance",
        key=f"bench-live:{person.pk}:{time.time_ns()}",
        reason="网格巡防（实时）",
    )
    post_ms = (time.perf_counter() - started) * 1000

    month = current_period(MONTH)
    pages = {
        "points page /points/": "/points/",
        "community board, this month": (
            f"/points/leaderboards/community/{community.code}/?period=month&when={month.key}"
        ),
        "street board, all time": f"/points/leaderboards/street/{street.code}/?period=all",
        "API street board, this month": f"/api/v1/points/leaderboards/street/{street.code}?period=month",
    }
    # The production static storage needs collectstatic's manifest; a plain storage is the same cost here.
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    results = {}
    with override_settings(STORAGES=plain_static):
        client = Client(HTTP_HOST=HOST)
        client.force_login(person)
        for url in pages.values():
            for _ in range(max(5, requests // 10)):  # warm up: imports, connections, caches
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code, response.content[:300])
        # Round robin over the pages, so a passing disturbance on the machine hits them all alike.
        timings_of = {name: [] for name in pages}
        for _ in range(requests):
            for name, url in pages.items():
                started = time.perf_counter()
                response = client.get(url)
                timings_of[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
        for name, timings in timings_of.items():
            timings.sort()
            results[name] = {
                "median_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[min(len(timings) - 1, int(0.95 * len(timings)))], 2),
            }
    from points.models import Entry

    return {
        "person_history_entries": Entry.objects.filter(
            account__person=person, account__unit="points"
        ).count(),
        "scores_match_orm_definition": scores_ok,
        "do_post_with_score_upkeep_ms": round(post_ms, 2),
        "pages": results,
    }


def child(args) -> None:
    import django

    sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
    django.setup()
    report = {"setup": seed(args.people, args.entries)}
    report["measure"] = measure(args.requests)
    print("BENCH-JSON " + json.dumps(report, ensure_ascii=False))


# --- the parent: one child per size ----------------------------------------------------------------------
def run_size(args, label: str, people: int, entries: int) -> dict:
    db_name = f"{args.db_name}_{label}"
    env = production_env(args, db_name)
    _admin(args, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    _admin(args, f'CREATE DATABASE "{db_name}"')
    try:
        subprocess.run(
            [PYTHON, ROOT / "manage.py", "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        started = time.perf_counter()
        done = subprocess.run(
            [
                PYTHON,
                __file__,
                "--child",
                "--people",
                str(people),
                "--entries",
                str(entries),
                "--requests",
                str(args.requests),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH-JSON "))
        report = json.loads(line.removeprefix("BENCH-JSON "))
        report["setup"]["wall_seconds"] = round(time.perf_counter() - started, 1)
        return report
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr or "")
        raise
    finally:
        if not args.keep_db:
            _admin(args, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL"
    )
    parser.add_argument("--db-name", default="gongzhi_bench_points")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--small-people", type=int, default=100)
    parser.add_argument("--small-entries", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench databases behind")
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    small = run_size(args, "small", args.small_people, args.small_entries)
    large = run_size(args, "large", args.people, args.entries)
    ratios = {
        name: round(large["measure"]["pages"][name]["median_ms"] / row["median_ms"], 2)
        for name, row in small["measure"]["pages"].items()
    }
    report = {"small": small, "large": large, "large_to_small_median": ratios}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for label, part in (("small", small), ("large", large)):
        print(f"[{label}] {json.dumps(part['setup'], ensure_ascii=False)}")
        extra = {k: v for k, v in part["measure"].items() if k != "pages"}
        print(f"[{label}] {json.dumps(extra, ensure_ascii=False)}")
    print(
        f"{'page':<32} {'small p50':>10} {'small p95':>10} {'large p50':>10} {'large p95':>10} {'ratio':>6}"
    )
    for name in ratios:
        s, g = small["measure"]["pages"][name], large["measure"]["pages"][name]
        print(
            f"{name:<32} {s['median_ms']:>10.2f} {s['p95_ms']:>10.2f} {g['median_ms']:>10.2f} "
            f"{g['p95_ms']:>10.2f} {ratios[name]:>6.2f}"
        )


if __name__ == "__main__":
    main()
