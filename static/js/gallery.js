// The gallery: filters that apply as they change, selection (click, shift-click for a range,
// select all), NSFW reveal, opening the lightbox (static/js/lightbox.js) and a poll that puts
// new images at the top while the tab is visible. Everything is delegated from `document`, so
// tiles that htmx adds or swaps in work without being wired up again. Without JavaScript the
// page still works: the filter form submits, links open the image page, checkboxes post with
// the bulk form.
(() => {
  "use strict";

  const TILE = "[data-gallery] [data-tile]";
  const tiles = () => Array.from(document.querySelectorAll(TILE));
  const boxOf = (tile) => tile.querySelector("input.pick");
  const thumbOf = (tile) => tile.querySelector("a.thumb");

  // --- Selection -------------------------------------------------------------------------
  let anchor = null; // the tile of the last plain click: the start of a shift-click range

  function selectedCount() {
    return tiles().filter((tile) => boxOf(tile).checked).length;
  }

  function refreshSelection() {
    const count = selectedCount();
    const all = tiles();
    for (const tile of all) tile.classList.toggle("selected", boxOf(tile).checked);
    for (const out of document.querySelectorAll("[data-selected-count]")) {
      out.textContent = String(count);
    }
    for (const button of document.querySelectorAll("#bulk-form [data-needs-selection]")) {
      button.disabled = count === 0;
    }
    const selectAll = document.querySelector("[data-select-all]");
    if (selectAll) {
      // Once every tile is ticked only "Clear" is left: one way to undo a selection.
      selectAll.hidden = all.length === 0 || count === all.length;
    }
    const clear = document.querySelector("[data-clear-selection]");
    if (clear) clear.hidden = count === 0;
  }

  function clearSelection() {
    for (const tile of tiles()) boxOf(tile).checked = false;
    refreshSelection();
  }

  function setRange(from, to, checked) {
    const all = tiles();
    const [a, b] = [all.indexOf(from), all.indexOf(to)].sort((x, y) => x - y);
    if (a < 0) return;
    for (let i = a; i <= b; i += 1) boxOf(all[i]).checked = checked;
  }

  // `tile`'s box has its new state; with shift, every tile from the anchor to it follows.
  function picked(tile, shift) {
    if (shift && anchor && anchor !== tile && document.contains(anchor)) {
      setRange(anchor, tile, boxOf(tile).checked);
    } else {
      anchor = tile;
    }
    refreshSelection();
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest(`${TILE} input.pick`);
    if (box) {
      picked(box.closest("[data-tile]"), event.shiftKey); // the browser has toggled it
      return;
    }
    const selectAll = event.target.closest("[data-select-all]");
    if (selectAll) {
      for (const tile of tiles()) boxOf(tile).checked = true;
      refreshSelection();
      return;
    }
    if (event.target.closest("[data-clear-selection]")) {
      clearSelection();
      return;
    }
    const link = event.target.closest(`${TILE} a.thumb`);
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.altKey) return;
    const tile = link.closest("[data-tile]");
    event.preventDefault();
    if (link.classList.contains("nsfw") && !link.classList.contains("revealed")) {
      link.classList.add("revealed"); // the first click shows a blurred image
      return;
    }
    // While something is selected, or with shift, a click on an image selects it instead.
    if (event.shiftKey || selectedCount() > 0) {
      const box = boxOf(tile);
      box.checked = event.shiftKey ? true : !box.checked;
      picked(tile, event.shiftKey);
      return;
    }
    openLightbox(tile);
  });

  document.addEventListener("change", (event) => {
    if (event.target.closest(`${TILE} input.pick`)) refreshSelection();
  });

  // --- Lightbox: the one of static/js/lightbox.js --------------------------------------
  // A tile's parts for it: its thumbnail link (the image page), its star, and the original
  // (the grid's address pattern; a download with ?download=1). The <img>'s alt is the prompt,
  // unless it was cut ("…"): then there is no "Copy prompt".
  function originalUrl(tile) {
    const grid = tile.closest("[data-gallery]");
    return grid.dataset.originalUrl.replace(
      "00000000-0000-0000-0000-000000000000",
      tile.dataset.uuid,
    );
  }

  const PARTS = {
    link: "a.thumb",
    star: "button.star",
    download: (tile) => ({ href: `${originalUrl(tile)}?download=1` }),
    prompt: (tile) => {
      const alt = tile.querySelector("a.thumb img")?.alt || "";
      return alt.endsWith("…") ? "" : alt;
    },
  };

  // The next page of tiles, as the sentinel's `revealed` would ask for it (marked, so that
  // scrolling cannot ask again).
  const MORE = {
    has: () => Boolean(document.querySelector(".gallery-more")),
    load() {
      const sentinel = document.querySelector(".gallery-more");
      if (!sentinel || sentinel.hasAttribute("data-hx-revealed")) return;
      sentinel.setAttribute("data-hx-revealed", "true");
      sentinel.dispatchEvent(new Event("revealed"));
    },
  };

  function openLightbox(tile) {
    if (!window.darkroomLightbox) return;
    window.darkroomLightbox.open(tiles, tiles().indexOf(tile), PARTS, MORE);
  }

  // --- Filters: applied as they change --------------------------------------------------
  // The results (chips, bulk bar, tiles) are swapped in place and the address follows, so a
  // view stays bookmarkable; the form itself stays, with the focus in it.
  const RESULTS = "#gallery-results";
  const DEFAULTS = { nsfw: "any", status: "kept" }; // left out of the URL, as empty fields are
  const filtersForm = () => document.querySelector("[data-gallery-filters]");
  let typing = null; // the search's debounce timer
  let shownUrl = null; // the address whose results are on the page

  function filtersUrl(form) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (value !== "" && DEFAULTS[name] !== value) params.append(name, value);
    }
    const query = params.toString();
    return form.getAttribute("action") + (query ? `?${query}` : "");
  }

  // The form's fields as `url` has them (after a chip, Back or Forward).
  function syncForm(form, url) {
    const params = new URL(url, location.href).searchParams;
    for (const field of form.elements) {
      if (!field.name) continue;
      const value = params.get(field.name);
      if (field.type === "checkbox") field.checked = value === field.value;
      else field.value = value === null ? DEFAULTS[field.name] || "" : value;
    }
  }

  function showResults(url, { history: how }) {
    if (!document.querySelector(RESULTS)) return;
    const absolute = new URL(url, location.href).href;
    if (absolute === shownUrl) return;
    shownUrl = absolute;
    if (how === "push") history.pushState({ gallery: true }, "", absolute);
    else if (how === "replace") history.replaceState({ gallery: true }, "", absolute);
    htmx.ajax("GET", absolute, { source: RESULTS, target: RESULTS, swap: "outerHTML" });
  }

  function applyFilters(how) {
    const form = filtersForm();
    clearTimeout(typing);
    if (form) showResults(filtersUrl(form), { history: how });
  }

  document.addEventListener("change", (event) => {
    const form = event.target.closest("[data-gallery-filters]");
    if (!form || event.target.name === "q") return; // the search applies as one types
    applyFilters("push");
  });

  document.addEventListener("input", (event) => {
    if (!event.target.closest("[data-gallery-filters]") || event.target.name !== "q") return;
    clearTimeout(typing);
    typing = setTimeout(() => applyFilters("replace"), 350);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-gallery-filters]");
    if (!form || !document.querySelector(RESULTS)) return;
    event.preventDefault(); // Enter in the search, or "Show images": already applied
    applyFilters("push");
    const menu = form.querySelector("details[open]");
    if (menu) menu.open = false;
  });

  document.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-remove-filter]");
    if (!chip || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const form = filtersForm();
    if (!form || !document.querySelector(RESULTS)) return;
    event.preventDefault();
    syncForm(form, chip.href);
    showResults(chip.href, { history: "push" });
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    const menu = document.querySelector("[data-gallery-filters] details[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
      return;
    }
    // Esc clears a selection, unless a dialog (the lightbox) is open and takes the key.
    if (selectedCount() > 0 && !document.querySelector("dialog[open]")) clearSelection();
  });

  window.addEventListener("popstate", () => {
    const form = filtersForm();
    if (!form || !document.querySelector(RESULTS)) return;
    syncForm(form, location.href);
    showResults(location.href, { history: "none" });
  });

  // New results: the Filters button counts their chips.
  document.addEventListener("htmx:afterSettle", () => {
    const results = document.querySelector(RESULTS);
    const badge = document.querySelector("[data-filter-badge]");
    if (!results || !badge) return;
    const active = Number(results.dataset.filterCount || 0);
    badge.textContent = String(active);
    badge.hidden = active === 0;
  });

  // --- New images at the top ------------------------------------------------------------
  // While the first page is open and the tab is visible, ask every few seconds for the tiles
  // newer than the first one (a cheap query: nothing new answers 204) and put them on top.
  const grid = () => document.querySelector("[data-gallery][data-poll-url]");
  let polling = false;

  async function poll() {
    const target = grid();
    if (!target || polling || document.hidden) return;
    const first = target.querySelector("[data-tile]");
    const cursor = first ? first.dataset.cursor : target.dataset.pollSince;
    const base = target.dataset.pollUrl;
    const url = `${base}${base.includes("?") ? "&" : "?"}newer=${encodeURIComponent(cursor)}`;
    polling = true;
    let added = 0;
    try {
      await htmx.ajax("GET", url, { source: target, target, swap: "afterbegin" });
      for (const tile of target.querySelectorAll("[data-tile]")) {
        if (tile === first) break;
        tile.classList.add("is-new");
        added += 1;
      }
      if (added) {
        for (const empty of document.querySelectorAll("[data-gallery-empty]")) empty.remove();
      }
    } finally {
      polling = false;
    }
    // A full page of new tiles: there may be more right behind them.
    if (added >= Number(target.dataset.pollPage)) poll();
  }

  function startPolling() {
    // Filters may swap in a grid that does not poll (the trash) and back: each turn looks.
    const target = document.querySelector("[data-gallery]");
    if (!(target || document.querySelector(RESULTS)) || typeof htmx === "undefined") return;
    const seconds = Number(target && target.dataset.pollSeconds) || 10;
    setInterval(poll, seconds * 1000);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) poll();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    refreshSelection();
    startPolling();
    const form = filtersForm();
    if (form) shownUrl = new URL(location.href).href;
  });
})();
