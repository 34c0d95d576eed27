"""The `gateway` command for operators and developers (SPEC §1 operator, §9 interfaces).

`main` is the click group behind the `gateway` console script and `python -m gateway`. Each command or
command group lives in its own module here and is registered below, explicitly, in one place; the modules
share `common` and never import this package back.
"""

from __future__ import annotations

import click

from gateway.cli import (
    admin,
    audit,
    backup,
    demo,
    exports,
    incidents,
    migrate,
    openapi,
    receipts,
    retention,
    serve,
    support,
    tokens,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The gateway: OAuth 2 authorisation for UK school data."""


main.add_command(serve.serve)
main.add_command(migrate.migrate)
main.add_command(openapi.openapi)
main.add_command(demo.demo)
main.add_command(admin.school)
main.add_command(admin.admin)
main.add_command(admin.connector)
admin.school.add_command(retention.school_delete)
admin.school.add_command(exports.school_export)
admin.connector.add_command(retention.connector_delete)
main.add_command(retention.retention)
main.add_command(support.support)
main.add_command(admin.keys)
main.add_command(admin.developer)
main.add_command(audit.audit)
main.add_command(backup.backup)
main.add_command(receipts.receipts)
main.add_command(tokens.tokens)
main.add_command(incidents.incident)

__all__ = ["main"]
