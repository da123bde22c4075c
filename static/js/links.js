// Read-only link fields (invitation and share links): focusing one selects the whole link, ready
// to copy. Delegated from the document, so fields that htmx swaps in work too. Here rather than
// in an onfocus attribute: the Content-Security-Policy allows no inline handlers.
(function () {
  "use strict";

  document.addEventListener("focusin", function (event) {
    const field = event.target;
    if (field instanceof HTMLInputElement && field.matches("[data-select-on-focus]")) {
      field.select();
    }
  });
})();
