"""Alembic's entry: migrate the database named in the config, with the service's engine."""

from __future__ import annotations

from alembic import context

from judge.service.db import make_engine
from judge.service.models import Base

url = context.config.get_main_option("sqlalchemy.url")
assert url, "the service passes sqlalchemy.url"
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
