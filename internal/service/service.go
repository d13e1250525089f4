// Package service holds what the services at a domain of their own
// (upload.…, XEP-0363; proxy.…, XEP-0065) share in answering the stanzas
// the router hands them: which of them are requests, and the answer to
// one.
package service

import (
	"context"
	"errors"
	"log/slog"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Send sends a stanza on, as router.Router.Send does.
type Send func(context.Context, *stanza.Stanza)

// Request returns the payload of st if it is a request the service
// serves: an IQ get or set from a sender, to the service's domain itself,
// with a payload. Anything else gets nil, after the answer RFC 6120 asks
// for: a message, and an IQ request to a JID of the domain (one with a
// local part or resource) or without a payload, are refused with
// <service-unavailable/> (§8.3.3.19); presence, IQ results and errors,
// and stanzas without a 'from' are dropped.
func Request(ctx context.Context, send Send, st *stanza.Stanza) *xmlstream.Element {
	switch {
	case st.From.IsZero():
		return nil
	case st.Kind == stanza.Message:
		Refuse(ctx, send, st, stanza.ErrServiceUnavailable)
		return nil
	case st.Kind != stanza.IQ || st.Type != "get" && st.Type != "set":
		return nil
	}
	q := st.Payload()
	if q == nil || !st.To.IsDomain() {
		Refuse(ctx, send, st, stanza.ErrServiceUnavailable)
		return nil
	}
	return q
}

// Answer answers the request st with a result holding payload (nil: an
// empty result) or, if err is not nil, with the error: a *stanza.Error as
// it is, anything else logged and answered as <internal-server-error/>.
func Answer(ctx context.Context, send Send, log *slog.Logger, st *stanza.Stanza, payload *xmlstream.Element, err error) {
	if err == nil {
		send(ctx, stanza.Result(st, payload))
		return
	}
	var se *stanza.Error
	if !errors.As(err, &se) {
		log.Error("request failed", "service", st.To.String(), "jid", st.From.String(), "err", err)
		se = stanza.ErrInternalServerError
	}
	Refuse(ctx, send, st, se)
}

// Refuse answers st with the error e, unless st is an error or an IQ
// result itself (RFC 6120 §8.3.1).
func Refuse(ctx context.Context, send Send, st *stanza.Stanza, e *stanza.Error) {
	if r := stanza.ErrorReply(st, e); r != nil {
		send(ctx, r)
	}
}
