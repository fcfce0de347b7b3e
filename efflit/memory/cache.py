"""What the last run saw, so a run does again only what its inputs' changes call for.

Everything is keyed by content hashes (not times) of the taxonomy, the settings, every file
under papers/, the templates in use and efflit's own code; a file is read and hashed again only
when its identity (inode, size, times) changed since (see `_hashes_by_identity`): a run whose inputs did not change
reuses its whole result; otherwise unchanged files are not parsed again, and a build renders again only
pages whose key (see `keys.Keys`) changed.  Results live in `.efflit-cache/` (git-ignored)
and are written atomically.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from efflit.base.files import folders_holding, read_bytes, write_atomic
from efflit.base.forks import cores, in_forks, meanwhile, side_by_side, wait_meanwhile
from efflit.kb.problems import Report
from efflit.kb.project import (
    CACHE,
    METRICS,
    PAPERS,
    PYPROJECT,
    TAXONOMY,
    VENUES,
    Project,
    entries_under,
    template_dirs,
)

Parse = Callable[[Path, str, Report], Any]  # (file, its display name, report) -> what it holds
# The content hash of each input file, by the text of its path: 100,000 paths took a second to make
# and another to unpickle, and their texts next to nothing.
Hashes = dict[str, str]


def input_hashes(root: Path) -> Hashes:
    """The content hash of every input of a check or build of the knowledge base at ``root``
    (resolved): the taxonomy, the venues, the metrics, the settings, every file under papers/, the
    templates in use and efflit's own code (an upgrade rebuilds)."""
    top = (root / TAXONOMY, root / VENUES, root / METRICS, root / PYPROJECT)
    files = [*map(str, top), *_files_under(root / PAPERS)]
    files += [path for folder in template_dirs(root) for path in _files_under(folder)]
    files += _code_files()
    return _hashes_by_identity(root, files)


def template_inputs(root: Path) -> tuple[str, ...]:
    """What the paths of the templates among `input_hashes` start with: only a build reads them."""
    return tuple(f"{folder}{os.sep}" for folder in template_dirs(root))


def updated_hashes(hashes: Hashes, changed: Iterable[Path]) -> Hashes:
    """``hashes`` (of `input_hashes`) with those of the files ``changed`` (edited, added or removed)
    read again and no other.  A caller that knows which files changed (`efflit serve`, from the
    system's file events) saves reading them all; a file it does not know of is read as new."""
    updated = dict(hashes)
    for path in map(str, changed):
        try:
            updated[path] = _content_hash(path)
        except OSError:
            updated.pop(path, None)  # gone, or unreadable: the stage that reads it reports why
    return updated


HASHES = "hashes"  # the cache file of `_hashes_by_identity`
HASHES_VERSION = "1"
# A file changed within this many seconds of being read could change again with the same identity
# (a file system's clock may tick that coarsely): its hash is not kept, so it is read again.
RACY_SECONDS = 2


def _hashes_by_identity(root: Path, files: list[str]) -> Hashes:
    """The content hash of each of ``files`` (in order; none for a file that cannot be read), read
    again only for files whose identity changed since a run last read them, as git's index does:
    reading and hashing every input took 4 s at 100,000 records, where asking each one's identity
    takes a fraction of it.  Stored only beside a taxonomy: a folder that holds no knowledge base
    gets no cache folder."""
    index_file = root / CACHE / f"{HASHES}.pickle"
    known = _load(index_file, HASHES_VERSION) or {}
    settled = time.time_ns() - RACY_SECONDS * 10**9
    hashes: Hashes = {}
    index: dict[str, tuple[Identity, str]] = {}
    for path in files:
        if (identity := file_identity(path)) is None:
            continue  # gone: the stage that reads it reports why
        stored = known.get(path)
        try:
            # Read after the identity is taken: a file edited in between has another one by the next run.
            content = stored[1] if stored and stored[0] == identity else _content_hash(path)
        except OSError:
            continue  # unreadable: as above
        hashes[path] = content
        if identity[3] < settled:  # its change time
            index[path] = (identity, content)
    if index != known and (root / TAXONOMY).is_file():
        _store(index_file, HASHES_VERSION, index)
    return hashes


def _content_hash(path: str) -> str:
    return hashlib.sha256(read_bytes(path)[1]).hexdigest()


