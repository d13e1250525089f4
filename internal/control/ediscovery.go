package control

import (
	"context"
	"errors"
	"strings"

	"parley/internal/ediscovery"
)

// Ediscovery is compliance search and export (internal/ediscovery).
type Ediscovery interface {
	Search(ctx context.Context, q ediscovery.Query, cursor string, limit int, actor string) (ediscovery.Page, error)
	Export(ctx context.Context, q ediscovery.Query, actor string) (ediscovery.Job, error)
	Job(id string) (ediscovery.Job, error)
	Jobs() ([]ediscovery.Job, error)
	Delete(ctx context.Context, id, actor string) error
}

// ErrNoEdiscovery means e-discovery needs the running server.
var ErrNoEdiscovery = errors.New("control: e-discovery runs in the server (start it, or use its admin API)")

// doEdiscovery runs the ediscovery.* requests: search (Query, Cursor,
// Limit), export (Query), job (ID), jobs and delete (ID). The actor recorded in the
// audit log is "cli", with Name (the operator's login) when given.
func (o *Ops) doEdiscovery(ctx context.Context, req *Request, resp *Response) error {
	if o.Ediscovery == nil {
		return ErrNoEdiscovery
	}
	actor := "cli"
	if req.Name != "" {
		actor += ":" + req.Name
	}
	var q ediscovery.Query
	if req.Query != nil {
		q = *req.Query
	}
	var err error
	switch strings.TrimPrefix(req.Op, "ediscovery.") {
	case "search":
		var p ediscovery.Page
		p, err = o.Ediscovery.Search(ctx, q, req.Cursor, req.Limit, actor)
		resp.Page = &p
	case "export":
		var j ediscovery.Job
		j, err = o.Ediscovery.Export(ctx, q, actor)
		resp.Jobs = []ediscovery.Job{j}
	case "job":
		var j ediscovery.Job
		j, err = o.Ediscovery.Job(req.ID)
		resp.Jobs = []ediscovery.Job{j}
	case "jobs":
		resp.Jobs, err = o.Ediscovery.Jobs()
	case "delete":
		err = o.Ediscovery.Delete(ctx, req.ID, actor)
	default:
		return errors.New("unknown operation " + req.Op)
	}
	if errors.Is(err, ediscovery.ErrNoJob) {
		resp.NotFound = true
	}
	return err
}
