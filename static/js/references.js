// Reference images in the Generate form: drop or pick files, each posted to the server (which
// checks and keeps it) and shown as a tile; tiles are removable and reorderable, and each can
// put its <<<image_N>>> tag into the prompt. Without JavaScript the file input is sent with the
// form instead, and the server does the same checks. Reordering works by dragging, and with the
// keyboard (each tile's ← → buttons, or Alt+Arrow keys).
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function errorTile(message) {
    const li = document.createElement("li");
    li.className = "reference-tile is-error";
    li.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.className = "error";
    text.textContent = message;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link reference-remove";
    button.textContent = "Dismiss";
    li.append(text, button);
    return li;
  }

  // Runs on page load, and again when htmx puts a new form in (errors, "Reuse settings").
  function init() {
    const box = document.getElementById("references");
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    const tiles = box.querySelector("#reference-tiles");
    const zone = box.querySelector(".drop-zone");
    const input = box.querySelector("input[type=file]");
    const busy = box.querySelector(".drop-busy");
    const url = box.dataset.uploadUrl;
    let dragged = null;

    // Also shows the buttons that need JavaScript (hidden for the no-JS form, which offers a
    // "Leave out" tick instead).
    function renumber() {
      window.darkroomReferences.renumber();
    }

    // A tile picked with "use as reference" waits in the session; removing it must drop it
    // there too, or it comes back on the next page load. A 404 means it was not a pick.
    function unpick(tile) {
      const unpickUrl = tile.dataset.unpickUrl;
      if (!unpickUrl) return;
      fetch(unpickUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
      }).catch(function () {});
    }

    // Kling takes at most `max` references: files beyond the room left (counting those still
    // being sent) are refused here, at once, and the references already chosen stay.
    const max = Number(box.dataset.max) || 10;
    let sending = 0;
    function take(files) {
      const room = max - tiles.querySelectorAll(".reference-tile:not(.is-error)").length - sending;
      const fits = files.slice(0, Math.max(0, room));
      const refused = files.slice(fits.length);
      if (refused.length) {
        for (const old of tiles.querySelectorAll("[data-too-many]")) old.remove();
        const names = "“" + refused[0].name + "”" + (refused.length > 1 ? " and " + (refused.length - 1) + " more" : "");
        const tile = errorTile(
          "Kling takes at most " + max + " reference images: " + names + " " +
            (refused.length > 1 ? "were" : "was") + " not added. Remove one to make room."
        );
        tile.dataset.tooMany = "1";
        tiles.append(tile);
      }
      upload(fits);
    }

    // One request per file: the order is kept, and each stays under the proxy's body limit.
    async function upload(files) {
      if (!files.length) return;
      busy.hidden = false;
      sending += files.length;
      for (const file of files) {
        const body = new FormData();
        body.append("reference_files", file, file.name);
        try {
          const response = await fetch(url, {
            method: "POST",
            body: body,
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken() },
          });
          if (!response.ok) {
            tiles.append(errorTile("“" + file.name + "” could not be sent (HTTP " + response.status + ")."));
            continue;
          }
          tiles.insertAdjacentHTML("beforeend", await response.text());
        } catch (e) {
          tiles.append(errorTile("“" + file.name + "” could not be sent: the connection failed."));
        } finally {
          sending -= 1; // its tile is in: counted there from now on
        }
      }
      busy.hidden = true;
      renumber();
    }

    input.addEventListener("change", function () {
      const files = Array.from(input.files);
      input.value = ""; // sent already: not again with the form
      take(files);
    });

    function hasFiles(event) {
      return event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
    }
    // The whole block takes dropped files, so a near miss does not open the file in the tab.
    box.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.add("is-over");
    });
    box.addEventListener("dragleave", function () {
      zone.classList.remove("is-over");
    });
    box.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.remove("is-over");
      take(Array.from(event.dataTransfer.files));
    });

    tiles.addEventListener("click", function (event) {
      const tile = event.target.closest(".reference-tile");
      if (!tile) return;
      if (event.target.closest(".reference-remove")) {
        unpick(tile);
        tile.remove();
        renumber();
      } else if (event.target.closest(".reference-move")) {
        move(tile, Number(event.target.closest(".reference-move").dataset.move));
      } else if (event.target.closest(".reference-insert")) {
        const prompt = document.getElementById("id_prompt");
        const n = tile.querySelector(".reference-number").textContent;
        if (prompt) window.darkroomPrompt.insertAtCursor(prompt, "<<<image_" + n + ">>>");
      }
    });

    // Reordering with the keyboard: each tile's ← and → buttons, or Alt+Arrow anywhere in a
    // tile; the live region says where it went, and the focus stays on what was pressed.
    const said = box.querySelector("#reference-moved");

    function move(tile, step) {
      const all = Array.from(tiles.querySelectorAll(".reference-tile:not(.is-error)"));
      const from = all.indexOf(tile);
      const to = from + step;
      if (from < 0 || to < 0 || to >= all.length) return;
      const focused = document.activeElement;
      if (step < 0) tiles.insertBefore(tile, all[to]);
      else tiles.insertBefore(tile, all[to].nextSibling);
      renumber();
      if (tile.contains(focused) && !focused.disabled) focused.focus();
      else tile.querySelector(".reference-move:not([disabled])").focus();
      if (said) {
        const name = tile.querySelector(".reference-name").getAttribute("title");
        said.textContent = "Moved " + name + " to position " + (to + 1) + " of " + all.length + ".";
      }
    }

    tiles.addEventListener("keydown", function (event) {
      if (!event.altKey) return;
      const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[event.key];
      const tile = event.target.closest(".reference-tile");
      if (!step || !tile || tile.classList.contains("is-error")) return;
      event.preventDefault();
      move(tile, step);
    });

    // Reordering: drag a tile onto another to put it before that one.
    tiles.addEventListener("dragstart", function (event) {
      dragged = event.target.closest(".reference-tile");
      if (dragged) event.dataTransfer.effectAllowed = "move";
    });
    tiles.addEventListener("dragover", function (event) {
      if (dragged) event.preventDefault();
    });
    tiles.addEventListener("drop", function (event) {
      const target = event.target.closest(".reference-tile");
      if (!dragged || !target || target === dragged) return;
      event.preventDefault();
      event.stopPropagation();
      tiles.insertBefore(dragged, target);
      dragged = null;
      renumber();
    });
    tiles.addEventListener("dragend", function () {
      dragged = null;
    });
    renumber();
  }

  // Tiles added from elsewhere (a run's "Use as reference") are numbered like the others.
  window.darkroomReferences = {
    renumber: function () {
      const tiles = document.getElementById("reference-tiles");
      if (!tiles) return;
      const all = tiles.querySelectorAll(".reference-tile:not(.is-error)");
      all.forEach(function (tile, i) {
        tile.querySelector(".reference-number").textContent = String(i + 1);
        tile.querySelectorAll("button[hidden]").forEach(function (button) {
          button.hidden = false;
        });
        // The first cannot move earlier, nor the last later.
        tile.querySelectorAll(".reference-move").forEach(function (button) {
          const step = Number(button.dataset.move);
          button.disabled = (step < 0 && i === 0) || (step > 0 && i === all.length - 1);
        });
      });
    },
  };

  init(); // a deferred script: the page is parsed by now
  document.addEventListener("htmx:load", init);
})();
