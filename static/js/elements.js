// The element picker of the Generate form: "Insert name" writes an element's name at the cursor
// in the prompt, a warning says when a picked element's name is not in the prompt (the server
// says it again after the submit; it never blocks), at most three can be ticked, and only the
// elements of the chosen project's library (and the personal one) are offered.
(function () {
  "use strict";
  var MAX = 3;

  // Runs on page load, and again when htmx puts a new form in (errors, "Reuse settings").
  function init() {
    var picker = document.querySelector("[data-element-picker]");
    var prompt = document.getElementById("id_prompt");
    if (!picker || !prompt || picker.dataset.ready) return;
    picker.dataset.ready = "1";
    var boxes = Array.prototype.slice.call(picker.querySelectorAll('input[name="elements"]'));
    var warning = picker.querySelector("[data-element-warning]");
    var project = document.getElementById("id_project");

    function update() {
      var text = prompt.value.toLocaleLowerCase();
      var ticked = boxes.filter(function (b) { return b.checked; });
      var unnamed = ticked
        .map(function (b) { return b.dataset.name; })
        .filter(function (name) { return text.indexOf(name.toLocaleLowerCase()) === -1; });
      warning.hidden = unnamed.length === 0;
      warning.textContent = unnamed.length
        ? "The prompt does not name " + unnamed.map(function (n) { return "“" + n + "”"; }).join(", ") +
          ": Kling uses an element best when the prompt calls it by its name."
        : "";
      boxes.forEach(function (b) { b.disabled = !b.checked && ticked.length >= MAX && !b.closest("li").hidden; });
    }

    function filterByProject() {
      var chosen = project ? project.value : "";
      boxes.forEach(function (b) {
        var item = b.closest("li");
        var library = item.dataset.library;
        item.hidden = library !== "" && library !== chosen;
        if (item.hidden) b.checked = false;
      });
      update();
    }

    picker.addEventListener("click", function (event) {
      var button = event.target.closest("[data-insert-name]");
      if (button) window.darkroomPrompt.insertAtCursor(prompt, button.dataset.insertName);
    });
    picker.addEventListener("change", update);
    prompt.addEventListener("input", update);
    if (project) project.addEventListener("change", filterByProject);
    filterByProject();
  }

  init(); // a deferred script: the page is parsed by now
  document.addEventListener("htmx:load", init);
})();