def digest(*parts: str) -> str:
    """A short hash of some texts."""
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()


def _files_under(folder: Path) -> list[str]:
    """Every file under ``folder``, sorted."""
    return sorted(entry.path for entry in entries_under(folder) if entry.is_file())


def fingerprint(hashes: Hashes, *extra: str) -> str:
    """One hash of all inputs (and of ``extra`` options): any edit, however small, changes it."""
    digest = hashlib.sha256("\0".join(extra).encode())
    for path, content in hashes.items():
        digest.update(f"\0{path}\0{content}".encode())
    return digest.hexdigest()


def _code_files() -> list[str]:
    return sorted(map(str, Path(__file__).parents[1].rglob("*.py")))


# Libraries whose versions change what a run makes (parsed data, link findings, page bytes).
LIBRARIES = ("bibtexparser", "jinja2", "markdown", "markupsafe", "nh3", "pydantic", "pylatexenc", "pyyaml", "rapidfuzz")


def code_version(hashes: Hashes) -> str:
    """A hash of efflit's own code and its libraries' versions: what another made is not reused."""
    return fingerprint({path: hashes.get(path, "") for path in _code_files()}, *map(_version, LIBRARIES))


def _version(library: str) -> str:
    from importlib import metadata  # here: a run answered from the cache never asks (15 ms to import)

    try:
        return f"{library} {metadata.version(library)}"
    except metadata.PackageNotFoundError:
        return library


class ParseCache:
    """What each record and .bib file parsed to last time, keyed by the hash of its bytes, so an
    unchanged file is not parsed again; the problems it had are reported again as they were.

    A cache file planted in a checkout cannot run code (see `_load` and SECURITY.md)."""

    def __init__(self, project: Project, hashes: Hashes) -> None:
        self.file = project.root / CACHE / "parsed.pickle"
        self.hashes = hashes
        self.version = code_version(hashes)
        stored = _load(self.file, self.version)  # none, or one of another version: everything is parsed
        self.previous: dict[str, tuple] = stored if isinstance(stored, dict) else {}
        self.current: dict[str, tuple] = {}
        self.changed = False  # whether ``current`` differs from ``previous``, so must be stored

    def parse_all(self, jobs: list[tuple[Path, str, Parse]], report: Report) -> list[Any]:
        """``parse(file, display name, report)`` for each (file, display name, parse) job, from the
        cache when the file's bytes are unchanged; files that changed are parsed on every core when many."""
        fresh = [job for job in jobs if not self._unchanged(job[0], job[1])]
        parsed = {display: done for share in in_forks(_parse, _shares(fresh)) for display, *done in share}
        results = []
        for path, display, _ in jobs:
            result, problems = parsed[display] if display in parsed else self.previous[display][1:]
            self.current[display] = (self.hashes.get(str(path)), result, problems)
            report.problems += problems
            results.append(result)
        self.changed = bool(parsed) or self.current.keys() != self.previous.keys()
        return results

    def _unchanged(self, path: Path, display: str) -> bool:
        stored = self.previous.get(display)
        return stored is not None and stored[0] is not None and stored[0] == self.hashes.get(str(path))

    def save(self) -> None:
        if self.changed:
            # Stored while the check goes on.  `_load` waits for it in this process; another
            # process that reads the file before it is replaced finds the previous one, or none.
            _store(self.file, self.version, self.current, in_background=True)


PARALLEL_FROM = 1000  # files: below this, forking costs more than it saves


def _shares(jobs: list[tuple[Path, str, Any]]) -> list[list[tuple[Path, str, Any]]]:
    """The jobs split between the cores, each share about as many bytes (one .bib file can weigh
    as much as thousands of records)."""
    if len(jobs) < PARALLEL_FROM:
        return [jobs] if jobs else []
    shares: list[list] = [[] for _ in range(cores())]
    loads = [0] * len(shares)
    sizes = {job[1]: _size(job[0]) for job in jobs}
    for job in sorted(jobs, key=lambda job: -sizes[job[1]]):
        lightest = loads.index(min(loads))
        shares[lightest].append(job)
        loads[lightest] += sizes[job[1]]
    return shares


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _parse(share: list[tuple[Path, str, Parse]]) -> list[tuple[str, Any, list]]:
    results = []
    for path, display, parse in share:
        own = Report()
        results.append((display, parse(path, display, own), own.problems))
    return results


