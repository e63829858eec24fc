/* Search box and state filter of the index: plain DOM, no server, no libraries (works from file://). */
(function () {
  "use strict";
  var table = document.getElementById("datasets");
  if (!table) { return; }
  var search = document.getElementById("search");
  var state = document.getElementById("state");
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = state.value;
    var count = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute("data-search");
      var ok = (!wanted || row.getAttribute("data-state") === wanted) &&
        words.every(function (w) { return text.indexOf(w) !== -1; });
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
    none.hidden = count !== 0;
  }
  search.addEventListener("input", apply);
  state.addEventListener("change", apply);
  var params = new URLSearchParams(window.location.search);
  if (params.get("q")) { search.value = params.get("q"); }
  if (params.get("state")) { state.value = params.get("state"); }
  apply();
}());
