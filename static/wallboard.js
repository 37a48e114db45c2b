// 现场监控: the board redrawn from each server-sent event; no reload, no inline script.
(function () {
  var root = document.getElementById("wallboard");
  if (!root || !window.EventSource) { return; }
  function cell(text, level) {  // no colour for a figure there is none of ("—")
    var td = document.createElement("td");
    td.textContent = text;
    if (level !== undefined && text !== "—") { td.className = "level" + level; }
    return td;
  }
  function rows(id, items, build, empty) {
    var body = document.querySelector("#" + id + " tbody");
    if (!body) { return; }
    var drawn = items.map(function (item) {
      var tr = document.createElement("tr");
      build(item).forEach(function (td) { tr.appendChild(td); });
      return tr;
    });
    if (!drawn.length && empty) {  // as the page first drew it: say there is nothing yet
      var tr = document.createElement("tr"), td = cell(empty);
      td.colSpan = body.closest("table").querySelectorAll("th").length;
      tr.appendChild(td);
      drawn = [tr];
    }
    body.replaceChildren.apply(body, drawn);
  }
  function shown(v, ratio) {
    if (v === null || v === undefined) { return "—"; }
    return ratio ? (v * 100).toFixed(1) + "%" : String(v);
  }
  var source = new EventSource(root.dataset.stream);
  source.onmessage = function (event) {
    var board = JSON.parse(event.data);
    document.getElementById("board-at").textContent = board.shown_at;
    if (board.staffing) {
      document.getElementById("staffing-value").textContent = board.staffing.on_duty + " / " + board.staffing.required;
      document.getElementById("staffing").className = "tile level" + board.staffing.level;
      document.getElementById("overdue-total-value").textContent = board.overdue_total;
      rows("groups", board.groups, function (g) {
        return [cell(g.group), cell(shown(g.queue_length.value, false), g.queue_length.level),
                cell(shown(g.answer_rate.value, true), g.answer_rate.level),
                cell(shown(g.on_duty, false), g.staffing_level), cell(shown(g.planned, false))];
      }, "暂无实时数据");
    }
    rows("units", board.units, function (u) { return [cell(u.label), cell(String(u.overdue), u.level)]; });
  };
})();
