/*
 * Autosave of an application section (no framework; loaded as an external file: the CSP
 * forbids inline scripts).
 *
 * - Every 30 seconds and whenever a field changes (on blur), the form is posted with fetch()
 *   to its data-autosave-url, with the CSRF token of <meta name="csrf-token"> in X-CSRFToken.
 *   The server saves the valid fields this page changed (a three-way merge against the values
 *   the page loaded, see onAnswer) and answers what the page must show: invalid fields with
 *   their message, fields another member changed too (both texts, and a choice).
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
    // Counters, growing text areas and the list of départements follow (app/forms.js).
    form.dispatchEvent(new Event("aap:restored", {bubbles: true}));
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
      store.setItem(key, JSON.stringify({version: currentVersion(), at: Date.now(), values: values(),
                                         initial: initial}));
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

  // --- Answers of the server: the page follows the merge (services.save_section) ----------------
  // Per field, the page carries the digest of the value it loaded (input base-<field>); the server
  // writes only what this page changed, and answers, besides {version, saved_at_label}:
  // bases (fields the page now shows as stored), replace (conflicts settled for the stored
  // version: put it in the page), refresh (fields changed by someone else only: put in the page if
  // untouched since the post), errors (invalid fields, not saved: message next to each, typed text
  // kept) and, on a conflict, fields [{name, label, theirs, yours, by, seen}].

  function setBase(name, digest) {
    var input = form.querySelector('input[name="base-' + name + '"]');
    if (input) {
      input.value = digest;
    }
  }

  var GROUPS = [["fr-input-group", "fr-input-group--error"], ["fr-select-group", "fr-select-group--error"],
                ["fr-fieldset", "fr-fieldset--error"], ["fr-checkbox-group", "fr-checkbox-group--error"]];

  function markField(name, messages) {
    var el = form.querySelector('[name="' + name + '"]');
    if (!el) {
      return false;
    }
    var id = el.type === "radio" ? name : el.id;
    var zone = document.getElementById(id + "-messages");
    if (!zone) {
      return false;
    }
    Array.prototype.forEach.call(zone.querySelectorAll(".fr-message--error"), function (p) {
      zone.removeChild(p);
    });
    var invalid = messages && messages.length;
    (invalid ? messages : []).forEach(function (text) {
      var p = document.createElement("p");
      p.className = "fr-message fr-message--error";
      p.textContent = text;
      zone.appendChild(p);
    });
    // The field's own group only (not a fieldset around several fields).
    var group = zone.closest(GROUPS.map(function (pair) { return "." + pair[0]; }).join(","));
    GROUPS.forEach(function (pair) {
      if (group && group.classList.contains(pair[0])) {
        group.classList.toggle(pair[1], !!invalid);
      }
    });
    if (el.classList.contains("fr-input") || el.classList.contains("fr-select")) {
      el.classList.toggle(el.classList.contains("fr-input") ? "fr-input--error" : "fr-select--error", !!invalid);
    }
    if (invalid) {
      el.setAttribute("aria-invalid", "true");
    } else {
      el.removeAttribute("aria-invalid");
    }
    return true;
  }

  var marked = {};

  function showFieldErrors(errors) {
    Object.keys(marked).forEach(function (name) {
      if (!(name in errors)) {
        markField(name, []);
      }
    });
    // A field shown with a server message when the page was drawn, and valid now.
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid=true]"), function (el) {
      if (el.name && !(el.name in errors)) {
        markField(el.name, []);
      }
    });
    marked = {};
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var messages = Array.isArray(errors[name]) ? errors[name] : [String(errors[name])];
      if (name !== "_" && markField(name, messages)) {
        marked[name] = true;
      } else {
        unplaced.push((name === "_" ? "" : labelOf(name) + " : ") + messages[0]);
      }
    });
    return unplaced;
  }

  var shownConflicts = "";

  function conflictBox(fields, savedOthers) {
    var box = document.createElement("div");
    box.className = "fr-alert fr-alert--warning fr-alert--sm";
    box.setAttribute("role", "alert");
    box.id = "conflit-auto";
    var heading = document.createElement("p");
    heading.className = "fr-text--bold fr-mb-1w";
    var byOthers = fields.some(function (f) { return !f.mine; });
    heading.textContent = (byOthers ?
      "Un autre membre de l'association a modifié " + (fields.length > 1 ? "les mêmes champs" : "le même champ") +
        " que vous." :
      "Vous avez modifié " + (fields.length > 1 ? "ces champs" : "ce champ") +
        " aussi dans un autre onglet ou une autre fenêtre.") +
      " Rien n'a été écrasé" + (savedOthers ? " et vos autres modifications sont enregistrées" : "") +
      ". Comparez les deux textes et choisissez celui à garder :";
    box.appendChild(heading);
    fields.forEach(function (f) {
      var set = document.createElement("fieldset");
      set.className = "fr-fieldset aap-conflict";
      var legend = document.createElement("legend");
      legend.className = "fr-fieldset__legend";
      legend.textContent = f.label;
      set.appendChild(legend);
      [["enregistree", "Garder la version enregistrée" +
          (f.mine ? " depuis votre autre onglet" : (f.by ? " par " + f.by : "")), f.theirs, "theirs"],
       ["mienne", "Garder ma saisie (affichée dans le formulaire)", f.yours, "yours"]].forEach(function (option) {
        var element = document.createElement("div");
        element.className = "fr-fieldset__element";
        var group = document.createElement("div");
        group.className = "fr-radio-group";
        var input = document.createElement("input");
        input.type = "radio";
        input.name = "choix-" + f.name;
        input.value = option[0];
        input.id = "choix-auto-" + f.name + "-" + option[0];
        var label = document.createElement("label");
        label.className = "fr-label";
        label.htmlFor = input.id;
        label.textContent = option[1];
        group.appendChild(input);
        group.appendChild(label);
        element.appendChild(group);
        var text = document.createElement("div");
        text.className = "aap-conflict-text aap-conflict-" + option[3];
        text.textContent = option[2] || "(vide)";
        element.appendChild(text);
        set.appendChild(element);
      });
      var seen = document.createElement("input");
      seen.type = "hidden";
      seen.name = "vu-" + f.name;
      seen.value = f.seen;
      set.appendChild(seen);
      box.appendChild(set);
    });
    return box;
  }

  function showConflicts(fields, savedOthers) {
    var key = JSON.stringify(fields.map(function (f) { return [f.name, f.seen, f.yours]; }));
    if (key === shownConflicts || !alertZone) {
      return;
    }
    shownConflicts = key;
    alertZone.textContent = "";
    alertZone.appendChild(conflictBox(fields, savedOthers));
    alertZone.hidden = false;
    alertKind = "conflict";
  }

  function clearConflicts() {
    var drawn = document.getElementById("conflit");  // drawn by the server after a full post
    if (drawn) {
      drawn.parentNode.removeChild(drawn);
    }
    if (alertKind === "conflict") {
      hideAlert();
    }
    shownConflicts = "";
  }

  function onAnswer(data, sent) {
    if (data.version && versionInput) {
      versionInput.value = data.version;
    }
    var bases = data.bases || {};
    Object.keys(bases).forEach(function (name) { setBase(name, bases[name]); });
    var replace = data.replace || {};
    Object.keys(replace).forEach(function (name) {
      apply(replace[name].values);
      setBase(name, replace[name].base);
    });
    var refresh = data.refresh || {};
    var now = values();
    Object.keys(refresh).forEach(function (name) {
      var item = refresh[name];
      var untouched = Object.keys(item.values).every(function (n) { return same(now[n], sent[n]); });
      if (untouched) {
        apply(item.values);
        setBase(name, item.base);
      }
    });
    if (data.saved_at_label) {
      say(data.saved_at_label);
    }
    var unplaced = showFieldErrors(data.errors || {});
    if (data.conflict) {
      showConflicts(data.fields || [], (data.saved || []).length > 0);
    } else {
      clearConflicts();
      if (unplaced.length) {
        showAlert("error", "Ces champs n'ont pas été enregistrés :", unplaced);
      } else if (alertKind === "error") {
        hideAlert();
      }
    }
    if (data.errors) {
      dirty = true;  // try again at the next round: the typed text stays in the page
    }
    if (dirty || data.conflict) {
      keepLocal();
    } else {
      clearLocal();
    }
  }

  function save() {
    if (saving) {
      again = true;
      return;
    }
    if (!dirty) {
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
    var sent = values();
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
        onAnswer(data, sent);
        if (again) {
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

  var MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                "octobre", "novembre", "décembre"];

  // « 3 décembre 2026 à 14 h 05 », Paris time: the site's format (aap/timeutil.py format_datetime).
  function frenchDateTime(date) {
    var parts = {};
    try {
      new Intl.DateTimeFormat("fr-FR", {timeZone: "Europe/Paris", year: "numeric", month: "numeric",
                                        day: "numeric", hour: "numeric", minute: "numeric", hourCycle: "h23"})
        .formatToParts(date).forEach(function (p) { parts[p.type] = parseInt(p.value, 10); });
    } catch (e) {
      parts = {day: date.getDate(), month: date.getMonth() + 1, year: date.getFullYear(),
               hour: date.getHours(), minute: date.getMinutes()};
    }
    return (parts.day === 1 ? "1er" : parts.day) + " " + MONTHS[parts.month - 1] + " " + parts.year + " à " +
      parts.hour + " h " + (parts.minute < 10 ? "0" : "") + parts.minute;
  }

  // What the local copy holds that was typed in that page and is not in this one: the fields
  // changed from what that page had loaded, with the bases of that page (so that the server merges
  // them against what that page had loaded, not against what this one shows); null if none.
  function typedOnly(local) {
    var now = values();
    var out = {};
    var typed = false;
    Object.keys(local.values).forEach(function (name) {
      var value = local.values[name];
      if (name.indexOf("base-") === 0) {
        out[name] = value;
      } else if (name.indexOf("choix-") === 0 || name.indexOf("vu-") === 0) {
        return;
      } else if ((!local.initial || !same(value, local.initial[name])) && !same(value, now[name])) {
        out[name] = value;
        typed = true;
      }
    });
    return typed ? out : null;
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
    local.values = typedOnly(local);
    if (!local.values) {
      clearLocal();
      return;
    }
    var when = new Date(local.at || Date.now());
    var at = frenchDateTime(when);
    if ((local.version || 0) >= currentVersion()) {
      apply(local.values);
      dirty = true;
      showAlert("info", "Votre saisie du " + at + " n'avait pas été enregistrée (session expirée ou connexion " +
        "perdue). Ce navigateur en avait gardé une copie : nous l'avons remise dans le formulaire et nous " +
        "l'enregistrons maintenant. Relisez-la avant de continuer.", []);
      save();
    } else {
      showAlert("info", "Ce navigateur a gardé une copie de votre saisie du " + at + ", qui n'a pas été " +
        "enregistrée. Depuis, un membre de l'association a modifié ce dossier : le formulaire montre sa version. " +
        "Vous pouvez remettre votre saisie à la place, ou l'ignorer.", [], [
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
  // The choices of a conflict drawn by the server after a full post (outside the form, tied to
  // it by their form attribute) are saved as soon as they are made.
  var drawnConflict = document.getElementById("conflit");
  if (drawnConflict) {
    drawnConflict.addEventListener("change", function () {
      dirty = true;
      save();
    });
  }
  var initial = values();
  window.setInterval(save, INTERVAL);
  restoreIfNewer();
}());
