// Small progressive enhancements; the portal works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // Language switch submits on change (the button stays for keyboard and no-JS users).
  document.querySelectorAll(".js-language-form select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
});
