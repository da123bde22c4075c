// A lightbox over the images of a page, with their actions: download, copy prompt, reuse
// settings, use as reference, star, share, delete (with Undo), open; ←/→, a swipe, "3 / 12",
// Escape, f to star. Flagged images stay blurred until "Show" is clicked.
//
// The lightbox has no actions of its own: each button works through the control the tile
// already has (its star form, its download link, its "use as reference" and delete forms, its
// run's "Reuse settings"), so what happens is what the tile does, with or without the lightbox.
// The studio's runs open it (a click on an image); another page opens it with
// `darkroomLightbox.open(tiles, index, parts, more)`: `tiles` a list, or a function that lists
// them (read again after each swap, for a list that grows), `parts` naming its own tiles'
// controls (see RUN_PARTS), and `more` ({ has(), load() }) for a list that loads more tiles as
// one steps near its end (the gallery's endless scroll). The one lightbox of every page: the
// gallery (gallery.js), the studio and a generation's page. Without JavaScript an image is a
// link to its page.
(() => {
  "use strict";

  // Where each part is found, from a tile. A part missing from a tile hides its button.
  const RUN_PARTS = {
    link: ".run-image", // holds the preview <img>; its href (if any) is the image page
    download: "a[download]",
    star: "button.star",
    // Submit buttons of the page's one form (form="page-post" formaction=...).
    reference: "[data-use-as-reference]",
    trash: "button[formaction$='/trash/']",
    restore: "button[formaction$='/restore/']",
    prompt: (tile) => tile.closest(".run")?.querySelector(".run-prompt")?.textContent.trim(),
    reuse: (tile) => tile.closest(".run")?.querySelector("a[data-reuse]"),
  };

  let dialog = null;
  let tiles = [];
  let source = null; // a function that lists the tiles again, when the list grows
  let more = null; // { has(), load() }: more tiles to load at the end of the list
  let wantNext = false; // → was pressed on the last tile: step on once more have arrived
  let parts = RUN_PARTS;
  let index = 0;
  let key = null; // the uuid of the image shown: tiles are swapped by htmx (star, delete)

  const part = (tile, name) => {
    const how = parts[name];
    if (!tile || !how) return null;
    return typeof how === "function" ? how(tile) : tile.querySelector(how);
  };

  function button(label, action, extra) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = `button small ${extra || ""}`.trim();
    element.dataset.lbAction = action;
    element.textContent = label;
    return element;
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "lb";
    dialog.dataset.lightbox = "";
    dialog.setAttribute("aria-label", "Image viewer");
    const stage = document.createElement("div");
    stage.className = "lb-stage";
    const preview = document.createElement("img");
    preview.className = "lb-preview";
    preview.dataset.lightboxPreview = "";
    preview.alt = "";
    const full = document.createElement("img");
    full.className = "lb-full";
    full.dataset.lightboxFull = "";
    full.alt = "";
    full.hidden = true;
    const reveal = button("Flagged NSFW by WaveSpeed · Show the image", "reveal", "lb-reveal");
    const prev = button("‹", "prev", "lb-step lb-prev");
    prev.setAttribute("aria-label", "Previous image");
    const next = button("›", "next", "lb-step lb-next");
    next.setAttribute("aria-label", "Next image");
    stage.append(preview, full, reveal, prev, next);

    const bar = document.createElement("div");
    bar.className = "lb-bar";
    const count = document.createElement("span");
    count.className = "lb-count";
    const prompt = document.createElement("p");
    prompt.className = "lb-prompt";
    prompt.dataset.lightboxPrompt = "";
    const actions = document.createElement("div");
    actions.className = "lb-actions";
    const download = document.createElement("a");
    download.className = "button small primary";
    download.dataset.lbAction = "download";
    download.textContent = "Download";
    download.setAttribute("download", "");
    const share = document.createElement("a");
    share.className = "button small";
    share.dataset.lbAction = "share";
    share.textContent = "Share";
    const open = document.createElement("a");
    open.className = "button small ghost";
    open.dataset.lbAction = "open";
    open.textContent = "Open page";
    const star = button("☆ Star", "star");
    star.dataset.lightboxStar = "";
    star.setAttribute("aria-pressed", "false");
    actions.append(
      download,
      star,
      button("Copy prompt", "copy"),
      button("Reuse settings", "reuse"),
      button("Use as reference", "reference"),
      share,
      button("Delete", "trash", "danger"),
      button("Undo delete", "restore"),
      open,
      button("Close", "close", "ghost"),
    );
    bar.append(count, prompt, actions);
    dialog.append(stage, bar);
    document.body.append(dialog);

    dialog.addEventListener("click", onClick);
    dialog.addEventListener("close", () => {
      wantNext = false;
      full.removeAttribute("src"); // stop loading an original nobody looks at
      const tile = current();
      const link = tile && part(tile, "link");
      if (link && link.focus) link.focus();
    });
    window.darkroomSwipe(stage, go);
  }

  const q = (selector) => dialog.querySelector(selector);
  const uuidOf = (tile) => tile.dataset.image || tile.dataset.uuid || "";

  function current() {
    // The tile may have been swapped since (a star, a delete): find it again by its image.
    const tile = tiles[index];
    if (tile && document.contains(tile)) return tile;
    const fresh = key && document.querySelector(`[data-image="${key}"], [data-uuid="${key}"]`);
    if (fresh) tiles[index] = fresh;
    return fresh || tile;
  }

  // The largest thumbnail a tile's <img> lists (the last `srcset` entry), else what it shows.
  function largest(img) {
    const entries = (img.getAttribute("srcset") || "").split(",").filter((s) => s.trim());
    const last = entries.pop();
    return last ? last.trim().split(/\s+/)[0] : img.currentSrc || img.src;
  }

  // A list that grows (endless scroll): read it again, and find the shown tile in it.
  function relist() {
    if (!source) return;
    tiles = Array.from(source());
    const at = key ? tiles.findIndex((tile) => uuidOf(tile) === key) : -1;
    if (at >= 0) index = at;
  }

  function show() {
    const tile = current();
    if (!tile) return;
    key = uuidOf(tile);
    const link = part(tile, "link");
    const page = link && link.getAttribute("href");
    const img = link && link.querySelector("img");
    const preview = q(".lb-preview");
    const full = q(".lb-full");
    if (img) {
      preview.src = largest(img);
      preview.alt = img.alt;
    }
    const download = part(tile, "download");
    full.hidden = true;
    full.removeAttribute("src");
    if (download) {
      const original = new URL(download.href, window.location.href);
      original.searchParams.delete("download");
      full.onload = () => {
        if (uuidOf(current()) === key) full.hidden = false;
      };
      full.src = original.href;
      full.alt = preview.alt;
    }
    const flagged = link && link.classList.contains("nsfw") && !link.classList.contains("revealed");
    q(".lb-stage").classList.toggle("is-nsfw", Boolean(flagged));
    q(".lb-reveal").hidden = !flagged;
    const growing = Boolean(more && more.has());
    q(".lb-count").textContent = `${index + 1} / ${tiles.length}${growing ? "+" : ""}`;
    q(".lb-prompt").textContent = part(tile, "prompt") || preview.alt;
    q(".lb-prev").disabled = index === 0;
    q(".lb-next").disabled = index === tiles.length - 1 && !growing;
    // Behind the overlay the page follows, so an endless list loads more as one steps on.
    if (tile.scrollIntoView) tile.scrollIntoView({ block: "nearest" });
    if (growing && index >= tiles.length - 3) more.load();
    const deleted = tile.classList.contains("is-deleted");
    const show = (action, on) => {
      q(`[data-lb-action="${action}"]`).hidden = !on;
    };
    show("download", Boolean(download));
    if (download) q('[data-lb-action="download"]').href = download.href;
    show("reference", !deleted && Boolean(part(tile, "reference")));
    show("reuse", Boolean(part(tile, "reuse")));
    show("trash", !deleted && Boolean(part(tile, "trash")));
    show("restore", deleted && Boolean(part(tile, "restore")));
    show("copy", Boolean(navigator.clipboard) && Boolean(part(tile, "prompt")));
    for (const name of ["open", "share"]) {
      show(name, Boolean(page) && !deleted);
      if (page) q(`[data-lb-action="${name}"]`).href = name === "share" ? `${page}#share-heading` : page;
    }
    const star = part(tile, "star");
    const starred = star && star.getAttribute("aria-pressed") === "true";
    const starButton = q('[data-lb-action="star"]');
    starButton.hidden = !star || deleted;
    starButton.setAttribute("aria-pressed", starred ? "true" : "false");
    starButton.textContent = starred ? "★ Starred" : "☆ Star";
  }

  function go(delta) {
    relist();
    const next = index + delta;
    if (next >= tiles.length && delta > 0 && more && more.has()) {
      wantNext = true; // shown once the next tiles are in (htmx:afterSettle)
      more.load();
      return;
    }
    if (next < 0 || next >= tiles.length) return;
    wantNext = false;
    index = next;
    show();
  }

  // A form is submitted; a button is clicked, as a person would: htmx (hx-post on it) or
  // studio.js (its form's submit event) acts, else its form posts.
  function submit(control) {
    if (control instanceof HTMLFormElement) control.requestSubmit();
    else if (control) control.click();
  }

  async function onClick(event) {
    if (event.target === dialog) {
      dialog.close(); // a click on the dark surround
      return;
    }
    const control = event.target.closest("[data-lb-action]");
    if (!control) return;
    const tile = current();
    const action = control.dataset.lbAction;
    if (action === "prev") go(-1);
    else if (action === "next") go(1);
    else if (action === "close") dialog.close();
    else if (action === "reveal") {
      part(tile, "link")?.classList.add("revealed");
      show();
    } else if (action === "star") {
      const star = part(tile, "star");
      if (star) star.form.requestSubmit(star);
    } else if (action === "reference") submit(part(tile, "reference"));
    else if (action === "trash") submit(part(tile, "trash"));
    else if (action === "restore") submit(part(tile, "restore"));
    else if (action === "reuse") {
      dialog.close();
      part(tile, "reuse")?.click();
    } else if (action === "copy") {
      try {
        await navigator.clipboard.writeText(part(tile, "prompt") || "");
        control.textContent = "Copied";
      } catch (error) {
        control.textContent = "Could not copy";
      }
      setTimeout(() => {
        control.textContent = "Copy prompt";
      }, 1600);
    }
  }

  document.addEventListener("keydown", (event) => {
    if (!dialog || !dialog.open || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "ArrowRight") go(1);
    else if (event.key === "ArrowLeft") go(-1);
    else if (event.key === "f" || event.key === "F") {
      const star = part(current(), "star");
      if (star) star.form.requestSubmit(star);
    } else return;
    event.preventDefault();
  });

  // A star or a delete was swapped in, or more tiles arrived: show the tile as it is now.
  document.addEventListener("htmx:afterSettle", () => {
    if (!dialog || !dialog.open) return;
    relist();
    if (wantNext && index < tiles.length - 1) go(1);
    else show();
  });

  function open(list, at, names, growing) {
    if (!dialog) build();
    source = typeof list === "function" ? list : null;
    tiles = Array.from(source ? source() : list);
    parts = names || RUN_PARTS;
    more = growing || null;
    wantNext = false;
    index = Math.max(0, Math.min(at, tiles.length - 1));
    key = null;
    show();
    if (!dialog.open) dialog.showModal();
    q('[data-lb-action="close"]').focus();
  }

  // The studio's runs (and a generation's page): a plain click on an image opens the lightbox
  // over every image of the page's runs; a click with a modifier still opens the page.
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".run .run-image[href]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    const list = Array.from(document.querySelectorAll(".run .run-tile")).filter((tile) =>
      tile.querySelector(".run-image[href]"),
    );
    open(list, list.indexOf(link.closest(".run-tile")));
  });

  window.darkroomLightbox = { open, RUN_PARTS };
})();
