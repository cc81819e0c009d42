// Small progressive enhancements; every page works without this file.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  const form = all.closest("form");
  form.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = all.checked; });
});
document.addEventListener("submit", (event) => {
  const message = event.submitter && event.submitter.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
