// Versicolor's dashboard: the little the pages do with JavaScript. Everything works without it.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  // Filters and result switches apply as soon as they change (their Apply buttons are hidden by the CSS).
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", (event) => {
      if (event.target.matches("select, input[type=radio], input[type=checkbox]")) form.requestSubmit();
    });
  }
});
