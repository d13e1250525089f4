package adminapi

import (
	"context"
	"errors"
	"net/http"
	"os"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/ediscovery"
)

// E-discovery routes (role compliance): a search across every archive,
// and export jobs whose zip is fetched once done. The service records
// every search, export and deletion in the audit log itself, with the
// token as the actor; a download is recorded here.
var ediscoveryRoutes = []route{
	{"GET", "/api/v1/ediscovery/messages", compliance, "", searchArchives},
	{"POST", "/api/v1/ediscovery/exports", compliance, "", startExport},
	{"GET", "/api/v1/ediscovery/exports", compliance, "", listExports},
	{"GET", "/api/v1/ediscovery/exports/{id}", compliance, "", getExport},
	{"GET", "/api/v1/ediscovery/exports/{id}/file", compliance, "", downloadExport},
	{"DELETE", "/api/v1/ediscovery/exports/{id}", compliance, "", deleteExport},
}

var compliance = []string{control.RoleCompliance}

func init() { routes = append(routes, ediscoveryRoutes...) }

// errNoEdiscovery answers 503 when the API runs without the service.
var errNoEdiscovery = errors.New("e-discovery is not available on this server")

// actorKey holds the authenticated token's actor ("admin-token:ID").
type actorKey struct{}

func withActor(r *http.Request, actor string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), actorKey{}, actor))
}

func actorOf(r *http.Request) string {
	a, _ := r.Context().Value(actorKey{}).(string)
	return a
}

// searchQuery reads a search from the URL: participant and room (each
// repeated), start and end (RFC 3339), words.
func searchQuery(r *http.Request) (ediscovery.Query, error) {
	v := r.URL.Query()
	q := ediscovery.Query{Participants: v["participant"], Rooms: v["room"], Words: v.Get("words")}
	var err error
	q.Start, q.End, err = timeRange(v)
	return q, err
}

func (a *API) ediscovery() (control.Ediscovery, error) {
	if a.o.Ops == nil || a.o.Ops.Ediscovery == nil {
		return nil, errNoEdiscovery
	}
	return a.o.Ops.Ediscovery, nil
}

func searchArchives(a *API, w http.ResponseWriter, r *http.Request) error {
	ed, err := a.ediscovery()
	if err != nil {
		return err
	}
	q, err := searchQuery(r)
	if err != nil {
		return err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	p, err := ed.Search(r.Context(), q, r.URL.Query().Get("cursor"), limit, actorOf(r))
	if err != nil {
		return ediscoveryError(err)
	}
	return writeJSON(w, http.StatusOK, page[ediscovery.Message]{Items: p.Messages, Next: p.Next})
}

func startExport(a *API, w http.ResponseWriter, r *http.Request) error {
	ed, err := a.ediscovery()
	if err != nil {
		return err
	}
	var q ediscovery.Query
	if err := readJSON(r, &q); err != nil {
		return err
	}
	j, err := ed.Export(r.Context(), q, actorOf(r))
	if err != nil {
		return ediscoveryError(err)
	}
	w.Header().Set("Location", "/api/v1/ediscovery/exports/"+j.ID)
	return writeJSON(w, http.StatusAccepted, exportOf(j))
}

// export is a job as the API shows it: not where it lies on the server.
type export struct {
	ediscovery.Job
	File   string `json:"file,omitempty"`   // the download's path, once done
	Cursor string `json:"cursor,omitempty"` // not shown
	Parts  int    `json:"parts,omitempty"`  // not shown
}

func exportOf(j ediscovery.Job) export {
	e := export{Job: j}
	if j.Status == ediscovery.StatusDone {
		e.File = "/api/v1/ediscovery/exports/" + j.ID + "/file"
	}
	return e
}

func listExports(a *API, w http.ResponseWriter, r *http.Request) error {
	ed, err := a.ediscovery()
	if err != nil {
		return err
	}
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	jobs, err := ed.Jobs()
	if err != nil {
		return err
	}
	out := make([]export, len(jobs))
	for i, j := range jobs {
		out[i] = exportOf(j)
	}
	// Newest first; the cursor is the position's id.
	return writeJSON(w, http.StatusOK, paginateOrdered(out, func(e export) string { return e.ID }, after, limit))
}

// exportJob is the export job the request's path names.
func (a *API) exportJob(r *http.Request) (ediscovery.Job, error) {
	ed, err := a.ediscovery()
	if err != nil {
		return ediscovery.Job{}, err
	}
	j, err := ed.Job(r.PathValue("id"))
	if err != nil {
		return ediscovery.Job{}, ediscoveryError(err)
	}
	return j, nil
}

func getExport(a *API, w http.ResponseWriter, r *http.Request) error {
	j, err := a.exportJob(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, exportOf(j))
}

func downloadExport(a *API, w http.ResponseWriter, r *http.Request) error {
	j, err := a.exportJob(r)
	if err != nil {
		return err
	}
	if j.Status != ediscovery.StatusDone {
		return &httpError{status: http.StatusConflict, title: "not ready", detail: "the export is " + j.Status}
	}
	f, err := os.Open(j.File)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	a.record(audit.Record{Actor: actorOf(r), Action: audit.ActionExport, Target: "ediscovery-job:" + j.ID, IP: remoteIP(r),
		Outcome: audit.OutcomeSuccess, Details: map[string]string{"op": "export-downloaded", "zip_sha256": j.SHA256}})
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="ediscovery-`+j.ID+`.zip"`)
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

func deleteExport(a *API, w http.ResponseWriter, r *http.Request) error {
	ed, err := a.ediscovery()
	if err != nil {
		return err
	}
	if err := ed.Delete(r.Context(), r.PathValue("id"), actorOf(r)); err != nil {
		return ediscoveryError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ediscoveryError maps the service's errors to problems.
func ediscoveryError(err error) error {
	switch {
	case errors.Is(err, ediscovery.ErrBadQuery), errors.Is(err, ediscovery.ErrBadCursor):
		return badRequest(err.Error())
	case errors.Is(err, ediscovery.ErrNoJob):
		return notFound("no such export")
	case errors.Is(err, ediscovery.ErrJobRunning):
		return &httpError{status: http.StatusConflict, title: "running", detail: "the export is running; delete it once it has ended"}
	}
	return err
}
