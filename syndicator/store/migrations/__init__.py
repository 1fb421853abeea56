"""The store's schema revisions (Alembic): env.py runs them, versions/ holds one file per revision.

A change to store/schema.py ships with a revision here that makes the same change on existing databases, and
with schema.REVISION set to it (tests/test_store_migrations.py compares a migrated database with schema.py on
SQLite and PostgreSQL, and fails on any difference). Write revisions by hand, in batch mode (`with
op.batch_alter_table(...)`) wherever SQLite cannot alter a table in place; autogenerate can draft one:
`alembic -c alembic.ini revision --autogenerate --rev-id 0003 -m "what changes" -x url=sqlite:///data/syndicator.db`
(revisions are numbered 0001, 0002, … in order).
"""
