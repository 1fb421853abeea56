"""Images published by Syndicator itself, stored by content: written once, read by the publisher."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from syndicator.models import MediaFile
from syndicator.store.base import StoreBase
from syndicator.store.schema import media, naive_utc


class MediaMixin(StoreBase):
    """Images published by Syndicator itself, stored by content."""

    def save_media(self, file: MediaFile) -> str:
        """Keep an image (once, whoever stores it first: same bytes, same name); return its media path."""
        insert = self._insert(media).values(
            name=file.path,
            sha256=file.sha256,
            size=len(file.data),
            data=file.data,
            first_seen=naive_utc(self.clock()),
        )
        with self._tx() as conn:
            conn.execute(insert.on_conflict_do_nothing(index_elements=[media.c.name]))
        return file.path

    def media_files(self, names: Iterable[str]) -> dict[str, MediaFile]:
        """The stored images among `names` (media paths), by name; names not stored are left out."""
        wanted = sorted(set(names))
        out: dict[str, MediaFile] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 100):
                query = select(media.c.name, media.c.data).where(
                    media.c.name.in_(wanted[start : start + 100])
                )
                for name, data in conn.execute(query):
                    out[name] = MediaFile(bytes(data), name.rsplit(".", 1)[1])
        return out

    def media_names(self) -> list[str]:
        """Every stored image's media path."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(media.c.name).order_by(media.c.name)).scalars())
