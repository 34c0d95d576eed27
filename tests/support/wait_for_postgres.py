"""`python -m tests.support.wait_for_postgres`: exit 1 with a clear message if PostgreSQL is unreachable."""

from __future__ import annotations

import asyncio
import sys

from tests.support.databases import postgres_admin_url, wait_for_postgres


def main() -> int:
    try:
        asyncio.run(wait_for_postgres(postgres_admin_url(), seconds=30))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
