"""Exit 0 if PostgreSQL and Redis at the given URLs answer; otherwise print why and exit 1."""

import socket
import sys
from urllib.parse import urlsplit


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    pg_url, redis_url = sys.argv[1], sys.argv[2]
    missing = []
    if not reachable(pg_url, 5432):
        missing.append(f"PostgreSQL is not reachable at {urlsplit(pg_url).netloc}")
    if not reachable(redis_url, 6379):
        missing.append(f"Redis is not reachable at {urlsplit(redis_url).netloc}")
    if missing:
        print("; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
