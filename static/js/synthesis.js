// Synthesis pages: progressive enhancement only (every form works without
// this file). Changing a filter applies it at once; the button stays for
// keyboard and screen-reader users who prefer to choose several first.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("synth-filters");
  if (!form) { return; }
  form.classList.add("js-live");
  Array.prototype.forEach.call(form.querySelectorAll("select"), function (sel) {
    sel.addEventListener("change", function () {
      if (form.dataset.auto === "off") { return; }
      form.submit();
    });
  });
});
