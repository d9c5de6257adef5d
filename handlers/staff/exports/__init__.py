"""/export: the club's members, purchases, ledger and vouchers as a CSV or XLSX file (see `routes`)."""

from handlers.staff.exports.routes import create_router

__all__ = ["create_router"]
