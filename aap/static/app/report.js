/*
 * The compte rendu financier of a yearly report (templates/followup/report.html): as an achieved
 * amount is typed, its gap to the granted amount is shown (euros and %) and the explanation field
 * appears when the gap is over the limit (15 %), either way. The server computes the same
 * (aap/followup/reports.py FinancialRow) and requires the explanation before submission.
 */
(function () {
  "use strict";

  var zone = document.getElementById("aap-fin");
  if (!zone) {
    return;
  }
  var euros = new Intl.NumberFormat("fr-FR", {style: "currency", currency: "EUR"});

  function cents(text) {
    var clean = (text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (clean === "" || isNaN(Number(clean))) {
      return null;
    }
    return Math.round(Number(clean) * 100);
  }

  function update(row) {
    var input = row.querySelector("input");
    var gapZone = row.querySelector(".aap-fin-gap");
    var explain = row.querySelector(".aap-fin-explain");
    var granted = parseInt(row.getAttribute("data-granted"), 10) || 0;
    var limit = parseInt(row.getAttribute("data-gap-limit"), 10) || 15;
    var achieved = cents(input && input.value);
    if (achieved === null) {
      gapZone.textContent = "";
      return;
    }
    var gap = achieved - granted;
    var text = "Écart : " + (gap > 0 ? "+" : "") + euros.format(gap / 100);
    if (granted) {
      var percent = Math.round(gap * 1000 / granted) / 10;
      text += " (" + (percent > 0 ? "+" : "") + String(percent).replace(".", ",") + " %)";
    }
    var over = gap !== 0 && (!granted || Math.abs(gap) * 100 > limit * granted);
    if (over) {
      text += " — plus de " + limit + " % : à expliquer";
    }
    gapZone.textContent = text;
    if (explain && over) {
      explain.hidden = false;
    }
  }

  Array.prototype.forEach.call(zone.querySelectorAll(".aap-fin-row"), function (row) {
    var input = row.querySelector("input");
    if (input) {
      input.addEventListener("input", function () { update(row); });
    }
  });
}());
