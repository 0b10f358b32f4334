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
      chart.setOption(JSON.parse(source.textContent));
      element.dataset.chartReady = "true";
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
