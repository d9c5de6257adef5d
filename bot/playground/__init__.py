"""The playground (`loyalty-bot demo`): the real bot against a local Bot API server, a seeded café and a web chat
page, with no token and no internet."""
