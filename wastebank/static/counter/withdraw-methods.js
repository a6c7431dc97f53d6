// The withdrawal form (penarikan): the chosen method's tile is marked and only its own fields
// (transfer reference, donation beneficiary, goods table) show. A file rather than an inline
// script: the Content-Security-Policy runs scripts from this origin's files only.
(function () {
  "use strict";
  var form = document.getElementById("withdraw-form");
  if (!form) { return; }
  function show() {
    var checked = form.querySelector("input[name=method]:checked");
    var method = checked ? checked.value : "cash";
    form.querySelectorAll("label.tile").forEach(function (t) { t.classList.toggle("on", t.dataset.method === method); });
    form.querySelectorAll(".detail").forEach(function (d) { d.hidden = d.dataset.for !== method; });
  }
  form.addEventListener("change", show);
  show();
})();
