"""All network access: explicit connect/read timeouts, a size cap and a User-Agent on every request."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import requests

from syndicator import __version__
from syndicator.errors import SyndicatorError

log = logging.getLogger(__name__)

USER_AGENT = f"Syndicator/{__version__} (offline news syndication; python-requests)"
CHUNK = 64 * 1024


class DownloadError(SyndicatorError):
    """A download failed: the message names the URL and what went wrong."""


def download(
    url: str,
    dest: Path,
    *,
    timeout: tuple[float, float] = (10.0, 60.0),
    max_bytes: int = 1 << 30,
    progress: bool = False,
) -> Path:
    """Download `url` to `dest` atomically (temp file + rename); at most `max_bytes`.

    `timeout` is (connect, read) in seconds; `progress` shows a bar on a terminal (none otherwise).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        response = requests.get(url, stream=True, timeout=timeout, headers={"User-Agent": USER_AGENT})
    except requests.RequestException as exc:
        raise DownloadError(f"{url}: {exc}", hint="check the address and the network") from exc
    with response:
        if response.status_code != 200:
            raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason}")
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadError(f"{url}: {total} bytes is more than the limit of {max_bytes}")
        from tqdm import tqdm  # an argostranslate dependency already

        fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with (
                os.fdopen(fd, "wb") as out,
                tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                     disable=None if progress else True) as bar,
            ):  # fmt: skip
                received = 0
                for chunk in response.iter_content(CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        raise DownloadError(f"{url}: more than the limit of {max_bytes} bytes")
                    out.write(chunk)
                    bar.update(len(chunk))
            if total is not None and received != total:
                raise DownloadError(f"{url}: got {received} of {total} bytes", hint="try again")
            os.replace(tmp, dest)
        except requests.RequestException as exc:
            raise DownloadError(f"{url}: {exc}", hint="try again") from exc
        finally:
            tmp.unlink(missing_ok=True)
    log.info("downloaded %s (%d bytes) to %s", url, received, dest)
    return dest


class HTTPError(SyndicatorError):
    """A request failed: the URL and the reason are in the message."""


def post_form(url: str, data: Mapping[str, str], timeout: float) -> int:
    """POST an application/x-www-form-urlencoded body; return the status code; HTTPError on failure."""
    try:
        response = requests.post(url, data=dict(data), timeout=timeout, headers={"User-Agent": USER_AGENT})
    except requests.RequestException as exc:
        raise HTTPError(f"POST {url} failed: {exc}") from exc
    return response.status_code
