/*
 * The association's identity (templates/associations/identity.html): only the identifier fields
 * of the chosen legal form are shown (RNA; register of the tribunal judiciaire; decree or
 * prefectural authorisation). Each group names its forms in data-legal-forms; without
 * JavaScript every group is shown, and the server ignores the fields another form has.
 */
(function () {
  "use strict";

  function update(select) {
    var form = select.value;
    document.querySelectorAll("[data-legal-forms]").forEach(function (group) {
      var forms = group.getAttribute("data-legal-forms").split(" ");
      group.hidden = forms.indexOf(form) === -1;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("select[data-legal-form]");
    if (!select) {
      return;
    }
    select.addEventListener("change", function () { update(select); });
    update(select);
  });
})();
