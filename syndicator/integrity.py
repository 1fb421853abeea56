"""`syndicator verify [--repair]`: the store's own integrity, then the published tree against the store.

The store is the truth. Verification reads every published document of every language
(syndicator/publish/audit.py); a repair republishes exactly the documents found wrong, from the store, through
the normal publish path (so it is itself a transaction: a crash during a repair is finished by the next
publish). A store that fails SQLite's integrity check is never used to repair anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syndicator.errors import StoreError, VerifyError
from syndicator.models import CycleReport
from syndicator.partners import shown
from syndicator.pipeline import Context, publish
from syndicator.publish.audit import Finding, LanguageAudit, PublishedFiles, audit_language, audit_site
from syndicator.publish.entries import EntryBuilder


@dataclass
class Verification:
    """What `verify` found (and, after a repair, what was written)."""

    integrity: str = "ok"
    languages: dict[str, LanguageAudit] = field(default_factory=dict)
    site: list[Finding] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """Every problem, languages first."""
        return [f for audit in self.languages.values() for f in audit.findings] + self.site

    @property
    def documents(self) -> int:
        """Feed documents read."""
        return sum(a.documents for a in self.languages.values())

    @property
    def entries(self) -> int:
        """Public entries checked, over all languages."""
        return sum(a.entries for a in self.languages.values())

    def summary(self) -> str:
        """One line: what was checked and how many problems."""
        problems = len(self.findings) + (self.integrity != "ok")
        entries = f"{self.entries} entr{'y' if self.entries == 1 else 'ies'}"
        return (
            f"store integrity: {self.integrity}; {len(self.languages)} language(s), {self.documents} feed "
            f"document(s), {entries} checked; {problems} problem(s)"
        )


def verify(ctx: Context) -> Verification:
    """Check the store and compare every language's published documents with it (reads, never writes)."""
    result = Verification(integrity=ctx.store.integrity_check())
    if result.integrity != "ok":
        return result  # nothing the store says can be trusted to compare against
    config = ctx.config
    builder = EntryBuilder(config, ctx.catalogs, glossary=ctx.faithful.glossary)
    restricted = ctx.restricted()
    files = PublishedFiles(ctx.writer, config.site.feeds_url)
    for language in config.languages.all:
        result.languages[language] = audit_language(
            ctx.store, ctx.writer, builder, language, lambda article: shown(article, restricted),
            gzip_files=config.serve.gzip_files, files=files,
        )  # fmt: skip
    result.site = audit_site(ctx.writer, config.site.feeds_url, config.languages.all, files=files)
    return result


def repair(ctx: Context, found: Verification) -> list[str]:
    """Republish what `found` names from the store (and remove what must not be there); return the files
    written."""
    if found.integrity != "ok":
        raise StoreError(
            f"the store fails its integrity check ({found.integrity}): nothing is repaired from it",
            hint="restore data/syndicator.db from a backup, then run `syndicator publish --rebuild`",
        )
    report = CycleReport()
    # Site-wide documents need no repairs of their own: every publish rewrites them.
    publish(ctx, report, repairs={lang: audit.repairs for lang, audit in found.languages.items()})
    return report.written


def require_clean(found: Verification, repaired: bool = False) -> None:
    """Raise VerifyError when problems remain (the CLI turns it into exit code 1). The hint names what fixes
    them: `verify --repair` while republishing from the store can, else what the admin must do instead
    (`repaired`: --repair has just run, so whatever is left is beyond it)."""
    problems = len(found.findings) + (found.integrity != "ok")
    if not problems:
        return
    fixes = list(dict.fromkeys(f.fix for f in found.findings if f.fix))
    if found.integrity != "ok":  # --repair refuses to repair from a broken store
        hint = "restore data/syndicator.db from a backup, then run `syndicator publish --rebuild`"
    elif repaired or all(f.fix for f in found.findings):
        hint = "; ".join(fixes) or (
            "republishing from the store did not fix these: run `syndicator publish --rebuild`, and if they "
            "remain, report them with this output"
        )
    else:
        hint = "`syndicator verify --repair` republishes the documents concerned from the store"
        if fixes:
            hint += "; it cannot fix every one: " + "; ".join(fixes)
    raise VerifyError(f"{problems} problem(s) in the store or the published tree", hint=hint)
