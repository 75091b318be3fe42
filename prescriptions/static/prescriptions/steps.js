// Fill the step rows from a plan sent by the server in the HX-Trigger header ("stepsPlanned").
// The inputs are filled in place (new rows are cloned from existing ones) rather than swapped
// in as HTML: inputs parsed by htmx would trip the strict CSP (inline styles of their shadow DOM).
(() => {
  function rowsOf(prefix) {
    return Array.from(document.querySelectorAll(`tr[data-step-row="${prefix}"]`));
  }

  function renumber(row, prefix, index) {
    row.querySelectorAll("input, label").forEach((el) => {
      ["name", "id", "for"].forEach((attr) => {
        const value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(new RegExp(`${prefix}-\\d+-`), `${prefix}-${index}-`));
      });
    });
    row.querySelectorAll(".js-row-number").forEach((el) => { el.textContent = String(index + 1); });
  }

  document.addEventListener("stepsPlanned", (event) => {
    const plan = event.detail || {};
    const prefix = plan.prefix || "steps";
    const message = document.getElementById(`${prefix}-plan-error`);
    if (message) message.textContent = plan.error || "";
    if (plan.error) return;
    const steps = plan.steps || [];
    let rows = rowsOf(prefix);
    if (!rows.length) return;
    while (rows.length < steps.length + 1) {
      const clone = rows[rows.length - 1].cloneNode(true);
      renumber(clone, prefix, rows.length);
      rows[rows.length - 1].after(clone);
      rows = rowsOf(prefix);
    }
    rows.forEach((row, index) => {
      const [day, dose] = steps[index] || ["", ""];
      row.querySelector('input[name$="-start_date"]').value = day;
      row.querySelector('input[name$="-daily_dose_mg"]').value = dose === "" ? "" : String(dose);
      row.querySelectorAll(".text-danger").forEach((el) => el.remove());
    });
    const total = document.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
    if (total) total.value = String(rows.length);
    if (plan.stop_date) {
      const stopDate = document.querySelector('input[name="stop_date"]');
      if (stopDate) stopDate.value = plan.stop_date;
    }
    // Ask the rules again (the form's htmx trigger listens for "change").
    const last = rows[0].querySelector("input");
    if (last) last.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
