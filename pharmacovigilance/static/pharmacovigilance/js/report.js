// Adverse-event forms: progressive enhancement only, the forms work without JavaScript.
(() => {
  const OTHER = "other";

  function setup(form) {
    form.querySelectorAll(".pv-js-only").forEach((el) => { el.hidden = false; });

    const term = form.querySelector("select[name='term']");
    const otherBlock = form.querySelector(".pv-other-term");
    const syncOther = () => {
      if (term && otherBlock) otherBlock.hidden = term.value !== OTHER;
    };

    const criteria = form.querySelector(".pv-criteria");
    const syncCriteria = () => {
      const chosen = form.querySelector("input[name='serious']:checked");
      // Never hide a ticked criterion: the reporter must see what will be sent.
      const ticked = criteria && criteria.querySelector("input:checked");
      if (criteria) criteria.hidden = (!chosen || chosen.value !== "yes") && !ticked;
    };

    if (term) term.addEventListener("change", syncOther);
    form.querySelectorAll("input[name='serious']").forEach((radio) => {
      radio.addEventListener("change", syncCriteria);
    });
    // The search box replaces the select's options (htmx): re-check the "other" block.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target === term) syncOther();
    });
    syncOther();
    syncCriteria();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".pv-report-form").forEach(setup);
  });
})();
