// Runs in flight, on every page: the tab title counts them ("(2) Gallery · Darkroom") and says
// when they are ready ("✓ Ready — …"), a toast links to the new images, and a browser
// notification says it while the tab is hidden (only if the person asked for notifications,
// with a click on a "Notify me" button: never on load).
//
// Runs shown as cards (the studio, a generation's page) poll for themselves through htmx; this
// watches their swaps. Runs without a card are asked about through one small JSON poll, which
// only runs while some are in flight (the session marks a person who started one, so a page
// asks once on load; after that only while the answer says some are still running).
(() => {
  "use strict";

  const watch = document.getElementById("run-watch");
  if (!watch) return;
  const POLL_MS = 4000;
  const TOAST_MS = 15000;
  const baseTitle = document.title;
  const known = new Map(); // run uuid -> "active" | "done" | "failed"
  let finishedDone = 0; // finished since the person last looked at the tab
  let finishedFailed = 0;
  let timer = null;

  // The session says the person started runs that may still be in flight: ask which, once.
  let discover = watch.hasAttribute("data-in-flight");

  const cardOf = (uuid) => document.getElementById(`run-${uuid}`);
  const activeRuns = () => [...known.values()].filter((state) => state === "active").length;

  function updateTitle() {
    const active = activeRuns();
    if (active > 0) document.title = `(${active}) ${baseTitle}`;
    else if (finishedDone > 0) document.title = `✓ Ready — ${baseTitle}`;
    else if (finishedFailed > 0) document.title = `✕ Failed — ${baseTitle}`;
    else document.title = baseTitle;
  }

  // The person is looking: what finished has been seen.
  function seen() {
    if (document.hidden || (finishedDone === 0 && finishedFailed === 0)) return;
    finishedDone = 0;
    finishedFailed = 0;
    updateTitle();
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) setTimeout(seen, 3000);
  });
  document.addEventListener("pointerdown", seen);
  document.addEventListener("keydown", seen);

  function inView(element) {
    const box = element.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
  }

  // --- What happens when a run ends ----------------------------------------------------------
  function finished(uuid, info) {
    known.set(uuid, info.state);
    if (info.state === "done") finishedDone += 1;
    else finishedFailed += 1;
    updateTitle();
    const card = cardOf(uuid);
    if (document.hidden || !card || !inView(card)) toast(uuid, info, card);
    notify(uuid, info, card);
    document.dispatchEvent(new CustomEvent("darkroom:run-finished", { detail: { uuid, ...info } }));
  }

  function headline(info) {
    if (info.state !== "done") return "A run failed";
    return info.images === 1 ? "1 image ready" : `${info.images} images ready`;
  }

  function toast(uuid, info, card) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = `toast${info.state === "done" ? "" : " is-failed"}`;
    if (info.thumb) {
      const img = document.createElement("img");
      img.src = info.thumb;
      img.alt = "";
      item.append(img);
    } else {
      item.append(document.createElement("span"));
    }
    const body = document.createElement("div");
    body.className = "toast-body";
    const title = document.createElement("p");
    title.className = "toast-title";
    title.textContent = headline(info);
    const prompt = document.createElement("p");
    prompt.className = "toast-prompt";
    prompt.textContent = info.prompt;
    const actions = document.createElement("p");
    actions.className = "toast-actions";
    const link = document.createElement("a");
    link.href = card ? `#run-${uuid}` : info.url;
    link.textContent = info.state === "done" ? "View images" : "See what happened";
    actions.append(link);
    body.append(title, prompt, actions);
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "✕";
    close.addEventListener("click", () => item.remove());
    link.addEventListener("click", () => item.remove());
    item.append(body, close);
    box.append(item);
    setTimeout(() => item.remove(), TOAST_MS);
  }

  function notify(uuid, info, card) {
    if (!document.hidden || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    const note = new Notification(`${headline(info)} — Darkroom`, {
      body: info.prompt,
      icon: info.thumb || undefined,
      tag: `darkroom-run-${uuid}`,
    });
    note.addEventListener("click", () => {
      window.focus();
      if (card) card.scrollIntoView({ block: "start" });
      else window.location.href = info.url;
      note.close();
    });
  }

  // --- Cards that poll for themselves ----------------------------------------------------------
  function infoOf(card) {
    const img = card.querySelector(".run-image img");
    const prompt = card.querySelector(".run-prompt");
    return {
      state: card.dataset.runState,
      images: Number(card.dataset.runImages || 0),
      prompt: prompt ? prompt.textContent.trim().slice(0, 80) : "",
      url: card.dataset.runUrl,
      thumb: img ? img.currentSrc || img.src : "",
    };
  }

  function scanCards() {
    for (const card of document.querySelectorAll(".run[data-run]")) {
      const uuid = card.dataset.run;
      const state = card.dataset.runState;
      const before = known.get(uuid);
      if (state === "active") known.set(uuid, "active");
      else if (before === "active") finished(uuid, infoOf(card));
    }
    updateTitle();
    schedule();
  }

  // --- Runs without a card: one small poll while any is in flight -----------------------------
  function uncarded() {
    return [...known.entries()]
      .filter(([uuid, state]) => state === "active" && !cardOf(uuid))
      .map(([uuid]) => uuid);
  }

  function schedule() {
    if (timer !== null || (uncarded().length === 0 && !discover)) return;
    timer = setTimeout(poll, discover ? 0 : POLL_MS);
  }

  async function poll() {
    timer = null;
    const watched = uncarded();
    if (watched.length === 0 && !discover) return;
    discover = false;
    try {
      const response = await fetch(`${watch.dataset.url}?watch=${watched.join(",")}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const { runs } = await response.json();
        const reported = new Set();
        for (const run of runs) {
          reported.add(run.uuid);
          if (cardOf(run.uuid)) continue; // its card says it
          if (run.state === "active") known.set(run.uuid, "active");
          else if (known.get(run.uuid) === "active") finished(run.uuid, run);
        }
        // Asked about, not reported: not the person's, or gone. Stop counting it.
        for (const uuid of watched) if (!reported.has(uuid)) known.delete(uuid);
        updateTitle();
      }
    } catch (error) {
      // Offline for a moment: ask again at the next turn.
    }
    schedule();
  }

  // --- "Notify me": asked for on a click, never on load ---------------------------------------
  function refreshAsk() {
    const canAsk = "Notification" in window && Notification.permission === "default";
    for (const button of document.querySelectorAll("[data-notify-ask]")) button.hidden = !canAsk;
  }

  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-notify-ask]") || !("Notification" in window)) return;
    Notification.requestPermission().then(refreshAsk);
  });

  document.addEventListener("htmx:afterSettle", () => {
    scanCards();
    refreshAsk();
  });
  scanCards();
  refreshAsk();
})();
