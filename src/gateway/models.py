"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from gateway.db.base import Base
from gateway.schools.models import School

metadata = Base.metadata

__all__ = ["Base", "School", "metadata"]
