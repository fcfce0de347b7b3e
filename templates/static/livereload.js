// Added only by `efflit serve`: reload the page when a build newer than the page's finishes.  The
// server learns which page this is, to show an edit in it before the whole site is built again.
const build = document.querySelector('meta[name="efflit-build"]')?.content ?? "";
const page = encodeURIComponent(location.pathname);
new EventSource(`/__efflit/events?since=${build}&page=${page}`).addEventListener("reload", () => location.reload());
