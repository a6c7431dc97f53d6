// A button with data-confirm asks before its form is sent (members/show.html: revoking a card,
// removing a PIN; a tester did both by one mistaken tap). Cancel leaves the page as it is.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
});
