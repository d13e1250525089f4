package adminapi

import (
	_ "embed"
	"net/http"
)

// openAPI describes the API (OpenAPI 3.1), written by hand beside the
// routes; TestOpenAPIMatchesRoutes keeps the two equal.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
