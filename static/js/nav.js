// The main navigation on a phone: a "Menu" button that shows and hides the links. Loaded in
// <head>, not deferred, so the page is marked before its first paint and the links never flash
// open; without JavaScript the button stays hidden and every link shows, wrapped.
(function () {
  "use strict";

  document.documentElement.classList.add("js-nav");

  function setOpen(toggle, nav, open) {
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("is-open", open);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const toggle = document.querySelector("[data-nav-toggle]");
    const nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) return;
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      setOpen(toggle, nav, toggle.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and gives the focus back to its button.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
      setOpen(toggle, nav, false);
      toggle.focus();
    });
  });
})();
