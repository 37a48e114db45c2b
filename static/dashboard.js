// The dashboard's charts, from the page's JSON (no inline script): the unit table's figures as
// bars, and for a period of days the figure day by day as a line.
(function () {
  function draw(id, type) {
    var data = JSON.parse(document.getElementById(id + "-data").textContent);
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart || !data.labels.length) { return; }
    new Chart(canvas, {
      type: type,
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.values,
        backgroundColor: "#0b5394", borderColor: "#0b5394", spanGaps: true }] },
      options: {
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return data.ratio ? Math.round(v * 100) + "%" : v; } } } },
        plugins: { legend: { display: false } }
      }
    });
  }
  draw("chart", "bar");
  draw("trend", "line");
})();
