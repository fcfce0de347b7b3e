"""Venues, canonical: `venues.yaml` names each venue once, with the full name BibTeX entries give
and the other spellings that mean it.  The link stage asks a record written with another spelling
to use the venue's name, so that one venue's page gathers all its papers; importers and `apply`
write the name and take the full name and the entry type from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from efflit.kb.models import Venue

# Words after a venue's name that tell how or where a paper was presented, not another venue:
# "ICLR Oral", "EMNLP Industry Track", "NeurIPS Spotlight".
_PRESENTATION = re.compile(
    r"^(?:oral|poster|spotlight|highlight|main|main conference|main track|long|short|long paper|"
    r"short paper|industry track|industry)$"
)


def spelling_key(text: str) -> str:
    """How spellings are compared: case, punctuation and spacing aside."""
    return " ".join(re.sub(r"[^\w+^]+", " ", text.casefold()).split())


@dataclass(frozen=True)
class Venues:
    """The venues of `venues.yaml`, by name, and every spelling of each (its full name is one)."""

    by_name: dict[str, Venue]
    names: dict[str, str]  # the key of every name and alias -> the venue's name

    @classmethod
    def of(cls, venues: list[Venue]) -> Venues:
        by_name = {venue.name: venue for venue in venues}
        names = {
            spelling_key(spelling): venue.name
            for venue in venues
            for spelling in [venue.name, *([venue.full] if venue.full else []), *venue.aliases]
        }
        return cls(by_name, names)

    def name_for(self, written: str) -> str | None:
        """The name of the venue a record's spelling means, when this file knows it: its own name,
        an alias, a known name followed by a presentation format ("ICLR Oral"), or a workshop of a
        known conference ("NeurIPS Workshop on ..." is the venue "NeurIPS Workshop" when listed)."""
        key = spelling_key(written)
        if key in self.names:
            return self.names[key]
        for spelling, name in self.names.items():
            rest = key.removeprefix(spelling + " ") if key.startswith(spelling + " ") else None
            if rest is None:
                continue
            if _PRESENTATION.match(rest):
                return name
            workshop = self.names.get(spelling_key(f"{name} Workshop"))
            if workshop and "workshop" in rest.split():
                return workshop
        return None

    def full_name(self, name: str) -> str:
        venue = self.by_name.get(name)
        return venue.full or venue.name if venue else name

    def is_journal(self, name: str) -> bool | None:
        """Whether papers of this venue are journal articles; None when the venue is not listed."""
        venue = self.by_name.get(name)
        return venue.kind == "journal" if venue else None
