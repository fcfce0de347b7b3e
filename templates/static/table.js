// Filters and sorts the table of all papers on the client; the state lives in the URL
// (?dim=&tag=&from=&to=&venue=&code=1&q=&sort=year&order=desc), so a view can be shared.
const form = document.getElementById("filters");
const table = document.getElementById("papers");
const status = document.getElementById("status");
const body = table.tBodies[0];
const rows = Array.from(body.rows);
const text = new Map(rows.map((row) => [row, row.textContent.toLowerCase()]));
// Sortable columns by their buttons' keys; those marked data-numeric sort as numbers.
const headers = Array.from(table.tHead.rows[0].cells);
const columns = Object.fromEntries(headers.flatMap((th, i) => th.querySelector("[data-sort]") ? [[th.querySelector("[data-sort]").dataset.sort, i]] : []));
const numeric = new Set(headers.filter((th) => th.hasAttribute("data-numeric") || th.querySelector("[data-sort=year]")).map((th) => th.querySelector("[data-sort]").dataset.sort));
form.hidden = false;

function state() {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(["dim", "tag", "from", "to", "venue", "code", "q", "sort", "order"].map((k) => [k, params.get(k) || ""]));
}

function show(s) {
  for (const [name, value] of Object.entries(s)) {
    const field = form.elements[name];
    if (!field) continue;
    if (field.type === "checkbox") field.checked = value === "1"; else field.value = value;
  }
  const words = s.q.toLowerCase().split(/\s+/).filter(Boolean);
  const from = parseInt(s.from, 10), to = parseInt(s.to, 10);
  let shown = 0;
  for (const row of rows) {
    const d = row.dataset, year = parseInt(d.year, 10);
    const visible = (!s.dim || d.dims.split(" ").includes(s.dim))
      && (!s.tag || d.tags.split(" ").includes(s.tag))
      && (!s.venue || d.venue === s.venue)
      && (!s.code || d.code === "1")
      && (isNaN(from) || year >= from) && (isNaN(to) || year <= to)
      && words.every((w) => text.get(row).includes(w));
    row.hidden = !visible;
    shown += visible;
  }
  sortBy(s.sort, s.order);
  status.textContent = `${shown} of ${rows.length} papers.`;
  copyButton.textContent = `Copy BibTeX of these ${shown} papers`;
}

function sortBy(key, order) {
  for (const th of table.tHead.rows[0].cells) th.removeAttribute("aria-sort");
  if (!(key in columns)) return;
  const index = columns[key], sign = order === "desc" ? -1 : 1;
  const value = (row) => row.cells[index].textContent.trim();
  const number = (row) => value(row) === "" ? -1 : Number(value(row));  // unknown counts sort below 0
  const sorted = [...rows].sort((a, b) =>
    sign * (numeric.has(key) ? number(a) - number(b) : value(a).localeCompare(value(b))));
  body.append(...sorted);
  table.querySelector(`[data-sort=${key}]`).parentElement.setAttribute("aria-sort", order === "desc" ? "descending" : "ascending");
}

function update(changes) {
  const s = { ...state(), ...changes };
  const params = new URLSearchParams(Object.entries(s).filter(([, v]) => v));
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
  show(s);
}

form.addEventListener("input", (event) => {
  const field = event.target;
  update({ [field.name]: field.type === "checkbox" ? (field.checked ? "1" : "") : field.value });
});
form.addEventListener("submit", (event) => event.preventDefault());
form.addEventListener("reset", () => setTimeout(() => update({ dim: "", tag: "", from: "", to: "", venue: "", code: "", q: "" })));
for (const button of table.querySelectorAll("[data-sort]")) {
  button.addEventListener("click", () => {
    const s = state(), key = button.dataset.sort;
    update({ sort: key, order: s.sort === key && s.order !== "desc" ? "desc" : "asc" });
  });
}

// Exports of the view: the rows shown, in their order, as BibTeX, CSV or CSL-JSON, made here from
// the site's downloads (fetched once, on the first export) and the table's own cells.
const exporter = document.getElementById("export");
const downloads = exporter.dataset.downloads;
const copyButton = exporter.querySelector("[data-format=copy]");
const exported = document.getElementById("exported");
const fetched = {};
exporter.hidden = false;

function shownRows() {
  return Array.from(body.rows).filter((row) => !row.hidden);
}

async function download(name) {
  fetched[name] ??= fetch(downloads + name).then((answer) => {
    if (!answer.ok) throw new Error(`${name}: ${answer.status}`);
    return answer.text();
  }).catch((error) => {
    delete fetched[name];  // the next export asks again
    throw error;
  });
  return fetched[name];
}

async function bibtex(keys) {
  const entries = new Map((await download("efflit.bib")).split(/\n(?=@)/).map((entry) => [entry.match(/^@\w+\{([^,]+),/)?.[1], entry.trim()]));
  return keys.map((key) => entries.get(key)).filter(Boolean).join("\n\n") + "\n";
}

async function csl(keys) {
  const items = new Map(JSON.parse(await download("papers.csl.json")).map((item) => [item.id, item]));
  return JSON.stringify(keys.map((key) => items.get(key)).filter(Boolean), null, 2) + "\n";
}

function csv(rows) {
  // Every field quoted; a cell a spreadsheet would run as a formula is kept as text.
  const field = (text) => `"${(/^[=+\-@\t\r]/.test(text) ? "'" + text : text).replaceAll('"', '""')}"`;
  const names = ["key", ...headers.map((th) => th.textContent.trim().toLowerCase()), "url"];
  const lines = rows.map((row) => [row.dataset.key, ...Array.from(row.cells, (cell) => cell.textContent.trim()), row.querySelector("a").href]);
  return [names, ...lines].map((line) => line.map(field).join(",")).join("\r\n") + "\r\n";
}

function fileName(extension) {
  const s = state();
  const filters = ["dim", "tag", "from", "to", "venue", "code", "q"].filter((k) => s[k]).map((k) => `${k}-${s[k]}`);
  const slug = filters.join("-").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `efflit-papers-${slug || "all"}.${extension}`;
}

function save(text, type, extension) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = fileName(extension);
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

exporter.addEventListener("click", async (event) => {
  const format = event.target.dataset?.format;
  if (!format) return;
  const rows = shownRows(), keys = rows.map((row) => row.dataset.key);
  try {
    if (format === "bib") save(await bibtex(keys), "application/x-bibtex", "bib");
    if (format === "csl") save(await csl(keys), "application/vnd.citationstyles.csl+json", "json");
    if (format === "csv") save(csv(rows), "text/csv", "csv");
    if (format === "copy") {
      await navigator.clipboard.writeText(await bibtex(keys));
      exported.textContent = `Copied ${keys.length} BibTeX entries.`;
    }
  } catch (error) {
    exported.textContent = `The export failed (${error.message}): try the Downloads page.`;
  }
});

show(state());
