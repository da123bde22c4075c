// The image page: ←/→ and a swipe step to the previous and next image, f stars it, a flagged
// image is shown on a click (without JavaScript, through ?reveal=1), and "Copy prompt" / "Copy
// link" put text on the clipboard. Without JavaScript the arrows and buttons are plain links.
(() => {
  "use strict";

  const stage = document.querySelector("[data-viewer-stage]");
  const step = (which) => document.querySelector(`[data-step="${which}"]`);

  function go(which) {
    const link = step(which);
    if (link) window.location.assign(link.href);
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "ArrowLeft") go("prev");
    else if (event.key === "ArrowRight") go("next");
    else if (event.key === "f" || event.key === "F") {
      const star = document.querySelector(".viewer-star button.star");
      if (star) star.form.requestSubmit(star);
    } else return;
    event.preventDefault();
  });

  // A swipe across the image: left for the next one, right for the previous one.
  if (stage) {
    window.darkroomSwipe(stage, (step) => go(step > 0 ? "next" : "prev"));
  }

  document.addEventListener("click", (event) => {
    const reveal = event.target.closest("[data-reveal]");
    if (reveal && stage) {
      event.preventDefault();
      stage.classList.remove("is-nsfw");
      reveal.remove();
    }
  });

  // --- Copy prompt, Copy link ----------------------------------------------------------------
  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain http on a local network has no clipboard API: the old way still works there.
    const field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.append(field);
    field.select();
    const copied = document.execCommand("copy");
    field.remove();
    if (!copied) throw new Error("copy refused");
  }

  for (const button of document.querySelectorAll("[data-copy]")) button.hidden = false;
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const label = button.querySelector("[data-copy-label]") || button;
    const before = label.dataset.before || label.textContent;
    label.dataset.before = before;
    try {
      await copy(button.dataset.copy);
      label.textContent = "Copied";
    } catch (error) {
      label.textContent = "Could not copy";
    }
    setTimeout(() => {
      label.textContent = before;
    }, 1600);
  });
})();
