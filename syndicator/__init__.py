"""Syndicator: offline multilingual news syndication."""

__version__ = "0.1.0"