class _PlainUnpickler(pickle.Unpickler):
    ALLOWED = {
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "timezone"),
        ("datetime", "timedelta"),
        ("efflit.kb.problems", "Position"),
        ("efflit.kb.problems", "Problem"),
        ("efflit.kb.problems", "Severity"),
        ("efflit.kb.bibtex", "BibEntry"),
        ("efflit.site.render", "Downloads"),
        ("efflit.site.sitecheck", "PageLinks"),
        # What a check found (see `checks.save`): its records, taxonomy, settings and catalog,
        # restored as they were validated: a model's state is set, none of its code runs.
        ("pathlib", "PosixPath"),
        ("pathlib", "WindowsPath"),
        ("efflit.memory.checks", "Checked"),
        ("efflit.kb.link", "KnowledgeBase"),
        ("efflit.kb.project", "Project"),
        ("efflit.kb.load", "Document"),
        ("efflit.kb.load", "Located"),
        ("efflit.kb.validate", "Paper"),
        ("efflit.kb.validate", "Taxonomy"),
        ("efflit.kb.validate", "Node"),
        ("efflit.kb.venues", "Venues"),
        ("efflit.kb.catalog", "Catalog"),
        ("efflit.kb.catalog", "Group"),
        *(
            ("efflit.kb.models", model)
            for model in (
                "Settings",
                "LinkSettings",
                "Record",
                "Source",
                "TaxonomyNode",
                "Venue",
                "MetricsFile",
                "PaperMetrics",
                "CodeMetrics",
            )
        ),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in efflit's cache")
        return super().find_class(module, name)


class PerRecord:
    """What was made from each record (its card, its download entries), kept between runs by the
    record's key (``keys``: record id -> key) under ``version`` (what else it was made with): a run
    makes it again only for records that changed.  ``values`` (record id -> value) holds what is
    known; a run adds what it makes, and `save` keeps it for the next."""

    def __init__(self, root: Path, name: str, version: str, keys: dict[str, str]) -> None:
        self.root, self.name, self.version, self.keys = root, name, version, keys
        stored = recall(root, name, version) or {}
        self.values: dict[str, Any] = {record: stored[key] for record, key in keys.items() if key in stored}
        self._known = len(self.values)

    def save(self) -> None:
        if len(self.values) > self._known:  # else the stored values serve as they are
            kept = {self.keys[record]: value for record, value in self.values.items()}
            remember(self.root, self.name, self.version, kept, in_background=True)  # as `ParseCache.save`


def recall(root: Path, name: str, key: str) -> dict | None:
    """The result stored under ``name`` if it was made from inputs with fingerprint ``key``."""
    stored = _load(root / CACHE / f"{name}.pickle", key)
    return stored if isinstance(stored, dict) else None


def remember(root: Path, name: str, key: str, result: dict, *, in_background: bool = False) -> bool:
    """Store ``result`` under ``name``; whether it is stored (or being stored, in the background)."""
    return _store(root / CACHE / f"{name}.pickle", key, result, in_background=in_background)


# What this process last stored or read of each cache file (its key and value), and that file's
# identity then (None while a write in the background is under way): a process that runs many
# builds (`efflit serve`) takes its own results back from here, not from the disk (unpickling the
# parsed records of 10,000 records takes a third of a second).  It serves only while the file is the one it was (after a
# write in the background, the first file found is taken for the one written): a file written by
# another process, or damaged, is read again.  Callers never change a value in place.
_known: dict[Path, tuple[str, Any, Identity | None]] = {}
_storing: dict[Path, int] = {}  # the process storing each file in the background, until waited for


def forget() -> None:
    """Forget what this process read and stored: it reads the cache files again, as a new one would."""
    wait_meanwhile()
    _storing.clear()
    _known.clear()


