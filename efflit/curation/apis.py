"""Where each scholarly API answers and how often it may be asked.  Apart from the clients, so
that the command line shows them in its help without importing what asking takes."""

ARXIV_ENDPOINT = "https://export.arxiv.org/api/query"
ARXIV_INTERVAL = 3.0  # seconds between requests, as arXiv asks
OPENALEX_ENDPOINT = "https://api.openalex.org/works"
OPENALEX_INTERVAL = 0.2  # at most 5 requests a second: well inside the polite pool's limits
SEMANTICSCHOLAR_ENDPOINT = "https://api.semanticscholar.org/graph/v1/paper/batch"
SEMANTICSCHOLAR_INTERVAL = 1.0  # the shared pool's (and a key's) pace: one request a second
CROSSREF_ENDPOINT = "https://api.crossref.org/works"
CROSSREF_INTERVAL = 0.2  # at most 5 requests a second: the public pool's limit, below the polite pool's
DBLP_ENDPOINT = "https://dblp.org/search/publ/api"
DBLP_INTERVAL = 1.0
GITHUB_ENDPOINT = "https://api.github.com"
GITHUB_INTERVAL = 1.0
