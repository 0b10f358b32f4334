// Draws every <div data-chart="ID"> from the ECharts option in <script type="application/json"
// id="ID">. Runs on page load and on content htmx swaps in; the CSP allows no inline script.
(function () {
  "use strict";

  function draw(root) {
    if (typeof echarts === "undefined" || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (echarts.getInstanceByDom(element)) {
        return;
      }
      var source = document.getElementById(element.dataset.chart);
      if (!source) {
        return;
      }
      var chart = echarts.init(element, null, { renderer: "canvas" });
      // Marked ready once drawn and animated, so tests and screenshots see the final chart.
      chart.on("finished", function () {
        element.dataset.chartReady = "true";
      });
      chart.setOption(JSON.parse(source.textContent));
    });
  }

  function resizeAll() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var chart = echarts.getInstanceByDom(element);
      if (chart) {
        chart.resize();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.target);
  });
  window.addEventListener("resize", resizeAll);
})();
