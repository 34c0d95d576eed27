"""A small third-party app that runs the whole OAuth flow against a local gateway (`gateway demo`).

Run it with `python -m examples.sample_app`; see README.md.
"""

from examples.sample_app.credentials import DemoCredentials, load_credentials
from examples.sample_app.web import create_app

__all__ = ["DemoCredentials", "create_app", "load_credentials"]
