// Starts Swagger UI for /docs. Kept as a file, not inline, so the page's CSP needs no 'unsafe-inline' script.
window.addEventListener("load", function () {
  var origin = window.location.origin;
  window.ui = SwaggerUIBundle({
    url: origin + "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    oauth2RedirectUrl: origin + "/docs/oauth2-redirect",
    showCommonExtensions: true,
    tryItOutEnabled: false
  });
  // Apps are confidential with client_secret_basic unless registered otherwise: send the secret that way.
  window.ui.initOAuth({
    usePkceWithAuthorizationCodeGrant: true,
    useBasicAuthenticationWithAccessCodeGrant: true,
    scopeSeparator: " "
  });
});
