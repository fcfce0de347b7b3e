// Added only by `efflit serve`: reload the page when a rebuild finishes.
new EventSource("/__efflit/events").addEventListener("reload", () => location.reload());
