"""A polite HTTP client for the scholarly APIs: one request per interval, retries on the answers
that say "later" (honouring Retry-After), and a bound on the time and the bytes of every answer,
which is untrusted input."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from efflit.base.files import write_atomic
from efflit.base.retries import retry_after
from efflit.kb.models import ApiName

RETRIES = 4
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
MAX_BYTES = 10 * 1024 * 1024  # far above any answer a batch of 50 papers makes
USER_AGENT = "efflit (+https://github.com/efflit/efflit)"


class ApiError(RuntimeError):
    """An API could not be reached or did not answer usefully, after retries."""


class PoliteClient:
    """GET requests to one API, ``interval`` seconds apart at least."""

    def __init__(
        self, name: str, interval: float, timeout: float, max_bytes: int = MAX_BYTES, headers: dict | None = None
    ) -> None:
        import httpx  # here, not at the top: few commands ask an API

        self.name, self.interval, self.max_bytes = name, interval, max_bytes
        self.http = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT, **(headers or {})})
        self.last_request = float("-inf")

    def get(self, url: str, params: dict[str, Any], absent: tuple[int, ...] = ()) -> str | None:
        """The answer's text, or None when its status is one of ``absent`` (a 404 for what does not
        exist); an `ApiError` once retries are spent or the answer says no."""
        return self._request("GET", url, params, None, absent)

    def post(self, url: str, params: dict[str, Any], body: Any) -> str | None:
        """The answer to ``body`` sent as JSON (a batch of ids), as `get` gives it."""
        return self._request("POST", url, params, body, ())

    def _request(self, method: str, url: str, params: dict[str, Any], body: Any, absent: tuple[int, ...]) -> str | None:
        import httpx

        for attempt in range(RETRIES + 1):
            self._wait(self.interval)
            try:
                status, reason, text, retry = self._fetch(method, url, params, body)
            except httpx.TransportError as error:  # timeouts, refused and reset connections
                problem, delay = f"{type(error).__name__}: {error}", self.interval * 2**attempt
            else:
                if status == 200:
                    return text
                if status in absent:
                    return None
                if status not in RETRY_STATUSES:
                    raise ApiError(f"{self.name} answered {status} {reason}")
                problem = f"{status} {reason}"
                delay = retry_after(retry) or self.interval * 2**attempt
            if attempt == RETRIES:
                break
            self._wait(delay)
        raise ApiError(f"{self.name} did not answer after {RETRIES + 1} attempts: {problem}")

    def _fetch(self, method: str, url: str, params: dict[str, Any], body: Any) -> tuple[int, str, str, str | None]:
        """Status, reason, body text (read no further than ``max_bytes``) and Retry-After."""
        with self.http.stream(method, url, params=params, json=body) as response:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise ApiError(f"{self.name} answered with more than {self.max_bytes} bytes: not read")
                chunks.append(chunk)
            text = b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
            return response.status_code, response.reason_phrase, text, response.headers.get("Retry-After")

    def _wait(self, seconds: float) -> None:
        pause = self.last_request + seconds - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.last_request = time.monotonic()


class IndexClient:
    """A client of one scholarly index: its address, the contact its polite pool asks for, a polite
    HTTP client at the index's pace, and the answers it gave before (`AnswerCache`)."""

    name: ClassVar[ApiName]
    endpoint_default: ClassVar[str]
    interval: ClassVar[float]  # seconds between requests, as the index asks

    def __init__(
        self, endpoint: str | None = None, contact: str | None = None, cache: Path | None = None, timeout: float = 30
    ) -> None:
        self.endpoint, self.contact = endpoint or self.endpoint_default, contact
        self.http = PoliteClient(self.name, self.interval, timeout, headers=self.headers())
        self.cache = AnswerCache(cache)

    def headers(self) -> dict[str, str]:
        """Headers of every request (a key from the environment, where the index takes one)."""
        return {}


class AnswerCache:
    """What an API said of each id, kept on disk between runs (JSON): a re-run asks only for the
    ids it has not seen."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[str, dict] = _read_cache(path)

    def batches(self, ids: list[str], size: int) -> Iterator[list[str]]:
        """The ids not known yet, ``size`` at a time; what each batch teaches is saved after it."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.known]
        for start in range(0, len(missing), size):
            yield missing[start : start + size]
            if self.path:
                write_atomic(self.path, json.dumps(self.known, indent=1, sort_keys=True, ensure_ascii=False))

    def found(self, ids: list[str]) -> dict[str, dict]:
        return {i: self.known[i] for i in ids if i in self.known}


def _read_cache(path: Path | None) -> dict[str, dict]:
    """What a cache file holds; nothing when it is missing or unreadable (a cache is asked again,
    never trusted to be whole)."""
    try:
        known = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in known.items() if isinstance(v, dict)} if isinstance(known, dict) else {}
