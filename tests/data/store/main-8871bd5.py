"""Fill a store made by main's code (8871bd5) with one row of every kind, then dump it: run it with that code,
`python main-8871bd5.py /tmp/old.db > main-8871bd5.sql` (tests/test_store_migrations.py loads the dump)."""
import sqlite3, sys
from datetime import UTC, datetime, timedelta
from syndicator.models import ArticleInput, Translation, DONE, FAILED, PENDING, NO_MODEL
from syndicator.store import Store

db = sys.argv[1]
now = [datetime(2026, 3, 1, 12, 0, tzinfo=UTC)]
s = Store(f"sqlite:///{db}", clock=lambda: now[0])
def art(key, url, canonical, lang="en"):
    item = ArticleInput(source="newsroom", key=key, language=lang, title=f"Title {key}", body_html=f"<p>Body {key}.</p>",
                        published=now[0] - timedelta(hours=1), summary="S", author="A", tags=("city", "ünïcode"), url=url, origin=f"articles/{key}.md")
    return s.upsert_article(item, f"hash-{key}", canonical)
a1, _ = art("bridge", "https://news.example.org/bridge", "https://news.example.org/bridge")
a2, _ = art("garden", "", "")
a3, _ = art("budget", "", "")
a4, _ = art("marche", "https://news.example.org/marche", "https://news.example.org/marche", lang="fr")
assert art("bridge-twin", "https://news.example.org/bridge?utm=x", "https://news.example.org/bridge")[1] == "duplicate"
for a in s.articles():
    s.ensure_pending(a, [l for l in ("en", "fr", "ar") if l != a.language])
now[0] += timedelta(minutes=5)
s.save_translation(Translation(a1, "fr", DONE, title="Titre", summary="R", body_html="<p>Corps.</p>", engine="argos", model_version="argos:en-fr:1.0:x", source_hash="hash-bridge", updated=now[0]))
s.save_translation(Translation(a1, "ar", FAILED, engine="argos", error="length ratio", source_hash="hash-bridge"), backoff=lambda n: timedelta(minutes=10 * n))
s.save_translation(Translation(a2, "ar", NO_MODEL, engine="argos", error="no model"))
s.apply_correction(Translation(a2, "fr", DONE, title="Jardin", body_html="<p>Revu.</p>", engine="human", source_hash="hash-garden", reviewed=True, updated=now[0]), "corrections/fr/newsroom/garden.md", "filehash")
s.memory_store("en-fr", "argos:en-fr:1.0:x", [("h1", "Hello.", "Bonjour."), ("h2", "Bye.", "Au revoir.")])
s.memory_count("en-fr", 3, 2)
s.record_poll("newsroom", problems=["articles/x.md: no title"])
s.record_poll("wire", error="timeout", next_poll=now[0] + timedelta(minutes=30))
s.save_page_state("wire", "https://wire.example.org/list", etag='"e1"', last_modified="Sun, 01 Mar 2026 00:00:00 GMT", fingerprint="fp")
s.set_state("reload_error", "bad toml")
s.record_publish("fr", 7)
s.set_feed_pages("fr", {a1: None, a2: 1})
s.set_publish_mark("fr", now[0], "sig", "cur")
s.record_pulls([{"day": "2026-03-01", "partner": "", "feed": "fr/atom.xml", "pulls": 4, "not_modified": 1, "last_pull": now[0], "user_agent": "newsboat"}])
s.close()
conn = sqlite3.connect(db)
print("\n".join(conn.iterdump()))
