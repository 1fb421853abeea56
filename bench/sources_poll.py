"""What conditional GET and the seen-pages memory save, measured side by side in one run on 127.0.0.1.

    .venv/bin/python bench/sources_poll.py [--items 200] [--pages 30] [--rounds 5]

Prints seconds per poll for a first (full) poll and a repeat poll of the same unchanged source, and their
ratio, for a feed source (200 vs 304) and a web source (listing + every page vs listing only). Times are
medians of --rounds; the machine may be shared, so read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicator.config import SourceConfig
from syndicator.http import HttpClient
from syndicator.sources import SourceContext, TransientPageStates, make_source
from tests.support.upstream import DATA, Reply, Upstream


def feed_bytes(base: str, items: int) -> bytes:
    entries = "".join(
        f"<item><title>Story {i}</title><link>{base}/news/{i}.html</link><guid>s-{i}</guid>"
        f"<pubDate>Sun, 01 Mar 2026 09:30:00 +0800</pubDate><description>&lt;p&gt;Paragraph {i} "
        + "of a news story with enough words to look like one. " * 8
        + "&lt;/p&gt;</description></item>"
        for i in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{base}/</link><description>d</description>{entries}</channel></rss>'.encode()


def poll_seconds(cfg: SourceConfig, ctx: SourceContext) -> tuple[float, int]:
    start = time.perf_counter()
    items = list(make_source(cfg, ctx).poll())
    return time.perf_counter() - start, len(items)


def measure(name: str, cfg: SourceConfig, rounds: int, server: Upstream) -> None:
    firsts, repeats, counts = [], [], set()
    before = len(server.requests)
    for _ in range(rounds):
        ctx = SourceContext(
            timezone=ZoneInfo("UTC"), http=HttpClient(), pages=TransientPageStates(), max_pages=10_000
        )
        first, n_first = poll_seconds(cfg, ctx)
        again, n_again = poll_seconds(cfg, ctx)
        firsts.append(first)
        repeats.append(again)
        counts.add((n_first, n_again))
    f, r = statistics.median(firsts), statistics.median(repeats)
    seen = server.requests[before:]
    connections = len({hit.peer for hit in seen})  # one client port per connection
    print(
        f"{name}: first poll {f * 1000:.1f} ms, repeat poll {r * 1000:.1f} ms, ratio {f / r:.1f}x  (items {sorted(counts)}); "
        f"{len(seen)} requests over {connections} connections"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = Upstream()
    try:
        server.set("/feed.xml", Reply(body=feed_bytes(server.base, args.items), etag='"v1"'))
        page = (DATA / "harbour-bridge.html").read_bytes()
        links = "".join(
            f'<li><h2><a href="/news/p{i}.html">Story {i}</a></h2></li>' for i in range(args.pages)
        )
        server.set("/news/", Reply(body=f"<main><ul>{links}</ul></main>".encode(), content_type="text/html"))
        for i in range(args.pages):
            server.set(
                f"/news/p{i}.html",
                Reply(body=page.replace(b"Harbour bridge", f"Story {i}".encode()), content_type="text/html"),
            )
        every = timedelta(minutes=5)
        measure(
            f"feed ({args.items} items, 200 then 304)",
            SourceConfig(
                name="wire", kind="feed", every=every, language="en", options={"url": server.url("/feed.xml")}
            ),
            args.rounds,
            server,
        )
        measure(
            f"web ({args.pages} pages, then listing only)",
            SourceConfig(
                name="site", kind="web", every=every, language="en", options={"url": server.url("/news/")}
            ),
            args.rounds,
            server,
        )
    finally:
        server.close()


if __name__ == "__main__":
    main()