def _load(path: Path, key: str | None = None) -> Any:
    """What ``_store`` kept at ``path`` under ``key`` (under any key, without one), or None.
    Pickle, as a record of a large site holds millions of numbers (ten times faster than JSON),
    restricted to plain data and efflit's value classes.  The key is read first, and the value only
    when it is the one asked for: the first build after an upgrade of efflit does not load the kept
    state of the old one (at 100,000 records, seconds and gigabytes for nothing)."""
    _stored(path)  # this process may still be storing it
    identity, known = file_identity(path), _known.get(path)
    if identity is not None and known is not None and known[2] in (None, identity):
        # A write in the background is done now (see above): the file is the one it wrote.  Had the
        # write failed, the value still stands: each one says which inputs it was made from.
        _known[path] = (known[0], known[1], identity)
        return known[1] if key in (None, known[0]) else None
    try:
        with path.open("rb") as stream:
            found = _PlainUnpickler(stream).load()
            if key not in (None, found):
                return None
            value = _PlainUnpickler(stream).load()  # a pickle of its own, with its own memo
    except Exception:  # noqa: BLE001 -- damaged or planted: any failure means no cache
        _known.pop(path, None)
        return None
    _known[path] = (found, value, identity)
    return value


def _stored(path: Path) -> None:
    """Wait until this process's store of ``path`` in the background, if any, is done."""
    if (child := _storing.pop(path, None)) is not None:
        wait_meanwhile(child)


def _store(path: Path, key: str, value: Any, *, in_background: bool = False) -> bool:
    """Keep ``value`` at ``path`` under ``key`` (what it was made from), as two pickles, the key's
    first; ``in_background``, by a forked process while this one goes on (pickling the parse results
    of 10,000 records takes a tenth of a second).  Whether it is kept."""
    if in_background:
        _stored(path)  # else the earlier store could end last
        _known[path] = (key, value, None)
        if (child := meanwhile(partial(_store, path, key, value))) is not None:
            _storing[path] = child
        return True
    try:
        write_atomic(path, pickle.dumps(key, pickle.HIGHEST_PROTOCOL) + pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (OSError, pickle.PicklingError):
        _known.pop(path, None)
        return False  # a cache that cannot be written only costs time
    _known[path] = (key, value, file_identity(path))
    return True


Identity = tuple[int, int, int, int]  # a file's inode, size, modification and change times


def file_identity(path: Path | str) -> Identity | None:
    """Which file is at ``path``, as it stands, None where there is none: a file edited since has
    another change time at least, and a cache file, replaced with each write (see `write_atomic`),
    another inode."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def site_stamp(folder: Path, made: tuple[list[str], list[str]], *, parallel: bool = False) -> list[int] | None:
    """The sizes and modification times of what a build made of the site in ``folder``, summed:
    ``made`` names its files (site paths) and the folders it had filled whole (the search bundles).
    The folders holding the files count too, as adding or removing a file changes its folder's
    time: so a site touched by hand since the build no longer matches, without walking a folder
    for each page (3.5 s against 1 s at 100,000 records).  None when a file or folder is gone.
    ``parallel``, shared out between the cores when the files are many (asking each one's times
    takes seconds at 100,000 records); not in a forked process of `in_forks`, which can fork no other."""
    files, filled = made
    workers = cores() if parallel and len(files) >= PARALLEL_FROM else 1
    held = list(folders_holding(files))
    shares = (
        partial(_stamp_share, folder, files[k::workers], held[k::workers], filled if k == 0 else [])
        for k in range(workers)
    )
    parts = side_by_side(*shares)
    return None if None in parts else [sum(column) for column in zip(*parts, strict=True)]


def _stamp_share(folder: Path, files: list[str], held: list[str], filled: list[str]) -> list[int] | None:
    """`site_stamp` of some of the files, the folders holding them and the folders filled whole."""
    inside = f"{folder}{os.sep}"
    try:
        stats = [os.lstat(inside + file) for file in files]
        folders = [os.lstat(inside + sub) for sub in held]
    except OSError:
        return None
    for sub in filled:
        for entry in entries_under(folder / sub):
            (folders if entry.is_dir(follow_symlinks=False) else stats).append(entry.stat(follow_symlinks=False))
    return [
        *(len(stats), sum(s.st_size for s in stats), sum(s.st_mtime_ns for s in stats)),
        *(len(folders), sum(s.st_mtime_ns for s in folders)),
    ]


def recorded(root: Path, name: str) -> dict | None:
    """The result stored under ``name``, whatever inputs it was made from."""
    stored = _load(root / CACHE / f"{name}.pickle")
    return stored if isinstance(stored, dict) else None
