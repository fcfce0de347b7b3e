// Added only by `efflit serve`: reload the page when a build newer than the page's finishes.
const build = document.querySelector('meta[name="efflit-build"]')?.content ?? "";
new EventSource(`/__efflit/events?since=${build}`).addEventListener("reload", () => location.reload());
