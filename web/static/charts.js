// Every chart on every page: a <div class="chart" data-chart="NAME"
// data-kind="line|heatmap"> is drawn from the JSON blob
// (<script type="application/json" class="chart-data">) that the page's htmx
// partial carries, so charts and tables always show the same query.
//   line:    {t: [epoch s], series: {name: [value or null per t]}, unit}
//            (unit from the column spec: "B", "B/s", "/s", "µs", "%", "segments/s"...)
//   heatmap: {t, step_s, slots_us: [upper bound per row], counts: [[per t] per row],
//             p50_us, p99_us} (log2 µs rows, e.g. run-queue latency)
(function () {
  const charts = {};
  window.pyperfCharts = charts;
  const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
  const HEIGHT = 200;

  function humanBytes(v) {
    const units = ["B", "KB", "MB", "GB", "TB"]; let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(v < 10 ? 1 : 0) + " " + units[i];
  }
  function humanMicros(us) {
    if (us >= 1e6) return (us / 1e6).toFixed(us < 1e7 ? 1 : 0) + " s";
    if (us >= 1e3) return (us / 1e3).toFixed(us < 1e4 ? 1 : 0) + " ms";
    return us.toFixed(us < 10 ? 1 : 0) + " µs";
  }
  function fmt(unit) {
    return (u, v) => {
      if (v == null) return "";
      if (unit === "B") return humanBytes(v);
      if (unit === "B/s") return humanBytes(v) + "/s";
      if (unit === "µs") return humanMicros(v);
      const number = v.toFixed(v < 10 ? 1 : 0);
      if (unit === "/s" || unit === "%") return number + unit;
      return number + (unit ? " " + unit : "");
    };
  }

  function mark(el, d) {
    el.dataset.points = String(d.t.length);
    el.dataset.lastTs = d.t.length ? String(d.t[d.t.length - 1]) : "";
  }

  function keep(el, key, make) {
    const name = el.dataset.chart;
    let chart = charts[name];
    if (chart && (chart.pyperfKey !== key || chart.root.parentNode !== el)) { chart.destroy(); chart = null; }
    if (!chart) { chart = make(); chart.pyperfKey = key; charts[name] = chart; }
    return chart;
  }

  // The usual range learned from a series' past (pyperf/analysis/baseline.py) comes
  // as two series with these names: drawn faint, the space between them filled.
  const BAND_LOW = "usual (low)", BAND_HIGH = "usual (high)";

  function line(el, d) {
    const unit = d.unit || "";
    const names = Object.keys(d.series);
    const data = [d.t].concat(names.map(n => d.series[n]));
    const lo = names.indexOf(BAND_LOW) + 1, hi = names.indexOf(BAND_HIGH) + 1;
    const band = n => n === BAND_LOW || n === BAND_HIGH;
    let colour = 0;
    const chart = keep(el, "line:" + names.join(","), () => new uPlot({
      width: el.clientWidth || 400, height: HEIGHT,
      series: [{}].concat(names.map(n => band(n)
        ? { label: n, stroke: "rgba(107,114,128,.35)", width: 1, spanGaps: false, value: fmt(unit) }
        : { label: n, stroke: palette[colour++ % palette.length], spanGaps: false, value: fmt(unit) })),
      bands: lo && hi ? [{ series: [hi, lo], fill: "rgba(107,114,128,.12)" }] : [],
      axes: [{}, { values: (u, vals) => vals.map(v => fmt(unit)(u, v)), size: 70 }],
      scales: { y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
    }, data, el));
    chart.setData(data);
    mark(el, d);
  }

  // uPlot has no heatmap series: the cells are painted in a draw hook (as in its
  // latency-heatmap demo); y is log2 µs, so slot i covers [i, i + 1) and the
  // p50/p99 lines sit at log2 of their value.
  function heatmap(el, d) {
    const log2 = v => v == null ? null : Math.log2(Math.max(v, 1));
    const rows = d.slots_us.length;
    const data = [d.t, d.p50_us.map(log2), d.p99_us.map(log2)];
    const chart = keep(el, "heatmap:" + rows, () => new uPlot({
      width: el.clientWidth || 400, height: HEIGHT,
      series: [{}, { label: "p50", stroke: "#111827", width: 1, value: (u, v) => v == null ? "" : humanMicros(2 ** v) },
               { label: "p99", stroke: "#dc2626", width: 1, value: (u, v) => v == null ? "" : humanMicros(2 ** v) }],
      axes: [{}, { values: (u, vals) => vals.map(v => humanMicros(2 ** v)), size: 70, incrs: [1, 2, 4] }],
      scales: { y: { range: () => [0, Math.max(rows, 1)] } },
      hooks: { drawClear: [u => paint(u, u.pyperfCells)] },
    }, data, el));
    chart.pyperfCells = d;
    chart.setData(data);
    el.dataset.cells = String(d.counts.reduce((n, row) => n + row.filter(c => c > 0).length, 0));
    mark(el, d);
  }

  function paint(u, d) {
    if (!d || !d.t.length) return;
    let max = 1;
    d.counts.forEach(row => row.forEach(c => { if (c > max) max = c; }));
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    d.counts.forEach((row, slot) => {
      const y0 = u.valToPos(slot + 1, "y", true), y1 = u.valToPos(slot, "y", true);
      row.forEach((c, i) => {
        if (!c) return;
        const x0 = u.valToPos(d.t[i], "x", true), x1 = u.valToPos(d.t[i] + d.step_s, "x", true);
        // log scale of the count: one slow wait must still show
        const level = Math.log1p(c) / Math.log1p(max);
        ctx.fillStyle = `rgba(37, 99, 235, ${0.15 + 0.85 * level})`;
        ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      });
    });
    ctx.restore();
  }

  // A live refresh carries only the seconds after the newest point held here
  // (the partial's request sends it as `since`): keep what is still in range
  // before the first new point, then append.
  function keepFrom(t, start, first) {
    let lo = 0, hi = t.length;
    while (lo < t.length && t[lo] < start) lo++;
    while (hi > lo && t[hi - 1] >= first) hi--;
    return [lo, hi];
  }

  function mergeLine(el, d, start) {
    const chart = charts[el.dataset.chart];
    const names = chart.series.slice(1).map(s => s.label);
    if (Object.keys(d.series).some(n => !names.includes(n))) return false;   // a new series: reload
    const [lo, hi] = keepFrom(chart.data[0], start, d.t.length ? d.t[0] : Infinity);
    const data = [chart.data[0].slice(lo, hi).concat(d.t)].concat(names.map((n, i) =>
      chart.data[i + 1].slice(lo, hi).concat(d.series[n] || d.t.map(() => null))));
    chart.setData(data);
    mark(el, { t: data[0] });
    return true;
  }

  function mergeHeatmap(el, d, start) {
    const chart = charts[el.dataset.chart], old = chart.pyperfCells;
    if (d.slots_us.length > old.slots_us.length) return false;                 // taller: reload
    const [lo, hi] = keepFrom(old.t, start, d.t.length ? d.t[0] : Infinity);
    const merged = Object.assign({}, old, {
      t: old.t.slice(lo, hi).concat(d.t),
      p50_us: old.p50_us.slice(lo, hi).concat(d.p50_us),
      p99_us: old.p99_us.slice(lo, hi).concat(d.p99_us),
      counts: old.counts.map((row, slot) => row.slice(lo, hi).concat(d.counts[slot] || d.t.map(() => 0))),
    });
    heatmap(el, merged);
    return true;
  }

  let reload = false;
  window.pyperfSince = function () {
    if (reload) { reload = false; return 0; }
    let newest = 0;
    Object.values(charts).forEach(c => { const t = c.data[0]; if (t.length && t[t.length - 1] > newest) newest = t[t.length - 1]; });
    return newest;
  };

  function drawAll(blob, incremental, start) {
    document.querySelectorAll(".chart[data-chart]").forEach(el => {
      const d = blob[el.dataset.chart];
      if (!d) return;
      const heat = el.dataset.kind === "heatmap";
      if (incremental && charts[el.dataset.chart]) {
        if ((heat ? mergeHeatmap : mergeLine)(el, d, start)) return;
        reload = true;
      }
      (heat ? heatmap : line)(el, d);
    });
  }

  document.body.addEventListener("htmx:afterSwap", (ev) => {
    ev.detail.target.querySelectorAll("script.chart-data").forEach(s =>
      drawAll(JSON.parse(s.textContent), s.dataset.incremental === "1", Number(s.dataset.start || 0)));
  });
  window.addEventListener("resize", () => {
    document.querySelectorAll(".chart[data-chart]").forEach(el => {
      const c = charts[el.dataset.chart];
      if (c) c.setSize({ width: el.clientWidth, height: HEIGHT });
    });
  });
})();
