// Starts Swagger UI on the page /docs serves (api/docs.py): a file, not an inline script, so that the page's
// Content-Security-Policy can allow scripts from this server only.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Relative to this page, so it is right behind any host name.
    oauth2RedirectUrl: new URL(root.dataset.oauth2Redirect, window.location.href).href,
    // Nothing is sent to any other site (the default validator is an online service).
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: true,
  });
  ui.initOAuth({ usePkceWithAuthorizationCodeGrant: true });
  window.ui = ui;
})();
