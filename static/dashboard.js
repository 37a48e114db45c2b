// The dashboard's chart: the unit table's figures as bars, from the page's JSON (no inline script).
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var canvas = document.getElementById("chart");
  if (!canvas || !window.Chart || !data.labels.length) { return; }
  new Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: "#0b5394" }] },
    options: {
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return data.ratio ? Math.round(v * 100) + "%" : v; } } } },
      plugins: { legend: { display: false } }
    }
  });
})();
