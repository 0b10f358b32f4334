// Starts Swagger UI on /docs; kept out of the page because the CSP forbids inline scripts.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null, // the default badge calls swagger.io: nothing leaves the platform
  });
})();
