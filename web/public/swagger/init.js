// Swagger UI at /docs, loaded from this origin (npm swagger-ui-dist, copied by the build), never a CDN:
// this origin keeps the API token in localStorage. "Try it out" sends the token the UI stored.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  requestInterceptor: function (req) {
    var token = null;
    try {
      token = localStorage.getItem("dymunim.token");
    } catch (e) {}
    if (token && !req.headers.Authorization) req.headers.Authorization = "Bearer " + token;
    return req;
  },
});
