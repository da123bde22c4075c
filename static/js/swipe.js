// A horizontal swipe on `stage` calls onSwipe(1) for the next item (a swipe to the left) or
// onSwipe(-1) for the previous one; short or mostly vertical moves are ignored.
(function () {
  "use strict";

  const MIN_DISTANCE = 60;
  const HORIZONTAL = 1.5; // how much wider than tall a move must be

  window.darkroomSwipe = function (stage, onSwipe) {
    let start = null;
    stage.addEventListener(
      "touchstart",
      (event) => {
        if (event.touches.length !== 1) return;
        start = { x: event.touches[0].clientX, y: event.touches[0].clientY };
      },
      { passive: true },
    );
    stage.addEventListener("touchend", (event) => {
      if (!start) return;
      const dx = event.changedTouches[0].clientX - start.x;
      const dy = event.changedTouches[0].clientY - start.y;
      start = null;
      if (Math.abs(dx) < MIN_DISTANCE || Math.abs(dx) < Math.abs(dy) * HORIZONTAL) return;
      onSwipe(dx < 0 ? 1 : -1);
    });
  };
})();
