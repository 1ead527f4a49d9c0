// Selection pages: a "check all" box toggles every checkbox of the form with the given name.
(function () {
  "use strict";
  document.querySelectorAll("input[data-check-all]").forEach(function (master) {
    var name = master.getAttribute("data-check-all");
    var scope = master.form || document;
    master.addEventListener("change", function () {
      scope.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
        if (!box.disabled) { box.checked = master.checked; }
      });
    });
  });
})();
