package pubsub

import (
	"context"
	"slices"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Error is a stanza error with a pubsub#errors condition (§7.1.3 and
// elsewhere).
func Error(base *stanza.Error, cond string) *stanza.Error {
	return base.WithApp(xmlstream.New(cond, NSErrors))
}

// Unsupported is feature-not-implemented naming the pubsub feature.
func Unsupported(feature string) *stanza.Error {
	return stanza.ErrFeatureNotImplemented.WithApp(xmlstream.New("unsupported", NSErrors, "feature", feature))
}

// Errors of the protocol, as table values.
var (
	ErrNodeRequired   = Error(stanza.ErrBadRequest, "nodeid-required")
	ErrItemRequired   = Error(stanza.ErrBadRequest, "item-required")
	ErrPayload        = Error(stanza.ErrBadRequest, "payload-required")
	ErrTooMany        = Error(stanza.ErrBadRequest, "invalid-payload")
	ErrPrecondition   = Error(stanza.ErrConflict, "precondition-not-met")
	ErrTooBig         = Error(stanza.ErrNotAcceptable, "payload-too-big")
	ErrAccessModel    = Error(stanza.ErrNotAcceptable, "unsupported-access-model")
	ErrTooManyNodes   = Error(stanza.ErrPolicyViolation, "max-nodes-exceeded")
	ErrNoNode         = stanza.ErrItemNotFound.WithText("no such node")
	ErrPresenceNeeded = Error(stanza.ErrNotAuthorized, "presence-subscription-required")
	ErrNotInGroup     = Error(stanza.ErrNotAuthorized, "not-in-roster-group")
	ErrClosedNode     = Error(stanza.ErrNotAllowed, "closed-node")
)

// Contact is what an owner's roster says of a requester: its item, if it
// has one.
type Contact struct {
	Item  store.RosterItem
	Found bool
}

// hasPresence: the contact receives the owner's presence (RFC 6121
// subscription from or both).
func (c Contact) hasPresence() bool {
	return c.Found && !c.Item.Hidden &&
		(c.Item.Subscription == store.SubFrom || c.Item.Subscription == store.SubBoth)
}

// inGroups: the contact is in one of groups of the owner's roster.
func (c Contact) inGroups(groups []string) bool {
	if !c.Found || c.Item.Hidden {
		return false
	}
	for _, g := range c.Item.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// Access applies a node's access model (§4.5) to a requester that is not
// an owner of the node, with its affiliation and what the owner's roster
// says of it: nil when it may subscribe and read, else the error of
// §6.1.3 and §6.5.9. An outcast is always refused (§4.1).
func Access(c Config, affiliation string, contact Contact) error {
	switch affiliation {
	case store.AffiliationOutcast:
		return stanza.ErrForbidden
	case store.AffiliationOwner, store.AffiliationPublisher, store.AffiliationMember:
		return nil
	}
	switch c.AccessModel {
	case AccessOpen:
		return nil
	case AccessPresence:
		if contact.hasPresence() {
			return nil
		}
		return ErrPresenceNeeded
	case AccessRoster:
		// §4.5: "any entity in the specified roster group(s)".
		if contact.inGroups(c.RosterGroups) {
			return nil
		}
		return ErrNotInGroup
	}
	return ErrClosedNode // whitelist, authorize (the subscription decides), or a model not known
}

// AccessBy is Access for from, with what owner's roster r (nil: none)
// says of it, read only when the access model asks (presence, roster).
func AccessBy(ctx context.Context, r Roster, c Config, affiliation string, owner, from jid.JID) error {
	var contact Contact
	if r != nil && (c.AccessModel == AccessPresence || c.AccessModel == AccessRoster) {
		var err error
		if contact.Item, contact.Found, err = r.Item(ctx, owner, from.Bare()); err != nil {
			return err
		}
	}
	return Access(c, affiliation, contact)
}
