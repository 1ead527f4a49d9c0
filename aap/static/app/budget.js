/* The project budget (templates/applications/_budget.html): totals kept up to date as the
   association types. The server renders the same figures on load (aap/applications/budget.py:
   totals, difference_text, share_text); this file only recomputes them from the inputs.
   An amount that cannot be read yet (« 12 5x ») counts for nothing until it is corrected; the
   server says what is wrong with it when the draft is saved. */
(function () {
  "use strict";

  var root = document.querySelector("[data-budget]");
  if (!root) { return; }

  var SIDES = ["charges", "products", "kind_charges", "kind_products"];

  // « 42 500,50 € » -> 4250050 cents; "" -> 0; null when it cannot be read.
  function cents(text) {
    var t = (text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (t === "") { return 0; }
    if (!/^\+?(\d+(\.\d{0,2})?|\.\d{1,2})$/.test(t)) { return null; }
    var parts = t.split(".");
    return parseInt(parts[0] || "0", 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  // 4250050 -> « 42 500,50 € » (as aap/money.format_euros: narrow no-break spaces, cents when any).
  function euros(value) {
    var negative = value < 0;
    value = Math.abs(value);
    var whole = Math.floor(value / 100), rest = value % 100;
    var text = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    if (rest) { text += "," + (rest < 10 ? "0" : "") + rest; }
    return (negative ? "-" : "") + text + "\u00a0€";
  }

  function gapText(difference) {
    if (difference === 0) { return "Budget équilibré"; }
    if (difference < 0) { return "Il manque " + euros(-difference) + " de produits"; }
    return "Les produits dépassent les charges de " + euros(difference);
  }

  // The grant's share of the cost, in tenths of a percent, rounded half up (as budget.share_text).
  function shareText(grant, charges) {
    if (!charges) { return "—"; }
    var tenths = Math.floor((grant * 2000 + charges) / (2 * charges));
    return Math.floor(tenths / 10) + "," + (tenths % 10) + "\u00a0%";
  }

  function empty() {
    var sums = { grant: 0 };
    SIDES.forEach(function (side) { sums[side] = 0; });
    return sums;
  }

  function recompute() {
    var years = {}, lines = {}, all = empty();
    root.querySelectorAll("input[data-budget-line]").forEach(function (input) {
      var year = input.getAttribute("data-budget-year");
      var line = input.getAttribute("data-budget-line");
      var side = input.getAttribute("data-budget-side");
      var value = cents(input.value);
      if (value === null) { value = 0; }
      years[year] = years[year] || empty();
      years[year][side] += value;
      all[side] += value;
      if (line === "74_aap") { years[year].grant += value; all.grant += value; }
      lines[line] = (lines[line] || 0) + value;
    });
    years.all = all;
    root.querySelectorAll("[data-budget-out]").forEach(function (out) {
      var kind = out.getAttribute("data-budget-out");
      var sums = years[out.getAttribute("data-budget-year")];
      if (kind === "line") {
        var total = lines[out.getAttribute("data-budget-line")] || 0;
        out.textContent = total ? euros(total) : "";
      } else if (!sums) {
        return;
      } else if (kind === "difference") {
        var difference = sums.products - sums.charges;
        var blank = sums.products === 0 && sums.charges === 0;   // nothing typed yet (as budget.balance_text)
        out.textContent = blank ? "—" : gapText(difference);
        out.classList.toggle("aap-budget__gap--ok", !blank && difference === 0);
        out.classList.toggle("aap-budget__gap--ko", !blank && difference !== 0);
      } else if (kind === "share") {
        out.textContent = shareText(sums.grant, sums.charges);
      } else if (SIDES.indexOf(kind) >= 0) {
        out.textContent = euros(sums[kind]);
      }
    });
  }

  root.addEventListener("input", recompute);
  recompute();
})();
