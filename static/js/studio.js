// The studio's iteration loop on the Generate page: Ctrl/⌘+Enter generates; a new run is
// brought into view (on a phone it is far below the button); the timers of running jobs tick;
// "Reuse settings" puts a run's settings back into the form, "Run again" and "Retry" add a run
// to the top, and "Use as reference" adds an image to the form's references, all in place.
// Without JavaScript each of these is a link or a form that posts and comes back to the page.
(() => {
  "use strict";

  const FORM = "#generate-form";
  const form = () => document.querySelector(FORM);
  const runList = () => document.getElementById("run-list");

  // --- Timers: the server says how long a run had been going; the browser counts on ----------
  const firstSeen = new WeakMap();
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }
  function tick() {
    const now = Date.now();
    for (const element of document.querySelectorAll("[data-elapsed]")) {
      if (!firstSeen.has(element)) firstSeen.set(element, now);
      const seconds = Number(element.dataset.elapsed) + (now - firstSeen.get(element)) / 1000;
      element.textContent = clock(seconds);
    }
  }
  setInterval(tick, 1000);

  // --- Ctrl/⌘+Enter generates ---------------------------------------------------------------
  const mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  function showShortcut() {
    for (const hint of document.querySelectorAll("[data-shortcut]")) {
      hint.textContent = mac ? "⌘ ↵" : "Ctrl ↵";
      hint.hidden = false;
    }
  }
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const current = form();
    if (!current || !current.contains(event.target)) return;
    event.preventDefault();
    const button = current.querySelector("button[type=submit]");
    if (button && !button.disabled) current.requestSubmit(button);
  });

  // --- A run was added: bring it into view, and clear the form's old errors -------------------
  function clearErrors() {
    const current = form();
    if (!current) return;
    for (const error of current.querySelectorAll(".error[role=alert]")) error.remove();
    for (const field of current.querySelectorAll(".has-error")) field.classList.remove("has-error");
  }

  // htmx fires the response's HX-Trigger event before the swap: note the run, act once settled.
  let started = null;
  document.body.addEventListener("darkroom:run-started", (event) => {
    clearErrors();
    const examples = document.getElementById("examples");
    if (examples) examples.open = false; // the first run is made: the examples step aside
    started = event.detail.uuid;
  });
  document.addEventListener("htmx:afterSettle", () => {
    const card = started && document.getElementById(`run-${started}`);
    if (!card) return;
    started = null;
    const box = card.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.6) {
      const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      card.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    }
  });

  // --- Reuse settings, Run again, Retry, Use as reference: in place -------------------------
  document.addEventListener("click", (event) => {
    const reuse = event.target.closest("a[data-reuse]");
    if (reuse && form() && event.button === 0 && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      window.htmx.ajax("GET", reuse.href, { target: FORM, swap: "outerHTML" });
      return;
    }
    const example = event.target.closest("a[data-example]");
    if (example && form() && event.button === 0 && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      useExample(example.dataset);
      return;
    }
    const toForm = event.target.closest("[data-to-form]");
    if (toForm && form()) {
      event.preventDefault();
      focusPrompt();
      return;
    }
  });

  // An example prompt: its prompt and settings go into the form (the rest is kept), the quote
  // follows (a change event), and the prompt is focused to be edited.
  function useExample(example) {
    const current = form();
    const set = (name, value) => {
      const field = current.elements.namedItem(name);
      if (!field) return;
      if (field instanceof RadioNodeList) {
        for (const radio of field) radio.checked = radio.value === value;
      } else {
        field.value = value;
      }
    };
    set("aspect_ratio", example.aspectRatio);
    set("resolution", example.resolution);
    set("result_type", example.resultType);
    set("num_images", example.numImages);
    followResultType();
    set("prompt_original", ""); // an enhanced prompt's original no longer applies
    const prompt = current.querySelector("#id_prompt");
    window.darkroomPrompt.setValue(prompt, example.prompt); // input + change: the quote follows
    focusPrompt();
    prompt.setSelectionRange(prompt.value.length, prompt.value.length);
    current.classList.add("is-refilled");
    setTimeout(() => current.classList.remove("is-refilled"), 1200);
  }

  function focusPrompt() {
    const current = form();
    if (!current) return;
    current.scrollIntoView({ block: "start" });
    const prompt = current.querySelector("#id_prompt");
    if (prompt) prompt.focus({ preventScroll: true });
  }

  // The form came back from "Reuse settings" (or with errors): show it.
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt.id !== "generate-form") return;
    showShortcut();
    const box = event.detail.elt.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight) focusPrompt();
    event.detail.elt.classList.add("is-refilled");
    setTimeout(() => event.detail.elt.classList.remove("is-refilled"), 1200);
  });

  // --- A series has no count: the model chooses (up to 9) ----------------------------------
  // The count is disabled (so neither the run nor the quote sends it) and emptied while Result
  // type is a series; switching back puts the person's number back.
  function followResultType() {
    const current = form();
    const count = current?.querySelector("#id_num_images");
    const type = current?.elements.namedItem("result_type");
    if (!count || !type) return;
    const series = type.value === "series";
    const note = current.querySelector("[data-series-note]");
    if (series && !count.disabled) {
      count.dataset.kept = count.value;
      count.value = "";
      count.placeholder = "Up to 9";
      count.disabled = true;
      count.setAttribute("aria-describedby", note ? note.id : "");
    } else if (!series && count.disabled) {
      count.disabled = false;
      if (!count.value) count.value = count.dataset.kept || "1";
      count.placeholder = "";
      count.removeAttribute("aria-describedby");
    }
    if (note) note.hidden = !series;
  }
  // Captured, so the count is settled before htmx (listening on the form) asks for a quote.
  document.addEventListener(
    "change",
    (event) => {
      if (event.target.name === "result_type" && event.target.form === form()) followResultType();
    },
    true,
  );
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt.id === "generate-form") followResultType();
  });

  // --- Generate is off while the quote refuses the run, the reason beside it ----------------
  // Only with JavaScript: without it the quote does not follow the options, and the server
  // refuses the run with the same words.
  function followQuote() {
    const quote = document.getElementById("quote");
    const button = form()?.querySelector(".generate-button");
    if (!quote || !button) return;
    const refused = quote.hasAttribute("data-refused");
    button.disabled = refused;
    button.classList.toggle("is-refused", refused);
    if (refused) button.setAttribute("aria-describedby", "quote-refusal");
    else button.removeAttribute("aria-describedby");
  }
  document.addEventListener("htmx:afterSettle", followQuote);
  // Also when a run's request ends, as htmx then enables the button it disabled meanwhile.
  document.addEventListener("htmx:afterRequest", followQuote);

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // Run again and Use as reference are submit buttons of the page's one form (base.html), which
  // posts without JavaScript; here they act in place.
  document.addEventListener("submit", (event) => {
    const again = event.submitter?.closest("[data-run-again]");
    if (again && runList()) {
      event.preventDefault();
      window.htmx.ajax("POST", again.formAction, {
        source: again,
        target: "#run-list",
        swap: "afterbegin",
      });
      return;
    }
    const pick = event.submitter?.closest("[data-use-as-reference]");
    const tiles = document.getElementById("reference-tiles");
    if (pick && tiles) {
      event.preventDefault();
      useAsReference(pick, tiles);
    }
  });

  async function useAsReference(button, tiles) {
    button.disabled = true;
    try {
      const response = await fetch(button.formAction, {
        method: "POST",
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrf() },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const holder = document.createElement("template");
      holder.innerHTML = await response.text();
      let added = null;
      for (const tile of holder.content.querySelectorAll(".reference-tile")) {
        const key = tile.dataset.uuid;
        added = key && tiles.querySelector(`.reference-tile[data-uuid="${key}"]`); // already in?
        if (!added) {
          tiles.append(tile);
          added = tile;
        }
      }
      window.darkroomReferences?.renumber();
      // Show where it went (the references sit low in the form).
      if (added) {
        added.scrollIntoView({ block: "nearest" });
        added.classList.add("is-new");
        setTimeout(() => added.classList.remove("is-new"), 1500);
      }
      button.classList.add("is-done");
      button.title = "Added to the references in the form";
    } catch (error) {
      button.title = "Could not add it: try again";
    } finally {
      button.disabled = false;
    }
  }

  showShortcut();
  followQuote();
  followResultType();
  tick();
})();
