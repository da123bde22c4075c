// The prompt enhancer's buttons: Accept puts the suggestion into the prompt (and keeps the
// person's own prompt in the hidden #id_prompt_original, unless an earlier accept already
// did), Edit accepts and puts the cursor in the prompt, Discard closes the panel.
(function () {
  "use strict";

  function closePanel() {
    var panel = document.getElementById("enhancer-panel");
    if (panel) panel.innerHTML = "";
  }

  function accept() {
    var compare = document.querySelector("#enhancement .enhancement-compare");
    var prompt = document.getElementById("id_prompt");
    var original = document.getElementById("id_prompt_original");
    if (!compare || !prompt) return null;
    if (original && !original.value) original.value = compare.dataset.original;
    window.darkroomPrompt.setValue(prompt, compare.dataset.suggestion);
    closePanel();
    return prompt;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#enhance-accept, #enhance-edit, #enhance-discard");
    if (!button) return;
    event.preventDefault();
    if (button.id === "enhance-discard") {
      closePanel();
      return;
    }
    var prompt = accept();
    if (prompt && button.id === "enhance-edit") {
      prompt.focus();
      prompt.setSelectionRange(prompt.value.length, prompt.value.length);
    }
  });

  // Nothing to enhance in an empty prompt: keep the button off until there is text.
  function syncButton() {
    var prompt = document.getElementById("id_prompt");
    var button = document.getElementById("enhance-button");
    if (!prompt || !button || button.title) return; // a title means "no price": stays off
    button.disabled = !prompt.value.trim();
  }
  document.addEventListener("input", function (event) {
    if (event.target.id !== "id_prompt") return;
    syncButton();
    // An emptied prompt is a fresh start: the kept original belongs to the old one.
    var original = document.getElementById("id_prompt_original");
    if (original && !event.target.value.trim()) original.value = "";
  });
  document.addEventListener("DOMContentLoaded", syncButton);
  document.addEventListener("htmx:load", syncButton); // a new form (errors, "Reuse settings")
})();
