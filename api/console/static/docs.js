// The API's interactive documentation at /docs: Swagger UI, shipped with ccmon (no CDN),
// reading the served OpenAPI.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
