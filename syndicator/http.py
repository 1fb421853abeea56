"""All outgoing HTTP goes through here, with explicit timeouts."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import requests

from syndicator import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"Syndicator/{__version__}"


class HTTPError(Exception):
    """A request failed: the URL and the reason are in the message."""


def post_form(url: str, data: Mapping[str, str], timeout: float) -> int:
    """POST an application/x-www-form-urlencoded body; return the status code; HTTPError on failure."""
    try:
        response = requests.post(url, data=dict(data), timeout=timeout, headers={"User-Agent": USER_AGENT})
    except requests.RequestException as exc:
        raise HTTPError(f"POST {url} failed: {exc}") from exc
    return response.status_code
