"""GitHub's REST API: the stars, last push and archived state of the records' code repositories.

One request a repository, a second apart (the API allows 60 an hour without a token, 5,000 with
one; `GITHUB_TOKEN` in the environment is sent when set).  Answers are untrusted and read into
numbers, a day and a flag, or not at all.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass

from efflit.curation.apis import GITHUB_ENDPOINT as ENDPOINT
from efflit.curation.apis import GITHUB_INTERVAL as INTERVAL
from efflit.curation.polite import ApiError, PoliteClient

TOKEN_VARIABLE = "GITHUB_TOKEN"
_REPOSITORY = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?(?:[#?].*)?$")


@dataclass(frozen=True)
class Repository:
    stars: int
    pushed: datetime.date | None
    archived: bool


def repository_of(url: str) -> tuple[str, str] | None:
    """(owner, name) of a GitHub repository's address; None for any other address (a file or a
    folder inside a repository names the repository too)."""
    if match := _REPOSITORY.match(url):
        return match["owner"], match["name"]
    if match := re.match(r"^https://github\.com/([\w.-]+)/([\w.-]+)/(?:tree|blob)/", url):
        return match[1], match[2]
    return None


class Client:
    def __init__(self, endpoint: str = ENDPOINT, interval: float = INTERVAL, timeout: float = 30) -> None:
        headers = {"Accept": "application/vnd.github+json"}
        if token := os.environ.get(TOKEN_VARIABLE):
            headers["Authorization"] = f"Bearer {token}"
        self.endpoint = endpoint.rstrip("/")
        self.http = PoliteClient("GitHub", interval, timeout, headers=headers)

    def repository(self, owner: str, name: str) -> Repository | None:
        """The repository's state; None when GitHub knows no such repository."""
        text = self.http.get(f"{self.endpoint}/repos/{owner}/{name}", {}, absent=(404, 451))
        return None if text is None else parse_repository(text)


def parse_repository(text: str) -> Repository:
    """A repository's state from the API's answer; an `ApiError` for anything else."""
    try:
        found = json.loads(text)
        stars, archived, pushed = found["stargazers_count"], found["archived"], found.get("pushed_at")
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError(f"GitHub answered something that is not a repository ({error})") from None
    if not isinstance(stars, int) or isinstance(stars, bool) or stars < 0 or not isinstance(archived, bool):
        raise ApiError("GitHub answered a repository with figures of the wrong kind")
    day = None
    if isinstance(pushed, str):
        try:
            day = datetime.date.fromisoformat(pushed[:10])
        except ValueError:
            raise ApiError(f"GitHub answered a push date that is no date: {pushed[:40]!r}") from None
    return Repository(stars, day, archived)
