// The spend pages: a thumbnail the provider flagged NSFW is blurred; the first click shows
// it (as in the gallery), the next one follows the link.
document.addEventListener("click", (event) => {
  const thumb = event.target.closest(".thumb.nsfw:not(.revealed)");
  if (!thumb || event.button !== 0 || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  thumb.classList.add("revealed");
});
