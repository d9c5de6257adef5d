"""DATABASE_URL in libpq's terms for pg_dump and pg_restore: asyncpg's ssl as sslmode, libpq's own options as they
are, any other refused by one line naming it."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from storage.libpq import UnknownOption, conninfo

SERVER = "postgresql+asyncpg://loyalty:secret@db.internal:5433/loyalty"


def test_the_database_host_port_and_user_are_given_and_the_password_is_not() -> None:
    assert conninfo(make_url(SERVER)) == "dbname='loyalty' host='db.internal' port='5433' user='loyalty'"


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
def test_asyncpg_s_ssl_becomes_libpq_s_sslmode(mode: str) -> None:
    assert conninfo(make_url(f"{SERVER}?ssl={mode}")).endswith(f" sslmode='{mode}'")


def test_libpq_s_own_options_pass_as_they_are() -> None:
    url = make_url(f"{SERVER}?sslmode=verify-full&sslrootcert=/etc/ssl/club's ca.pem&connect_timeout=10")
    assert conninfo(url).endswith(" sslmode='verify-full' sslrootcert='/etc/ssl/club\\'s ca.pem' connect_timeout='10'")


def test_an_ssl_that_is_no_mode_is_refused_naming_the_modes() -> None:
    with pytest.raises(UnknownOption, match=r"^DATABASE_URL's ssl=true is no SSL mode: use one of allow, disable, "):
        conninfo(make_url(f"{SERVER}?ssl=true"))


def test_an_option_libpq_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(UnknownOption, match=r"^DATABASE_URL's option prepared_statement_cache_size has no pg_dump"):
        conninfo(make_url(f"{SERVER}?prepared_statement_cache_size=0"))


def test_an_option_given_twice_is_refused() -> None:
    with pytest.raises(UnknownOption, match="gives the option sslmode more than once"):
        conninfo(make_url(f"{SERVER}?sslmode=require&sslmode=disable"))
