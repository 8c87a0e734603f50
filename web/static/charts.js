// Draws the uPlot charts from the JSON that every htmx refresh of #disk-live
// carries, so the charts and the tables always show the same query.
(function () {
  const charts = {};
  window.pyperfCharts = charts;
  const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

  function fmt(unit) {
    return (u, v) => v == null ? "" : (unit === "B/s" ? humanBytes(v) + "/s" : v.toFixed(v < 10 ? 1 : 0) + (unit ? " " + unit : ""));
  }
  function humanBytes(v) {
    const units = ["B", "KB", "MB", "GB"]; let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(v < 10 ? 1 : 0) + " " + units[i];
  }

  function draw(el, series) {
    const metric = el.dataset.metric, unit = el.dataset.unit;
    const names = Object.keys(series.devices).sort();
    const data = [series.t].concat(names.map(n => series.devices[n][metric]));
    const key = names.join(",");
    let chart = charts[metric];
    if (chart && chart.pyperfKey !== key) { chart.destroy(); chart = null; }
    if (!chart) {
      chart = new uPlot({
        width: el.clientWidth || 400, height: 200,
        series: [{}].concat(names.map((n, i) => ({ label: n, stroke: palette[i % palette.length], spanGaps: false, value: fmt(unit) }))),
        axes: [{}, { values: (u, vals) => vals.map(v => fmt(unit)(u, v)), size: 70 }],
        scales: { y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
      }, data, el);
      chart.pyperfKey = key;
      charts[metric] = chart;
    } else {
      chart.setData(data);
    }
    el.dataset.points = String(series.t.length);
    el.dataset.lastTs = series.t.length ? String(series.t[series.t.length - 1]) : "";
  }

  document.body.addEventListener("htmx:afterSwap", (ev) => {
    const blob = ev.detail.target.querySelector("#disk-series");
    if (!blob) return;
    const series = JSON.parse(blob.textContent);
    document.querySelectorAll(".chart[data-metric]").forEach(el => draw(el, series));
  });
  window.addEventListener("resize", () => {
    document.querySelectorAll(".chart[data-metric]").forEach(el => {
      const c = charts[el.dataset.metric];
      if (c) c.setSize({ width: el.clientWidth, height: 200 });
    });
  });
})();
