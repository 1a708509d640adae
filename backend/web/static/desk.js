// Cash desk: a money form is sent once. A second click while the first post is on its
// way is ignored here; the server posts once anyway (the form's operation id is unique).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("desk-money")) { return; }
  if (form.dataset.sent === "yes") { event.preventDefault(); return; }
  form.dataset.sent = "yes";
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
  });
});
