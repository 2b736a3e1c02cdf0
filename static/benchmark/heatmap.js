// Draws the item × dimension correlation heat map of a run page (data from json_script).
// When the published table is available, buttons switch between this run, the published
// correlations and their difference (Δr = recomputed − published).
(function () {
  "use strict";
  var holder = document.getElementById("heatmap");
  var source = document.getElementById("heatmap-data");
  if (!holder || !source || typeof Plotly === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  if (!data.y.length) { holder.textContent = "No correlations stored."; return; }
  var rScale = { zmin: -0.6, zmax: 0.6, colorscale: "RdBu" };  // plotly.js RdBu: blue (−) to red (+)
  var trace = {
    type: "heatmap",
    x: data.x,
    y: data.y,
    z: data.z,
    zmin: rScale.zmin,
    zmax: rScale.zmax,
    colorscale: rScale.colorscale,
    hoverongaps: false,
    colorbar: { title: { text: "r" } },
    hovertemplate: "item %{y}<br>%{x}<br>%{z:.4g}<extra></extra>"
  };
  var layout = {
    margin: { l: 70, r: 20, t: 40, b: 130 },
    height: Math.min(Math.max(400, data.y.length * 4), 2400),
    yaxis: { autorange: "reversed", type: "category", tickfont: { size: 9 } },
    xaxis: { type: "category", tickangle: -45 }
  };
  if (data.z_reference) {
    var deltaMax = 0;
    data.z_delta.forEach(function (row) {
      row.forEach(function (v) { if (v !== null && Math.abs(v) > deltaMax) { deltaMax = Math.abs(v); } });
    });
    deltaMax = deltaMax || 1e-12;
    layout.updatemenus = [{
      type: "buttons",
      direction: "right",
      x: 0,
      y: 1.02,
      xanchor: "left",
      yanchor: "bottom",
      buttons: [
        { label: "Recomputed", method: "restyle",
          args: [{ z: [data.z], zmin: rScale.zmin, zmax: rScale.zmax, "colorbar.title.text": "r" }] },
        { label: "Published", method: "restyle",
          args: [{ z: [data.z_reference], zmin: rScale.zmin, zmax: rScale.zmax, "colorbar.title.text": "r" }] },
        { label: "Δr", method: "restyle",
          args: [{ z: [data.z_delta], zmin: -deltaMax, zmax: deltaMax, "colorbar.title.text": "Δr" }] }
      ]
    }];
  }
  Plotly.newPlot(holder, [trace], layout, { responsive: true, displaylogo: false }).then(function () {
    holder.setAttribute("data-rendered", "true");
  });
})();
