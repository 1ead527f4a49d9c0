/*
 * Form helpers for every page (loaded from base.html; no inline script, the CSP forbids it).
 *
 * - Character counter: a field with data-maxlength (templates/macros/forms.html) shows
 *   « 1 234 caractères sur 3 000 » as one types, « … : 12 de trop » past the limit; a polite
 *   live region repeats it for screen readers once the typing pauses. A text area shows it
 *   always; a one-line field (a name, a title) from 80 % of its limit on, its hint giving the
 *   limit until then. Nothing is ever cut: the server refuses a text too long and shows it back.
 * - Text areas (data-autogrow) grow with their content.
 * - A multiple select inside [data-multi-search] (the départements of an application) becomes
 *   a text filter and a list of check boxes that work on a phone and with the keyboard; the
 *   select stays in the form, hidden, and carries the value (without JavaScript it is shown).
 */
(function () {
  "use strict";

  function group(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  }

  function charCount(text) {
    // Line breaks count once and a character outside the BMP once, as on the server.
    return Array.from((text || "").replace(/\r\n?/g, "\n")).length;
  }

  function plural(n, word) {
    return n > 1 ? word + "s" : word;
  }

  /* Character counters ------------------------------------------------------------------ */

  function setUpCounter(field) {
    var limit = parseInt(field.getAttribute("data-maxlength"), 10);
    var counter = document.getElementById(field.id + "-counter");
    if (!limit || !counter) {
      return;
    }
    var live = document.createElement("p");
    live.className = "fr-sr-only";
    live.setAttribute("aria-live", "polite");
    live.id = field.id + "-counter-live";
    counter.parentNode.insertBefore(live, counter.nextSibling);
    counter.setAttribute("aria-hidden", "true");
    var threshold = field.tagName === "TEXTAREA" ? 0 : Math.floor(limit * 0.8);
    var timer = null;

    function text() {
      var count = charCount(field.value);
      if (count > limit) {
        return group(count) + " " + plural(count, "caractère") + " sur " + group(limit) + " : " +
          group(count - limit) + " de trop";
      }
      return group(count) + " " + plural(count, "caractère") + " sur " + group(limit);
    }

    function show() {
      var count = charCount(field.value);
      counter.textContent = text();
      counter.hidden = count < threshold;
      counter.classList.toggle("aap-counter--over", count > limit);
      return !counter.hidden;
    }

    function update() {
      var shown = show();
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        live.textContent = shown ? counter.textContent : "";
      }, 1000);
    }

    show();
    field.addEventListener("input", update);
    field.addEventListener("aap:refresh", update);
  }

  /* Text areas that grow ------------------------------------------------------------------- */

  function setUpAutogrow(area) {
    function fit() {
      area.style.height = "auto";
      area.style.height = (area.scrollHeight + 2) + "px";
    }
    area.addEventListener("input", fit);
    area.addEventListener("aap:refresh", fit);
    window.addEventListener("resize", fit);
    fit();
  }

  /* Searchable multiple select --------------------------------------------------------- */

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[-–'’\s]+/g, " ")
      .trim();
  }

  function setUpMultiSearch(wrapper) {
    var select = wrapper.querySelector("select[multiple]");
    var label = select && wrapper.querySelector('label[for="' + select.id + '"]');
    if (!select || !label) {
      return;
    }
    var base = select.id;
    var noun = wrapper.getAttribute("data-multi-search") || "élément";

    var search = document.createElement("input");
    search.type = "search";
    search.className = "fr-input fr-mb-1w";
    search.id = base + "-filtre";
    search.autocomplete = "off";
    search.setAttribute("aria-controls", base + "-liste");
    search.setAttribute("aria-describedby", base + "-resultat " + base + "-messages");

    var result = document.createElement("p");
    result.className = "fr-hint-text fr-mb-1w";
    result.id = base + "-resultat";
    result.setAttribute("aria-live", "polite");

    var list = document.createElement("div");
    list.className = "aap-multi-list";
    list.id = base + "-liste";
    list.setAttribute("role", "group");
    label.id = label.id || base + "-label";
    list.setAttribute("aria-labelledby", label.id);

    var summary = document.createElement("p");
    summary.className = "fr-text--sm fr-mt-1w fr-mb-0";
    summary.id = base + "-choisis";

    var boxes = [];
    Array.prototype.forEach.call(select.options, function (option, i) {
      var item = document.createElement("div");
      item.className = "fr-checkbox-group fr-checkbox-group--sm";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = base + "-choix-" + i;
      box.value = option.value;
      box.checked = option.selected;
      var boxLabel = document.createElement("label");
      boxLabel.className = "fr-label";
      boxLabel.htmlFor = box.id;
      boxLabel.textContent = option.text;
      item.appendChild(box);
      item.appendChild(boxLabel);
      list.appendChild(item);
      boxes.push({box: box, item: item, option: option, key: fold(option.text)});
      box.addEventListener("change", function (event) {
        // The check box has no name: the hidden select carries the value, and its own
        // change event (bubbling to the form) is the one the autosave hears.
        event.stopPropagation();
        option.selected = box.checked;
        showSummary();
        select.dispatchEvent(new Event("change", {bubbles: true}));
      });
    });

    function showSummary() {
      var chosen = boxes.filter(function (b) { return b.option.selected; });
      summary.textContent = chosen.length ?
        group(chosen.length) + " " + plural(chosen.length, noun) + " " + plural(chosen.length, "sélectionné") +
          " : " + chosen.map(function (b) { return b.option.text; }).join(", ") + "." :
        "Aucun " + noun + " sélectionné.";
    }

    function filter() {
      var words = fold(search.value).split(" ").filter(Boolean);
      var shown = 0;
      boxes.forEach(function (b) {
        var match = words.every(function (w) { return b.key.indexOf(w) !== -1; });
        b.item.hidden = !match;
        shown += match ? 1 : 0;
      });
      if (!words.length) {
        result.textContent = "Tapez un nom ou un numéro pour filtrer la liste, puis cochez.";
      } else if (shown === 0) {
        result.textContent = "Aucun " + noun + " ne correspond à « " + search.value.trim() + " ».";
      } else {
        result.textContent = group(shown) + " " + plural(shown, noun) + " " +
          (shown > 1 ? "correspondent" : "correspond") + " à « " + search.value.trim() + " ».";
      }
    }

    function sync() {
      boxes.forEach(function (b) { b.box.checked = b.option.selected; });
      showSummary();
    }

    ["input", "change"].forEach(function (type) {
      search.addEventListener(type, function (event) {
        event.stopPropagation(); // typing in the filter is not a change of the application
        if (type === "input") {
          filter();
        }
      });
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // Enter filters, it does not send the form
        var visible = boxes.filter(function (b) { return !b.item.hidden; });
        if (visible.length === 1) {
          visible[0].box.focus();
        }
      }
    });

    label.htmlFor = search.id;
    Array.prototype.forEach.call(wrapper.querySelectorAll("[data-nojs-hint]"), function (el) {
      el.hidden = true;
    });
    select.hidden = true;
    select.tabIndex = -1;
    select.parentNode.insertBefore(search, select);
    select.parentNode.insertBefore(result, select);
    select.parentNode.insertBefore(list, select);
    select.parentNode.insertBefore(summary, select);
    wrapper.classList.add("aap-multi-search--on");
    var form = select.form;
    if (form) {
      form.addEventListener("aap:restored", sync); // a draft put back from this browser's copy
    }
    filter();
    showSummary();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-maxlength]"), setUpCounter);
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-autogrow]"), setUpAutogrow);
    Array.prototype.forEach.call(document.querySelectorAll("[data-multi-search]"), setUpMultiSearch);
    document.addEventListener("aap:restored", function (event) {
      // Fields filled again by a script: counters and heights follow.
      Array.prototype.forEach.call(event.target.querySelectorAll("[data-maxlength], textarea[data-autogrow]"),
        function (el) { el.dispatchEvent(new Event("aap:refresh")); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
