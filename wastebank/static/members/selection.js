// Members list (members/index.html): the sticky bar under the list says how many members are
// ticked for the card sheet, so the manager sees the choice without scrolling back. Without
// JavaScript the bar shows only its print button.
const form = document.getElementById("selection");
const count = document.getElementById("selection-count");

function show() {
  const ticked = form.querySelectorAll("input[name=member_id]:checked").length;
  count.textContent = ticked ? count.dataset.some.replace("{count}", String(ticked)) : count.dataset.none;
  count.hidden = false;
}

if (form && count) {
  form.addEventListener("change", show);
  window.addEventListener("pageshow", show);  // the browser's back button restores ticked boxes
  show();
}
