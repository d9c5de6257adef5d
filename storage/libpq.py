"""DATABASE_URL in the terms of libpq, the library of pg_dump and pg_restore: the database, host, port and user, and
the URL's query options (`?ssl=require`).

asyncpg's `ssl` (the mode names are libpq's) becomes `sslmode`; libpq's own connection options (`sslmode`,
`sslrootcert`, `connect_timeout`, …) pass as they are. Any other option, or an `ssl` that is no mode, is refused
with one line naming it rather than left out: a backup must not connect less safely than the bot does.
"""

from __future__ import annotations

from sqlalchemy.engine import URL

SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
# libpq's connection options that a URL may carry, apart from those URL has fields for (dbname, host, port, user,
# password: the password goes in the environment, never on a command line)
PASSED = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslpassword",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "channel_binding",
        "gssencmode",
        "krbsrvname",
        "requirepeer",
        "connect_timeout",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "application_name",
        "options",
        "target_session_attrs",
        "service",
        "passfile",
    }
)


class UnknownOption(ValueError):
    """A query option of DATABASE_URL that libpq has no counterpart for; the message says which and what is known."""


def conninfo(url: URL) -> str:
    """The URL as a libpq connection string (`dbname='…' host='…' sslmode='…'`), without its password."""
    fields = {"dbname": url.database, "host": url.host, "port": url.port, "user": url.username}
    pairs = [(key, str(value)) for key, value in fields.items() if value] + _query_options(url)
    return " ".join(f"{key}={_quoted(value)}" for key, value in pairs)


def _query_options(url: URL) -> list[tuple[str, str]]:
    """The URL's query options as libpq's (key, value) pairs; UnknownOption for one it has none for."""
    options = []
    for key, value in url.query.items():
        if not isinstance(value, str):
            raise UnknownOption(f"DATABASE_URL gives the option {key} more than once: give it once.")
        if key == "ssl":
            if value not in SSL_MODES:
                raise UnknownOption(f"DATABASE_URL's ssl={value} is no SSL mode: use one of {_listed(SSL_MODES)}.")
            key = "sslmode"
        elif key not in PASSED:
            raise UnknownOption(
                f"DATABASE_URL's option {key} has no pg_dump counterpart: use ssl or one of libpq's "
                f"({_listed(PASSED)})."
            )
        options.append((key, value))
    return options


def _quoted(value: str) -> str:
    """A value of a libpq connection string, in single quotes (a quote and a backslash escaped)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _listed(names: frozenset[str]) -> str:
    """Names, sorted, comma-separated."""
    return ", ".join(sorted(names))
