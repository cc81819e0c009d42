// Small progressive enhancements; every page works without this file.
// Bulk actions act on ticked rows: each button says how many it needs
// (data-needs-selection) and stays disabled until then; the count is shown.
function updateSelection(form) {
  const ticked = form.querySelectorAll("input[name=ids]:checked").length;
  form.querySelectorAll("[data-needs-selection]").forEach((button) => {
    button.disabled = ticked < Number(button.dataset.needsSelection);
  });
  const count = form.querySelector("[data-selection-count]");
  if (count) count.textContent = ticked === 0 ? "" : ticked === 1 ? "1 selected" : `${ticked} selected`;
}
document.addEventListener("change", (event) => {
  const form = event.target.closest("form");
  if (!form) return;
  const all = event.target.closest("[data-select-all]");
  if (all) form.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = all.checked; });
  if (all || event.target.name === "ids") updateSelection(form);
});
// A list that refreshes itself waits while rows are ticked (the ticks would be lost).
document.addEventListener("htmx:beforeRequest", (event) => {
  const list = event.target.closest && event.target.closest("[data-keep-when-ticked]");
  if (list && list.querySelector("input[name=ids]:checked")) event.preventDefault();
});
// A list redrawn by htmx (search, paging) starts with nothing ticked.
document.addEventListener("htmx:afterSwap", () => {
  document.querySelectorAll("form [data-needs-selection]").forEach((b) => updateSelection(b.form));
});
// One confirmation style everywhere: a button with data-confirm="question" asks in
// the Tabler modal of the layout (#confirm-modal) before its form is sent. The
// modal's button is named like the action ("Archive", "Delete endpoint") and is red
// when the action is (a danger button, or data-confirm-danger: cannot be undone). Without script the form is sent as it is.
let confirmedButton = null;
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.dataset.confirm;
  if (!message) return;
  if (confirmedButton === button) {
    confirmedButton = null;
    return;
  }
  event.preventDefault();
  const form = event.target;
  const modal = document.getElementById("confirm-modal");
  // Tabler's bundle exports Bootstrap's Modal as window.tabler.Modal.
  const Modal = (window.tabler && window.tabler.Modal) || (window.bootstrap && window.bootstrap.Modal);
  if (!modal || !Modal) {
    if (window.confirm(message)) {
      confirmedButton = button;
      form.requestSubmit(button);
    }
    return;
  }
  modal.querySelector("[data-confirm-message]").textContent = message;
  const ok = modal.querySelector("[data-confirm-ok]");
  ok.textContent = button.dataset.confirmAction || button.textContent.trim();
  const danger = /danger/.test(button.className) || "confirmDanger" in button.dataset;
  ok.className = danger ? "btn btn-danger" : "btn btn-primary";
  const dialog = Modal.getOrCreateInstance(modal);
  ok.onclick = () => {
    confirmedButton = button;
    dialog.hide();
    form.requestSubmit(button);
  };
  dialog.show();
});
// A filter box over a long table (installed software): hides rows without the text.
document.addEventListener("input", (event) => {
  const box = event.target.closest("[data-filter-rows]");
  if (!box) return;
  const needle = box.value.trim().toLowerCase();
  document.querySelectorAll(`${box.dataset.filterRows} tr`).forEach((row) => {
    row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
  });
});
// Copy buttons beside secrets shown once and commands: data-copy names the field.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  // An input's value, or the text of a <pre>/<code> block.
  const text = "value" in field ? field.value : field.textContent.trim();
  // Without clipboard access (plain http, a refused permission): select and copy.
  const fallback = () => {
    if ("select" in field) {
      field.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(field);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
    }
    document.execCommand("copy");
    done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else {
    fallback();
  }
});
// A CSV file chosen for import is read into the form's text box (data-csv-into),
// so the preview shows it and the form stays a plain form post.
document.addEventListener("change", (event) => {
  const input = event.target.closest("[data-csv-into]");
  if (!input || !input.files || !input.files[0]) return;
  const target = document.querySelector(input.dataset.csvInto);
  input.files[0].text().then((text) => { target.value = text; });
});
