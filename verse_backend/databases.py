"""Which store the settings ask for: the SQLite file by default, PostgreSQL when
VERSE_DATABASE_URL is set."""

from __future__ import annotations

from verse_backend.settings import Settings
from verse_backend.store import Store


def open_store(settings: Settings) -> Store:
    if settings.database_url is not None:
        # Imported here: the SQLite default must not need the PostgreSQL driver loaded.
        from verse_backend.store_postgres import PostgresStore

        return PostgresStore(
            settings.database_url.get_secret_value(), lease_s=settings.stream_lease_seconds
        )
    return Store(settings.db)


def describe(settings: Settings) -> str:
    """For the log: never the URL itself (it may hold a password)."""
    return "postgresql" if settings.database_url is not None else str(settings.db)
