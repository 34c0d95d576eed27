"""Where a worker's time goes, from a py-spy raw profile (`python -m bench.speed --profile DIR` writes
them): the share of samples in which each of a fixed list of steps is on the stack (inclusive), and the
functions with the most samples of their own (self time).

Run: `.venv/bin/python -m bench.profile_summary DIR/token.txt [--top 25]`.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path
from typing import Final

LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) from the outermost frame in; idle samples have no Python frame."""
    out = []
    for frame in stack.split(";"):
        match = FRAME.match(frame.strip())
        if match:
            out.append((match["function"], match["file"]))
    return out


# Where a sample's innermost frame is, by file: the first pattern that matches names its share.
CATEGORIES: Final = (
    ("logging (access log and others)", ("logging/", "pythonjsonlogger/", "gateway/observability/logging")),
    ("metrics", ("prometheus_client/", "gateway/observability/metrics")),
    ("database: SQLAlchemy", ("sqlalchemy/",)),
    ("database: asyncpg driver", ("asyncpg/",)),
    ("JWT and crypto", ("joserfc/", "cryptography/", "gateway/keys/", "gateway/tokens/access_tokens")),
    ("rate limits", ("limits/", "gateway/http/rate_limits", "gateway/http/api_limits")),
    ("FastAPI routing and dependencies", ("fastapi/",)),
    ("Starlette", ("starlette/",)),
    (
        "gateway middleware",
        ("gateway/http/request_context", "gateway/http/security_headers", "gateway/http/body_limit"),
    ),
    ("gateway request handling", ("gateway/",)),
    ("uvicorn, HTTP parsing and the event loop", ("uvicorn/", "httptools/", "uvloop/", "asyncio/")),
)


def category(stack: list[tuple[str, str]]) -> str:
    if not stack:
        return "no Python frame (in C: sockets, the loop)"
    file = stack[-1][1]
    for name, patterns in CATEGORIES:
        if any(pattern in file for pattern in patterns):
            return name
    return "other (standard library, pydantic, …)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--inclusive", nargs="*", default=[])
    args = parser.parse_args()
    own: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        match = LINE.match(line)
        if not match:
            continue
        count = int(match["count"])
        stack = frames(match["stack"])
        total += count
        categories[category(stack)] += count
        if not stack:
            continue
        function, file = stack[-1]
        own[f"{function} ({_short(file)})"] += count
        seen = {f"{f} ({_short(p)})" for f, p in stack} | {_short(p) for _f, p in stack}
        for key in seen:
            inclusive[key] += count
    print(f"{total} samples\n\n| where the innermost frame is | % of samples |\n|---|---:|")
    for name, count in categories.most_common():
        print(f"| {name} | {100 * count / total:.1f} |")
    print("\n| self % | function |\n|---:|---|")
    for name, count in own.most_common(args.top):
        print(f"| {100 * count / total:.1f} | {name} |")
    print("\n| inclusive % | function or file |\n|---:|---|")
    for name, count in inclusive.most_common(args.top * 2):
        print(f"| {100 * count / total:.1f} | {name} |")


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


if __name__ == "__main__":
    main()
