// Counter: category tiles add a line; line values update as the weight is typed.
// The figures shown here are an estimate; the server recomputes them (SPEC §3 "Line value")
// and the confirmation step shows the exact amounts before anything is saved.
(function () {
  "use strict";
  var form = document.getElementById("deposit-form");
  var saveForm = document.getElementById("confirm-form");
  if (saveForm) {
    // One tap saves once: the idempotency key makes a second submit harmless, but do not send it.
    saveForm.addEventListener("submit", function (event) {
      if (saveForm.dataset.sent) { event.preventDefault(); return; }
      saveForm.dataset.sent = "1";
      var submitter = event.submitter;
      if (submitter && submitter.name === "action") {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "action"; hidden.value = submitter.value;
        saveForm.appendChild(hidden);
      }
      Array.prototype.forEach.call(saveForm.querySelectorAll("button"), function (b) { b.disabled = true; });
    });
  }
  if (!form) { return; }
  var locale = form.dataset.locale || "id";
  var body = document.getElementById("lines");
  var template = document.getElementById("line-template");
  var totalCell = document.getElementById("total");

  function formatIdr(n) {
    var s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, locale === "en" ? "," : ".");
    return (n < 0 ? "-" : "") + "Rp " + s;
  }

  // Sub-units per unit of measure, as in money._SUB_UNITS: factor to thousandths.
  var SUB_UNITS = {
    kg: { kg: 1000, g: 1, gr: 1, gram: 1 },
    L: { l: 1000, liter: 1000, litre: 1000, ml: 1 },
    pcs: { pcs: 1000, pc: 1000, buah: 1000 }
  };
  // The smaller unit a line can switch to with its unit button.
  var SMALL = { kg: "g", L: "ml" };

  // Mirror of money.parse_quantity for the estimate: thousandths, or null when not valid.
  function parseMilli(text, unit) {
    var raw = (text || "").trim().toLowerCase();
    var factor = 1000;
    var m = raw.match(/^(.*?)\s*([a-z]+)$/);
    if (m) {
      var table = SUB_UNITS[unit] || {};
      if (!(m[2] in table)) { return null; }
      raw = m[1].trim(); factor = table[m[2]];
    }
    if ((raw.match(/[.,]/g) || []).length > 1) { return null; }
    var n = raw.match(/^(\d+)(?:[.,](\d{1,3}))?$/);
    if (!n) { return null; }
    if (factor === 1 && n[2]) { return null; }
    var milli = (parseInt(n[1], 10) * 1000 + parseInt((n[2] || "").padEnd(3, "0") || "0", 10)) * factor / 1000;
    return milli > 0 ? milli : null;
  }

  function update() {
    var total = 0;
    Array.prototype.forEach.call(body.querySelectorAll("tr.line"), function (row) {
      var select = row.querySelector("select.cat");
      var option = select.options[select.selectedIndex];
      var price = option && option.dataset.price ? parseInt(option.dataset.price, 10) : 0;
      var unit = option && option.dataset.unit ? option.dataset.unit : "";
      var toggle = row.querySelector(".unit");
      var small = toggle.dataset.small === "1" && SMALL[unit];
      if (!SMALL[unit]) { toggle.dataset.small = ""; small = false; }
      var typed = row.querySelector("input.quantity").value;
      var hasSuffix = /[a-z]\s*$/i.test(typed);
      toggle.textContent = hasSuffix ? "" : (small || unit);
      toggle.disabled = !SMALL[unit] || hasSuffix;
      row.querySelector(".price").textContent = price ? formatIdr(price) + "/" + unit : "";
      var milli = parseMilli(small && !hasSuffix && typed.trim() ? typed + " " + small : typed, unit || "kg");
      var amountCell = row.querySelector(".amount");
      if (price && milli) {
        var amount = Math.floor((2 * milli * price + 1000) / 2000); // half up, integers only
        amountCell.textContent = formatIdr(amount);
        total += amount;
      } else {
        amountCell.textContent = "";
      }
    });
    totalCell.textContent = formatIdr(total);
  }

  function addRow(code) {
    var rows = body.querySelectorAll("tr.line");
    var last = rows[rows.length - 1];
    var target = null;
    if (last && !last.querySelector("select.cat").value && !last.querySelector("input.quantity").value) {
      target = last;
    } else {
      var index = 0;
      Array.prototype.forEach.call(rows, function (r) { index = Math.max(index, parseInt(r.dataset.index, 10) + 1); });
      var html = template.innerHTML.replace(/__i__/g, String(index));
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      target = holder.firstElementChild;
      body.appendChild(target);
    }
    if (code) { target.querySelector("select.cat").value = code; }
    update();
    target.querySelector("input.quantity").focus();
  }

  document.querySelectorAll(".tile").forEach(function (tile) {
    tile.addEventListener("click", function () { addRow(tile.dataset.code); });
  });
  body.addEventListener("input", update);
  body.addEventListener("change", update);
  // Before sending, a line switched to grams/millilitres carries its suffix ("750 g").
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(body.querySelectorAll("tr.line"), function (row) {
      var toggle = row.querySelector(".unit");
      var input = row.querySelector("input.quantity");
      var option = row.querySelector("select.cat").selectedOptions[0];
      var small = option && SMALL[option.dataset.unit];
      if (toggle.dataset.small === "1" && small && input.value.trim() && !/[a-z]\s*$/i.test(input.value)) {
        input.value = input.value.trim() + " " + small;
      }
    });
  });
  body.addEventListener("click", function (event) {
    if (event.target.classList.contains("unit")) {
      event.target.dataset.small = event.target.dataset.small === "1" ? "" : "1";
      update();
      event.target.closest("tr.line").querySelector("input.quantity").focus();
      return;
    }
    if (event.target.classList.contains("remove")) {
      var row = event.target.closest("tr.line");
      if (body.querySelectorAll("tr.line").length > 1) { row.remove(); }
      else { row.querySelector("select.cat").value = ""; row.querySelector("input.quantity").value = ""; }
      update();
    }
  });
  update();
})();
