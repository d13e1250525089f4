package adminapi

import (
	"context"
	"net/http"

	"parley/internal/webhook"
)

// webhookRoutes show the outgoing webhooks' dead letters: the events
// whose deliveries all failed (internal/webhook, kept in the store).
var webhookRoutes = []route{
	{"GET", "/api/v1/webhooks/dead-letters", adminOnly, "", listDeadLetters},
}

// Webhooks are the running webhooks (*webhook.Module has them).
type Webhooks interface {
	DeadLetters(ctx context.Context) ([]webhook.DeadLetter, error)
	Dropped() int64
}

// deadLetters is the answer: the failed events, oldest first, and how
// many events were dropped because a hook's queue was full.
type deadLetters struct {
	Items   []webhook.DeadLetter `json:"items"`
	Dropped int64                `json:"dropped"`
}

func listDeadLetters(a *API, w http.ResponseWriter, r *http.Request) error {
	out := deadLetters{Items: []webhook.DeadLetter{}}
	if a.o.Webhooks != nil { // no webhooks configured: none
		items, err := a.o.Webhooks.DeadLetters(r.Context())
		if err != nil {
			return err
		}
		out.Items = append(out.Items, items...)
		out.Dropped = a.o.Webhooks.Dropped()
	}
	return writeJSON(w, http.StatusOK, out)
}
