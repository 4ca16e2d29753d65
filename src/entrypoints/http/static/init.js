// Starts Swagger UI on /api/docs/. A file, not an inline script, so that the page's
// Content-Security-Policy can refuse inline scripts.
"use strict";

// The API wants "Authorization: Token <key>" (the security scheme is an API key in that
// header, sent as typed): a bare key pasted into "Authorize" gets the keyword added.
function withTokenKeyword(request) {
  const value = (request.headers.Authorization || "").trim();
  if (value && !/\s/.test(value)) {
    request.headers.Authorization = "Token " + value;
  }
  return request;
}

window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null, // the default would send the document to an online validator
  requestInterceptor: withTokenKeyword,
});
