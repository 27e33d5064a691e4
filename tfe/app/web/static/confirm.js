/* Forms with a data-confirm attribute ask before they are sent (the trash button of a document page):
 * the page's Content-Security-Policy allows no inline onsubmit handler, so the question lives here. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
