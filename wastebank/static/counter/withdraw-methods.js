// The withdrawal form (penarikan): the chosen method's tile is marked and only its own fields
// (transfer reference, donation beneficiary, gold savings, bill payment, goods table) show; for
// a bill, the chosen kind's tile is marked, its usual provider suggested, and the token box
// shown for electricity only. A file rather than an inline script: the Content-Security-Policy
// runs scripts from this origin's files only.
(function () {
  "use strict";
  var form = document.getElementById("withdraw-form");
  if (!form) { return; }
  function show() {
    var checked = form.querySelector("input[name=method]:checked");
    var method = checked ? checked.value : "cash";
    form.querySelectorAll("label.tile[data-method]").forEach(function (t) { t.classList.toggle("on", t.dataset.method === method); });
    form.querySelectorAll(".detail").forEach(function (d) { d.hidden = d.dataset.for !== method; });
    var kind = form.querySelector("input[name=bill_kind]:checked");
    var code = kind ? kind.value : "electricity";
    form.querySelectorAll("label.tile[data-kind]").forEach(function (t) {
      t.classList.toggle("on", t.dataset.kind === code);
      if (t.dataset.kind === code) {
        var provider = form.querySelector("[name=bill_provider]");
        if (provider) { provider.placeholder = t.dataset.provider; }
      }
    });
    var token = form.querySelector(".token-box");
    if (token) { token.hidden = code !== "electricity"; }
  }
  form.addEventListener("change", show);
  show();
})();
