"""Check-in burst against a production-like server (see bench/README.md).

Creates a PostgreSQL database of its own, migrates it, seeds tasks, volunteers and sign-ups, starts
gunicorn with config.settings.production on 127.0.0.1, then in one run:

1. GET /api/v1/inbox/unread-count — a trivial authenticated JSON endpoint — N times from C clients;
2. POST /api/v1/tasks/<code>/scan — an organiser checks a volunteer in with the volunteer's personal QR,
   every request with a fresh nonce — N times from C clients;

taking turns in rounds, and reports throughput, latency percentiles, errors and CPU per request for both,
their ratio, and what the database holds afterwards (scans, attendance, duplicates). Loopback only; every
loop is bounded.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"


# --- the environment of a production-like deployment ---------------------------------------------------
def production_env(args) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters, new for every run
            "DATABASE_URL": f"{args.server}/{args.db_name}",
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


def recreate_database(args) -> None:
    import psycopg

    parts = urlsplit(args.server)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}"')
        conn.execute(f'CREATE DATABASE "{args.db_name}"')


def drop_database(args) -> None:
    import psycopg

    parts = urlsplit(args.server)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')


# --- seeding (in this process, through the ORM) ---------------------------------------------------------
@dataclass
class Seed:
    task_codes: list[str]
    organiser_tokens: dict[str, str]  # task code → the organiser's session token
    volunteer_tokens: list[str]  # X-Session-Token of volunteers (the trivial endpoint's callers)
    checkins: list[tuple[str, str]] = field(default_factory=list)  # (task code, personal QR token)


def seed(args) -> Seed:
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from volunteers.gridtasks import qr
    from volunteers.gridtasks.models import GridTask, PersonalCode, SignUp, SignUpEvent, new_personal_code
    from volunteers.models import Community, District, DutyCategory, Grid, Street, User

    def session_for(user) -> str:
        # What a sign-in leaves behind; allauth's app token is this session's key (X-Session-Token).
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    now = timezone.now()
    with transaction.atomic():
        district, _ = District.objects.get_or_create(code="bench", defaults={"name": "压测区"})
        street = Street.objects.create(district=district, name="压测街道", code="bench-street")
        community = Community.objects.create(street=street, name="压测社区", code="bench-community")
        category = DutyCategory.objects.get(code="patrol")
        volunteers = User.objects.bulk_create(
            User(phone=f"+86137{n:08d}", name=f"志愿者{n}", phone_verified=True, notify_sms=False)
            for n in range(args.signups)
        )
        for user in volunteers:
            user.set_unusable_password()
        User.objects.bulk_update(volunteers, ["password"])
        PersonalCode.objects.bulk_create(
            PersonalCode(person=user, code=new_personal_code()) for user in volunteers
        )
        per_task = -(-args.signups // args.tasks)
        task_codes, organiser_tokens = [], {}
        signups = []
        for t in range(args.tasks):
            grid = Grid.objects.create(
                community=community, name=f"第{t}网格", code=f"bench-grid-{t}", households=400
            )
            organiser = User.objects.create(phone=f"+86136{t:08d}", name=f"网格员{t}", notify_sms=False)
            task = GridTask.objects.create(
                title=f"压测巡防 {t}",
                category=category,
                grid=grid,
                created_by=organiser,
                place_name="岗亭",
                starts_at=now - timedelta(minutes=10),
                ends_at=now + timedelta(hours=3),
                capacity=per_task,
                status=GridTask.Status.PUBLISHED,
            )
            task_codes.append(task.public_code)
            organiser_tokens[task.public_code] = session_for(organiser)
            for user in volunteers[t * per_task : (t + 1) * per_task]:
                signups.append(SignUp(task=task, person=user, status=SignUp.Status.CONFIRMED))
        signups = SignUp.objects.bulk_create(signups)
        SignUpEvent.objects.bulk_create(SignUpEvent(signup=s, status=s.status) for s in signups)
        for code in task_codes:
            task = GridTask.objects.get(public_code=code)
            GridTask.objects.filter(pk=task.pk).update(taken=task.signups.count())
    codes = dict(PersonalCode.objects.values_list("person_id", "code"))
    result = Seed(
        task_codes=task_codes,
        organiser_tokens=organiser_tokens,
        volunteer_tokens=[session_for(user) for user in volunteers[: args.clients]],
    )
    code_of_task = dict(GridTask.objects.values_list("pk", "public_code"))
    for signup in SignUp.objects.order_by("pk").values("task_id", "person_id"):
        # Personal QR tokens live ten minutes: they are made now, right before the burst.
        result.checkins.append(
            (code_of_task[signup["task_id"]], qr.personal_qr_token(codes[signup["person_id"]]))
        )
    return result


# --- a small HTTP client on asyncio (gunicorn's sync workers close each connection) ---------------------
@dataclass
class Sample:
    status: int
    seconds: float
    body: bytes


async def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Sample:
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout=30)
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {HOST}",
            "Connection: close",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(-1), timeout=30)
        writer.close()
    except (OSError, TimeoutError) as exc:
        return Sample(status=0, seconds=time.perf_counter() - started, body=repr(exc).encode())
    seconds = time.perf_counter() - started
    status_line, _, rest = raw.partition(b"\r\n")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        return Sample(status=0, seconds=seconds, body=raw[:200])
    return Sample(status=status, seconds=seconds, body=rest.partition(b"\r\n\r\n")[2])


async def burst(port: int, jobs: list, clients: int) -> tuple[list[Sample], float]:
    """Send every job (method, path, headers, body) from `clients` concurrent clients; wall time too."""
    pending = list(reversed(jobs))
    samples: list[Sample] = []

    async def client():
        while pending:
            samples.append(await request(port, *pending.pop()))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return samples, time.perf_counter() - started


def summary(name: str, samples: list[Sample], wall: float, ok_status: int = 200) -> dict:
    latencies = sorted(s.seconds * 1000 for s in samples)
    errors = [s for s in samples if s.status != ok_status]

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]

    report = {
        "endpoint": name,
        "requests": len(samples),
        "seconds": round(wall, 2),
        "throughput_rps": round(len(samples) / wall, 1),
        "p50_ms": round(percentile(50), 1),
        "p90_ms": round(percentile(90), 1),
        "p99_ms": round(percentile(99), 1),
        "max_ms": round(latencies[-1], 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "errors": len(errors),
    }
    if errors:
        report["first_errors"] = [(s.status, s.body[:200].decode(errors="replace")) for s in errors[:3]]
    return report


# --- where the CPU went ------------------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_program() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far of every process on the machine, with a name for its kind."""
    usage = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if b"gunicorn" in cmdline:
            name = "gunicorn"
        elif int(entry.name) == os.getpid():
            name = "bench client"
        usage[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return usage


def cpu_per_request(usage: dict[int, tuple[str, float]], requests: int) -> dict[str, float]:
    """CPU milliseconds per request, per kind of process (processes that ended meanwhile are lost)."""
    spent: dict[str, float] = {}
    for name, seconds in usage.values():
        spent[name] = spent.get(name, 0.0) + seconds
    return {
        name: round(seconds * 1000 / requests, 2)
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
        if seconds * 1000 / requests >= 0.05
    }


@dataclass
class Run:
    """The samples, wall time and CPU of one endpoint over all its rounds."""

    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[int, tuple[str, float]] = field(default_factory=dict)  # CPU seconds spent, by process

    def measure(self, fire) -> None:
        before = cpu_by_program()
        samples, wall = fire()
        after = cpu_by_program()
        self.samples += samples
        self.wall += wall
        for pid, (name, seconds) in after.items():
            spent = seconds - before.get(pid, (name, 0.0))[1]
            self.cpu[pid] = (name, self.cpu.get(pid, (name, 0.0))[1] + spent)

    def report(self, name: str) -> dict:
        return summary(name, self.samples, self.wall) | {
            "cpu_ms_per_request": cpu_per_request(self.cpu, len(self.samples))
        }


# --- the run --------------------------------------------------------------------------------------------
def wait_until_up(port: int, process: subprocess.Popen) -> None:
    for _ in range(150):  # at most ~30 s
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        sample = asyncio.run(request(port, "GET", "/api/v1/openapi.json", {}))
        if sample.status == 200:
            return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL"
    )
    parser.add_argument("--db-name", default="gongzhi_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--signups", type=int, default=2000, help="sign-ups, and check-ins fired")
    parser.add_argument("--requests", type=int, default=2000, help="requests to the trivial endpoint")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4, help="turns the two endpoints take")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database behind")
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    args = parser.parse_args()

    env = production_env(args)
    os.environ.update(env)
    sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
    recreate_database(args)
    gunicorn = None
    try:
        subprocess.run(
            [PYTHON, ROOT / "manage.py", "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        started = time.perf_counter()
        data = seed(args)
        seeded = time.perf_counter() - started
        gunicorn = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{args.port}",
                "--workers",
                str(args.workers),
                "--backlog",
                "2048",
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        wait_until_up(args.port, gunicorn)

        volunteer_headers = [
            {"X-Session-Token": token, "Accept": "application/json"} for token in data.volunteer_tokens
        ]
        trivial = [
            ("GET", "/api/v1/inbox/unread-count", volunteer_headers[n % len(volunteer_headers)])
            for n in range(args.requests)
        ]
        checkins = [
            (
                "POST",
                f"/api/v1/tasks/{code}/scan",
                {"X-Session-Token": data.organiser_tokens[code], "Content-Type": "application/json"},
                json.dumps({"token": token, "kind": "in", "nonce": uuid.uuid4().hex}).encode(),
            )
            for code, token in data.checkins
        ]
        # Warm every worker up (imports, database connections) with requests that change nothing.
        asyncio.run(burst(args.port, [("GET", "/api/v1/inbox/unread-count", volunteer_headers[0])] * 200, 20))

        # The two endpoints take turns, a slice of each per round, so a machine that speeds up or slows
        # down during the run weighs on both alike.
        runs = {"trivial": Run(), "checkin": Run()}
        for round_ in range(args.rounds):
            for name, jobs in (("trivial", trivial), ("checkin", checkins)):
                part = jobs[round_ * len(jobs) // args.rounds : (round_ + 1) * len(jobs) // args.rounds]
                runs[name].measure(lambda part=part: asyncio.run(burst(args.port, part, args.clients)))
        trivial_report = runs["trivial"].report("GET /api/v1/inbox/unread-count")
        checkin_report = runs["checkin"].report("POST /api/v1/tasks/{code}/scan")
        checkin_samples = runs["checkin"].samples
        checked_in = sum(
            1 for s in checkin_samples if s.status == 200 and json.loads(s.body).get("code") == "checked_in"
        )
        database = after_the_burst()
        report = {
            "setup": {
                "server": f"gunicorn, {args.workers} sync workers, config.settings.production, PostgreSQL",
                "cpus": os.cpu_count(),
                "clients": args.clients,
                "rounds": args.rounds,
                "tasks": args.tasks,
                "signups": args.signups,
                "seed_seconds": round(seeded, 1),
            },
            "trivial": trivial_report,
            "checkin": checkin_report | {"answered_checked_in": checked_in},
            "ratio_checkin_to_trivial": round(
                checkin_report["throughput_rps"] / trivial_report["throughput_rps"], 2
            ),
            "database": database,
        }
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            print_report(report)
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(gunicorn.pid, signal.SIGKILL)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(args)


def after_the_burst() -> dict:
    from django.db.models import Count

    from volunteers.gridtasks.models import Attendance, Scan

    per_signup = Scan.objects.values("signup").annotate(n=Count("pk"))
    return {
        "scans": Scan.objects.count(),
        "scans_ok": Scan.objects.filter(ok=True).count(),
        "attendance_rows": Attendance.objects.count(),
        "attendance_checked_in": Attendance.objects.filter(checked_in_at__isnull=False).count(),
        "signups_with_more_than_one_scan": per_signup.filter(n__gt=1).count(),
        "duplicate_nonces": Scan.objects.values("nonce").annotate(n=Count("pk")).filter(n__gt=1).count(),
    }


def print_report(report: dict) -> None:
    print(json.dumps(report["setup"], ensure_ascii=False))
    for key in ("trivial", "checkin"):
        row = report[key]
        print(
            f"{row['endpoint']:<34} {row['requests']:>5} req in {row['seconds']:>6.2f} s = "
            f"{row['throughput_rps']:>7.1f} req/s  p50 {row['p50_ms']:>6.1f} ms  "
            f"p99 {row['p99_ms']:>6.1f} ms  "
            f"max {row['max_ms']:>6.1f} ms  errors {row['errors']}"
        )
        print("    CPU ms per request:", json.dumps(row["cpu_ms_per_request"], ensure_ascii=False))
        for error in row.get("first_errors", []):
            print("   ", error)
    print(f"check-in throughput / trivial throughput = {report['ratio_checkin_to_trivial']}")
    print("database after the burst:", json.dumps(report["database"]))


if __name__ == "__main__":
    main()
