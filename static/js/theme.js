// The colour theme: "auto" (the system's setting), "light" or "dark", on <html data-theme>.
// Three places hold it and this keeps them in step: the `theme` cookie (the server writes
// data-theme from it before the first paint), localStorage "theme" (what Django's admin reads
// and its own toggle writes) and the attribute. Loaded deferred on Darkroom's pages, and as a
// plain blocking script where no server writes the attribute (the admin, the 500 page), so
// the theme is there before anything is painted.
(() => {
  const THEMES = ["auto", "light", "dark"];
  const root = document.documentElement;

  const fromCookie = () => {
    const found = document.cookie.match(/(?:^|;\s*)theme=([a-z]+)/);
    return found && THEMES.includes(found[1]) ? found[1] : null;
  };
  const fromStorage = () => {
    try {
      const value = localStorage.getItem("theme");
      return THEMES.includes(value) ? value : null;
    } catch {
      return null; // storage refused (a private window, a policy)
    }
  };
  const remember = (theme) => {
    const secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie = `theme=${theme}; path=/; max-age=31536000; samesite=lax${secure}`;
    try {
      localStorage.setItem("theme", theme);
    } catch {
      // the cookie is enough for Darkroom's pages
    }
  };
  const showPressed = (theme) => {
    for (const button of document.querySelectorAll(".theme-switch button[name=theme]")) {
      button.setAttribute("aria-pressed", String(button.value === theme));
    }
  };

  // The cookie decides; without one, whatever the admin's toggle remembered.
  const start = fromCookie() || fromStorage();
  if (start) {
    if (start !== fromCookie() || start !== fromStorage()) remember(start);
    if (root.dataset.theme !== start) root.dataset.theme = start;
  }

  // The admin's toggle changes the attribute: remember its choice for Darkroom's pages too.
  new MutationObserver(() => {
    const theme = root.dataset.theme;
    if (THEMES.includes(theme) && theme !== fromCookie()) remember(theme);
  }).observe(root, { attributes: true, attributeFilter: ["data-theme"] });

  // On a narrow phone the switch is one button, the current theme's (darkroom.css): a tap moves
  // to the next theme, and its name says which that is.
  const compact = window.matchMedia("(max-width: 480px)");
  const next = (theme) => THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  const LABELS = { auto: "System", light: "Light", dark: "Dark" };
  const nameButtons = () => {
    for (const button of document.querySelectorAll(".theme-switch button[name=theme]")) {
      if (compact.matches) {
        button.setAttribute(
          "aria-label",
          `Theme: ${LABELS[button.value]}. Switch to ${LABELS[next(button.value)]}`,
        );
      } else {
        button.removeAttribute("aria-label");
      }
    }
  };
  nameButtons();
  compact.addEventListener("change", nameButtons);

  // Darkroom's switch: applied here and now, no page load.
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".theme-switch button[name=theme]");
    if (!button || !THEMES.includes(button.value)) return;
    event.preventDefault();
    const pressed = button.getAttribute("aria-pressed") === "true";
    const theme = compact.matches && pressed ? next(button.value) : button.value;
    root.dataset.theme = theme;
    remember(theme);
    showPressed(theme);
    if (compact.matches) {
      // The tapped button hides: the focus moves to the one that shows now.
      button.closest(".theme-switch").querySelector(`button[value="${theme}"]`)?.focus();
    }
  });
})();
