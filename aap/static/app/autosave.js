/*
 * Autosave of an application section (no framework; loaded as an external file: the CSP
 * forbids inline scripts).
 *
 * - Every 30 seconds and whenever a field changes (on blur), the form is posted with fetch()
 *   to its data-autosave-url, with the CSRF token of <meta name="csrf-token"> in X-CSRFToken.
 *   The server answers {ok, version, saved_at_label}, {conflict, theirs, fields, version}
 *   or {errors}.
 * - Every keystroke is also kept in localStorage, so that text typed after the session expired
 *   survives a new login: when the form is shown again and the local copy is newer than the
 *   server's version, it is put back into the form and the user is told.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch) {
    return;
  }
  var url = form.getAttribute("data-autosave-url");
  var statusZone = document.getElementById("autosave-status");
  var alertZone = document.getElementById("autosave-alert");
  var versionInput = form.querySelector("input[name=version]");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var key = ["aap-brouillon", form.getAttribute("data-user"), form.getAttribute("data-application"),
             form.getAttribute("data-section")].join(":");
  var INTERVAL = 30000;
  var dirty = false;
  var saving = false;
  var again = false; // a change came while a save was on its way: save again right after it
  var paused = false;
  var alertKind = null;

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function currentVersion() {
    return parseInt(versionInput && versionInput.value, 10) || 0;
  }

  function fieldElements() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "version" && el.name !== "action" &&
        el.type !== "submit" && el.type !== "button" && el.type !== "file";
    });
  }

  function values() {
    var out = {};
    fieldElements().forEach(function (el) {
      if (el.type === "checkbox") {
        out[el.name] = el.checked;
      } else if (el.type === "radio") {
        if (el.checked) {
          out[el.name] = el.value;
        } else if (!(el.name in out)) {
          out[el.name] = "";
        }
      } else if (el.multiple) {
        out[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  }

  function apply(saved) {
    fieldElements().forEach(function (el) {
      if (!(el.name in saved)) {
        return;
      }
      var value = saved[el.name];
      if (el.type === "checkbox") {
        el.checked = !!value;
      } else if (el.type === "radio") {
        el.checked = el.value === value;
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = Array.isArray(value) && value.indexOf(o.value) !== -1;
        });
      } else {
        el.value = value;
      }
    });
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function keepLocal() {
    var store = storage();
    if (!store) {
      return;
    }
    try {
      store.setItem(key, JSON.stringify({version: currentVersion(), at: Date.now(), values: values()}));
    } catch (e) {
      /* storage full or disabled: the server copy is all we have */
    }
  }

  function readLocal() {
    var store = storage();
    if (!store) {
      return null;
    }
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function clearLocal() {
    var store = storage();
    if (store) {
      store.removeItem(key);
    }
  }

  function say(text) {
    if (statusZone) {
      statusZone.textContent = text;
    }
  }

  function showAlert(kind, title, lines, buttons) {
    if (!alertZone) {
      return;
    }
    alertZone.textContent = "";
    var box = document.createElement("div");
    box.className = "fr-alert fr-alert--" + kind + " fr-alert--sm";
    box.setAttribute("role", kind === "info" ? "status" : "alert");
    var heading = document.createElement("p");
    heading.className = "fr-text--bold fr-mb-1w";
    heading.textContent = title;
    box.appendChild(heading);
    if (lines.length) {
      var list = document.createElement("ul");
      lines.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    (buttons || []).forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "fr-btn fr-btn--sm fr-btn--secondary fr-mt-1w fr-mr-1w";
      button.textContent = spec.label;
      button.addEventListener("click", spec.action);
      box.appendChild(button);
    });
    alertZone.appendChild(box);
    alertZone.hidden = false;
    alertKind = kind;
  }

  function hideAlert() {
    if (alertZone) {
      alertZone.textContent = "";
      alertZone.hidden = true;
    }
    alertKind = null;
  }

  function labelOf(name) {
    var el = form.querySelector('[name="' + name + '"]');
    if (!el) {
      return name;
    }
    var label = el.id ? form.querySelector('label[for="' + el.id + '"]') : null;
    return label ? label.firstChild.textContent.trim() : name;
  }

  function onAnswer(data) {
    if (data.ok) {
      if (versionInput) {
        versionInput.value = data.version;
      }
      say(data.saved_at_label);
      if (dirty) {
        keepLocal();
      } else {
        clearLocal();
      }
      return;
    }
    if (data.conflict) {
      paused = true;
      keepLocal();
      say("Brouillon non enregistré : un autre membre a modifié ce formulaire.");
      showAlert("warning", "Un autre membre de l'association a modifié ces champs. Votre saisie est conservée " +
        "dans le formulaire : cliquez sur « Enregistrer le brouillon » pour comparer les deux versions et choisir.",
        (data.fields || []).map(function (f) {
          return f.label + " — version enregistrée" + (f.by ? " par " + f.by : "") + " : « " + f.theirs +
            " » ; votre saisie : « " + f.yours + " »";
        }));
      return;
    }
    if (data.errors) {
      dirty = true;
      keepLocal();
      var lines = Object.keys(data.errors).map(function (name) {
        var messages = data.errors[name];
        return (name === "_" ? "" : labelOf(name) + " : ") + (Array.isArray(messages) ? messages[0] : messages);
      });
      say("Brouillon non enregistré : corrigez les champs signalés.");
      showAlert("error", "Le brouillon n'a pas été enregistré automatiquement :", lines);
    }
  }

  function save() {
    if (saving) {
      again = true;
      return;
    }
    if (paused || !dirty) {
      return;
    }
    saving = true;
    again = false;
    dirty = false;
    var headers = {"Accept": "application/json"};
    if (tokenMeta) {
      headers["X-CSRFToken"] = tokenMeta.getAttribute("content");
    }
    say("Enregistrement du brouillon…");
    fetch(url, {method: "POST", body: new FormData(form), headers: headers, credentials: "same-origin",
                redirect: "manual"})
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("not saved");
        }
        return response.json();
      })
      .then(function (data) {
        if (data.ok && alertKind === "error") {
          hideAlert();
        }
        onAnswer(data);
        if (data.ok && again) {
          window.setTimeout(save, 0);
        }
      })
      .catch(function () {
        dirty = true;
        keepLocal();
        say("Enregistrement impossible pour le moment (session expirée ou connexion perdue). Votre saisie " +
            "est gardée dans ce navigateur : reconnectez-vous, elle sera remise dans le formulaire.");
      })
      .then(function () {
        saving = false;
      });
  }

  function restoreIfNewer() {
    var local = readLocal();
    if (!local || !local.values) {
      return;
    }
    if (same(local.values, values())) {
      clearLocal();
      return;
    }
    var when = new Date(local.at || Date.now());
    var at = when.toLocaleDateString("fr-FR") + " à " +
      when.toLocaleTimeString("fr-FR", {hour: "2-digit", minute: "2-digit"});
    if ((local.version || 0) >= currentVersion()) {
      apply(local.values);
      dirty = true;
      showAlert("info", "Nous avons remis dans le formulaire le texte saisi le " + at + " dans ce navigateur, " +
        "qui n'avait pas pu être enregistré (session expirée ou connexion perdue). Vérifiez-le : il va être " +
        "enregistré automatiquement.", []);
      save();
    } else {
      showAlert("info", "Ce navigateur garde une saisie du " + at + " qui n'a pas été enregistrée, mais le " +
        "dossier a été modifié depuis par un membre de l'association.", [], [
          {label: "Remettre ma saisie dans le formulaire", action: function () {
            apply(local.values);
            dirty = true;
            hideAlert();
            save();
          }},
          {label: "L'ignorer", action: function () {
            clearLocal();
            hideAlert();
          }}
        ]);
    }
  }

  form.addEventListener("input", function () {
    dirty = true;
    keepLocal();
  });
  form.addEventListener("change", function () {
    dirty = true;
    keepLocal();
    save();
  });
  form.addEventListener("submit", function () {
    keepLocal();
  });
  window.setInterval(save, INTERVAL);
  restoreIfNewer();
}());
