"""The school (tenant) table."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, Timestamped


class School(Timestamped, Base):
    __tablename__ = "schools"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    urn: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    la_code: Mapped[str] = mapped_column(String(3))
    establishment_number: Mapped[str] = mapped_column(String(4))
    phase: Mapped[str] = mapped_column(String(32))
    # A school can insist that every admin signs in with a second factor.
    require_totp: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The school's change sequence: every MIS write takes the next numbers, under this row's lock.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
