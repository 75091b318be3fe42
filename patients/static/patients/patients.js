// Inclusion form: show the standard drinks -> grams conversion as the prescriber types.
document.addEventListener("DOMContentLoaded", () => {
  const drinks = document.querySelector(".js-drinks");
  const out = document.querySelector(".js-conversion");
  if (!drinks || !out) return;
  const update = () => {
    const value = parseFloat(String(drinks.value).replace(",", "."));
    out.textContent = Number.isFinite(value) && value >= 0
      ? out.dataset.template.replace("{grams}", String(Math.round(value * 10)))
      : "";
  };
  drinks.addEventListener("input", update);
  update();
});
