package spam

import (
	"context"
	"sync"

	"parley/internal/dataform"
	"parley/internal/im/adhoc"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

// NodeStrangers is the ad-hoc command (XEP-0050) with which a user turns
// the stranger filter on or off: the standard way for a server to offer
// a setting to any client, and one that clients already show. Its form
// has one boolean field, FieldRefuse.
const (
	NodeStrangers = "urn:parley:spam:strangers"
	FieldRefuse   = "refuse"
)

// Filters keeps the accounts' choices; store.StrangerFilters provides it.
type Filters interface {
	StrangerFilter(ctx context.Context, username string) (bool, error)
	SetStrangerFilter(ctx context.Context, username string, on bool) error
}

// Commands is the ad-hoc command registry; *adhoc.Module provides it.
type Commands interface {
	Add(c adhoc.Command)
}

// strangers refuses messages and subscription requests to a user who
// chose so from JIDs not in the user's roster.
type strangers struct {
	filters Filters
	roster  Roster

	mu sync.Mutex // guards choice
	// choice caches the choice of users with a session (the hot path);
	// an entry goes when the user's last session ends. Users without a
	// session are read from the store.
	choice map[string]bool
}

// refuses reports whether user refuses strangers.
func (s *strangers) refuses(ctx context.Context, r *router.Router, user jid.JID) (bool, error) {
	s.mu.Lock()
	on, ok := s.choice[user.Local()]
	s.mu.Unlock()
	if ok {
		return on, nil
	}
	on, err := s.filters.StrangerFilter(ctx, user.Local())
	if err != nil {
		return false, err
	}
	if len(r.Resources(user.Bare())) > 0 {
		s.mu.Lock()
		s.choice[user.Local()] = on
		s.mu.Unlock()
	}
	return on, nil
}

// intercept is the inbound interceptor: a chat, normal or headline
// message, or a subscription request, from a user's JID not in the
// recipient's roster, to a recipient who refuses strangers, gets
// service-unavailable: the answer for an absent account, so neither
// the account's existence nor its presence shows. The server and
// services (JIDs without a local part), groupchat messages and errors
// pass.
func (s *strangers) intercept(ctx context.Context, r *router.Router, st *stanza.Stanza) error {
	switch {
	case st.From.Local() == "" || st.To.Local() == "" || st.From.Bare() == st.To.Bare():
		return nil
	case st.Kind == stanza.Message && st.Type != "error" && st.Type != "groupchat":
	case st.Kind == stanza.Presence && st.Type == "subscribe":
	default:
		return nil
	}
	on, err := s.refuses(ctx, r, st.To)
	if err != nil || !on {
		return err
	}
	if _, known, err := s.roster.Item(ctx, st.To.Bare(), st.From); err != nil || known {
		return err
	}
	return stanza.ErrServiceUnavailable
}

// command is the ad-hoc command: execute shows the form with the current
// choice, complete with the form stores the new one.
func (s *strangers) command() adhoc.Command {
	return adhoc.Setting(NodeStrangers, "Refuse messages from strangers",
		func(ctx context.Context, user string) (*dataform.Form, error) {
			on, err := s.filters.StrangerFilter(ctx, user)
			if err != nil {
				return nil, err
			}
			v := "0"
			if on {
				v = "1"
			}
			f := dataform.New(dataform.TypeForm, NodeStrangers,
				dataform.NewField(FieldRefuse, dataform.Boolean, "Refuse messages and subscription requests from JIDs not in my roster", v))
			f.Title = "Messages from strangers"
			return f, nil
		},
		func(ctx context.Context, user string, form *dataform.Form) (string, error) {
			on, err := form.Bool(FieldRefuse)
			if err != nil {
				return "", adhoc.ErrBadPayload.WithText("refuse must be a boolean")
			}
			if err := s.filters.SetStrangerFilter(ctx, user, on); err != nil {
				return "", err
			}
			s.forget(user)
			if on {
				return "Messages and subscription requests from JIDs not in your roster are refused.", nil
			}
			return "Messages from strangers are delivered.", nil
		})
}

// forget drops the cached choice of user, once offline or changed: it
// is read again at the next stanza.
func (s *strangers) forget(user string) {
	s.mu.Lock()
	delete(s.choice, user)
	s.mu.Unlock()
}

var _ Filters = store.StrangerFilters(nil)
