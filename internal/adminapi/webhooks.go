package adminapi

import (
	"net/http"

	"parley/internal/webhook"
)

// webhookRoutes show the outgoing webhooks' dead letters: the events
// whose deliveries all failed (internal/webhook, kept in memory).
var webhookRoutes = []route{
	{"GET", "/api/v1/webhooks/dead-letters", adminOnly, "", listDeadLetters},
}

// Webhooks are the running webhooks (*webhook.Module has them).
type Webhooks interface {
	DeadLetters() []webhook.DeadLetter
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
		out.Items = append(out.Items, a.o.Webhooks.DeadLetters()...)
		out.Dropped = a.o.Webhooks.Dropped()
	}
	return writeJSON(w, http.StatusOK, out)
}
