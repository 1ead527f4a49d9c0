/*
 * Autosave of a reviewer's draft review (loaded as an external file: the CSP forbids inline
 * scripts). When a score or a text changes, and every 20 seconds while something is unsaved,
 * the form is posted with fetch() to its data-review-autosave URL, with the CSRF token of
 * <meta name="csrf-token"> in X-CSRFToken. The server saves the valid fields as a draft, keeps
 * the stored value of the invalid ones, and answers {message, errors}; the message is shown
 * in #review-autosave-status. Sending the review stays the form's own « Envoyer l'évaluation ».
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-review-autosave]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-review-autosave");
  var statusZone = document.getElementById("review-autosave-status");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var dirty = false;
  var saving = false;
  var timer = null;

  function show(text) {
    if (statusZone && text) {
      statusZone.textContent = text;
    }
  }

  function save() {
    if (!dirty || saving) {
      return;
    }
    var failed = false;
    dirty = false;
    saving = true;
    var data = new FormData(form);
    data.delete("action");
    fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {"X-CSRFToken": tokenMeta ? tokenMeta.getAttribute("content") : "",
                "Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          show(answer.error || "Le brouillon n'a pas pu être enregistré automatiquement : " +
               "utilisez « Enregistrer le brouillon ».");
          return;
        }
        show(answer.message);
      });
    }).catch(function () {
      failed = true;
      show("Connexion perdue : le brouillon sera enregistré dès qu'elle reviendra.");
    }).then(function () {
      saving = false;
      if (dirty) {
        changed();  // a change came while saving
      }
      if (failed) {
        dirty = true;  // tried again by the interval
      }
    });
  }

  function changed() {
    dirty = true;
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(save, 1500);
  }

  form.addEventListener("change", function () {
    dirty = true;
    save();
  });
  form.addEventListener("input", changed);
  window.setInterval(save, 20000);
})();
