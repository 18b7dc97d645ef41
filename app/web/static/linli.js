// Dashboard behaviour asked for with data attributes: the Content-Security-Policy refuses inline handlers.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
document.addEventListener("change", function (event) {
  var selector = event.target.getAttribute("data-check-all");
  if (!selector) {
    return;
  }
  document.querySelectorAll(selector).forEach(function (box) {
    box.checked = event.target.checked;
  });
});
