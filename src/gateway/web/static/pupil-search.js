// Filters the pupil picker (templates/pupil_picker.html) as the admin types. Served from the gateway
// itself, so the pages' CSP (default-src 'self') allows it; the picker works without it (its Find button
// asks the server). Same rule as consent.choices.pupil_matches: every word, in any case; ticked pupils stay.
(function () {
  "use strict";
  function words(text) {
    return text.toLocaleLowerCase().split(/\s+/).filter(function (word) { return word.length > 0; });
  }
  function setUp(picker) {
    var search = picker.querySelector("input[type=search]");
    var find = picker.querySelector("button[name=find_pupils]");
    var count = picker.querySelector("[data-total]");
    var rows = Array.prototype.slice.call(picker.querySelectorAll(".pupil-list .check"));
    if (!search || !count) { return; }
    function filter() {
      var wanted = words(search.value);
      var shown = 0;
      rows.forEach(function (row) {
        var box = row.querySelector("input");
        var text = row.textContent.toLocaleLowerCase();
        var visible = box.checked || wanted.every(function (word) { return text.indexOf(word) !== -1; });
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      count.textContent = wanted.length
        ? shown + " of " + count.dataset.total + " pupils shown (matching “" + search.value.trim() + "”, and any ticked)."
        : count.dataset.total + " pupils.";
    }
    search.addEventListener("input", filter);
    // Enter in the search box filters here instead of sending the form.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); filter(); }
    });
    if (find) { find.hidden = true; }
  }
  document.querySelectorAll("[data-pupil-picker]").forEach(setUp);
})();
