"""Composition of loyalty-bot: settings, CLI, bot and dispatcher factories, middlewares, texts."""

__version__ = "0.1.0"
