"""`python -m examples.sample_app [--credentials PATH] [--host H] [--port P]`: run the sample app."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from examples.sample_app.credentials import DEFAULT_PATH, CredentialsError, load_credentials
from examples.sample_app.web import console, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765  # the demo app's registered redirect URI is http://127.0.0.1:8765/callback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.sample_app", description=__doc__)
    parser.add_argument(
        "--credentials",
        type=Path,
        default=DEFAULT_PATH,
        help=f"the JSON file `gateway demo` wrote (default: {DEFAULT_PATH})",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    arguments = parser.parse_args(argv)
    try:
        credentials = load_credentials(arguments.credentials)
    except CredentialsError as exc:
        print(f"sample app: {exc}", file=sys.stderr)
        return 2
    # httpx logs every request URL at INFO; keep the console to what the app says itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    console(f"gateway {credentials.issuer}, app {credentials.client_id}, school {credentials.school_id}")
    console(f"open http://{arguments.host}:{arguments.port}/ and choose “Connect a school”")
    console(
        f"receiving webhooks at http://{arguments.host}:{arguments.port}/webhooks "
        f"(the gateway sends them to {credentials.webhook_url})"
    )
    uvicorn.run(create_app(credentials), host=arguments.host, port=arguments.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
