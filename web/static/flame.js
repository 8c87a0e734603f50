// The flame graph of the Flame graphs page: d3-flame-graph over the tree the
// htmx partial carries (<script class="flame-data">); click zooms, the search
// box highlights, "reset zoom" goes back to the whole graph. A diff tree
// (tree.diff) is drawn in d3-flame-graph's differential colours.
(function () {
  let chart = null;
  function draw(tree) {
    const el = document.getElementById("flame");
    el.innerHTML = "";
    chart = flamegraph.default().width(el.clientWidth || 800).cellHeight(18).minFrameSize(2)
      .transitionDuration(0).sort(true).inverted(true).title("");
    if (tree.diff) {
      // each node carries its whole delta (not its own part): computeDelta stays off
      chart.setColorMapper(flamegraph.colorMapper.differentialColorMapper)
        .setLabelHandler((d) => `${d.data.name}: baseline ${d.data.base_pct} % → ${d.data.comp_pct} % ` +
          `(${d.data.comp_pct >= d.data.base_pct ? "+" : ""}${(d.data.comp_pct - d.data.base_pct).toFixed(2)} points)`);
    }
    d3.select(el).datum(tree).call(chart);
    el.dataset.total = String(tree.value);
    el.dataset.frames = String(el.querySelectorAll("g.frame, g").length);
    el.dataset.diff = tree.diff ? "1" : "0";
  }
  document.body.addEventListener("htmx:afterSwap", (ev) => {
    const blob = ev.detail.target.querySelector("script.flame-data");
    if (blob) draw(JSON.parse(blob.textContent));
  });
  document.getElementById("flame-search").addEventListener("input", (ev) => {
    if (chart) chart.search(ev.target.value);
  });
  document.getElementById("flame-reset").addEventListener("click", () => { if (chart) chart.resetZoom(); });
})();
