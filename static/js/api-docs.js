// The API's reference page (/api/v1/docs, swagger-ui) in the site's theme. swagger-ui has a dark
// mode of its own, switched by <html class="dark-mode">; this keeps that class in step with
// <html data-theme> ("light", "dark" or "auto": the server writes it from the theme cookie and
// static/js/theme.js may change it) and, for "auto", with the system's setting, also when either
// changes while the page is open. A blocking script in <head>: the colours are right at first paint.
(() => {
  const root = document.documentElement;
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  const apply = () => {
    const theme = root.dataset.theme;
    root.classList.toggle("dark-mode", theme === "dark" || (theme !== "light" && systemDark.matches));
  };
  apply();
  systemDark.addEventListener("change", apply);
  new MutationObserver(apply).observe(root, { attributes: true, attributeFilter: ["data-theme"] });
})();
