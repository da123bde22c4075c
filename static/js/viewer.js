// The image page: ←/→ and a swipe step to the previous and next image, f stars it, a flagged
// image is shown on a click (without JavaScript, through ?reveal=1); without JavaScript the
// arrows are plain links. "Copy prompt" and "Copy link" are copy.js.
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
})();
