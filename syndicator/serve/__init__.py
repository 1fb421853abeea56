"""Serving the published feeds: the built-in HTTP server, its caches and statistics, and the nginx recipe."""
