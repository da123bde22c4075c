// A button with data-copy="text" puts that text on the clipboard and says so for a moment
// (the image page's prompt and share links, a new API token, an endpoint's signing secret).
// The buttons are hidden in the HTML and shown here: without JavaScript the readonly field
// beside them is still there to select by hand.
(() => {
  "use strict";

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
