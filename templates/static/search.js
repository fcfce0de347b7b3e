// Pagefind's UI with facets; paths come from the page so the site works under any base path.
const box = document.getElementById("search");
const ui = new PagefindUI({
  element: box,
  bundlePath: box.dataset.bundle,
  // The index comes in shards (so that an edit re-indexes one): search them as one.
  mergeIndex: box.dataset.merge.split(" ").filter(Boolean).map((path) => ({ bundlePath: path })),
  baseUrl: new URL(box.dataset.base, location.href).pathname,
  showSubResults: false,
  showImages: false,
  resetStyles: false,
});
// Pagefind labels its input with a title only; screen readers want a real label.
box.querySelector("input")?.setAttribute("aria-label", "Search papers");
const query = new URLSearchParams(location.search).get("q");
if (query) ui.triggerSearch(query);
