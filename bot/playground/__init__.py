"""The playground (`loyalty-bot demo`): the real bot against a local Bot API server, a seeded café and a web chat
page, with no token and no internet."""

from pathlib import Path

DEFAULT_PORT = 8080  # the page's port on 127.0.0.1
DEFAULT_DATA = Path("demo-data")  # the café's folder: its database
