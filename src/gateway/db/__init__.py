"""Database plumbing: engines for SQLite and PostgreSQL, the declarative base, sessions, migrations."""
