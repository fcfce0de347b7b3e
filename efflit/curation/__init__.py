"""Tools for curators: importers of BibTeX and paper lists, arXiv look-ups, findings applied
from checked pages, and the README's generated counts."""
