package pubsub

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"parley/internal/dataform"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces.
const (
	NS               = "http://jabber.org/protocol/pubsub"
	NSOwner          = NS + "#owner"
	NSEvent          = NS + "#event"
	NSErrors         = NS + "#errors"
	NSPublishOptions = NS + "#publish-options"
	NSNodeConfig     = NS + "#node_config"
	NSSubscribeOpts  = NS + "#subscribe_options"
)

// Access models of §4.5.
const (
	AccessOpen      = store.AccessOpen
	AccessPresence  = store.AccessPresence
	AccessRoster    = store.AccessRoster
	AccessWhitelist = store.AccessWhitelist
)

// Config is a node's configuration (§16.4.3): what the services act on.
type Config struct {
	AccessModel string `json:"access_model"`
	// RosterGroups are the owner's roster groups whose contacts may
	// subscribe and read under the roster model
	// (pubsub#roster_groups_allowed); sorted, unique.
	RosterGroups []string `json:"roster_groups,omitempty"`
	PersistItems bool     `json:"persist_items"`
	MaxItems     int      `json:"max_items"` // at least 1
	// PublishModel says who may publish (§16.4.3 pubsub#publish_model):
	// PublishPublishers (owners and publishers; "" reads as it),
	// PublishSubscribers (those too, and subscribers) or PublishOpen.
	PublishModel string `json:"publish_model,omitempty"`
	Title        string `json:"title,omitempty"`
	// Notifications (§16.4.3 pubsub#notify_*); nil is the default, so
	// that nodes stored before these existed keep behaving as they did:
	// deletion and retraction notified, configuration changes and
	// subscribers not. Read them with the Notifies methods.
	NotifyConfig  *bool `json:"notify_config,omitempty"`
	NotifyDelete  *bool `json:"notify_delete,omitempty"`
	NotifyRetract *bool `json:"notify_retract,omitempty"`
	NotifySub     *bool `json:"notify_sub,omitempty"`
}

func setting(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// NotifiesConfig: subscribers get a <configuration/> event when an owner
// changes the configuration (§8.2.4, pubsub#notify_config; default off).
func (c Config) NotifiesConfig() bool { return setting(c.NotifyConfig, false) }

// NotifiesDelete: subscribers get a <delete/> event when the node is
// deleted (§8.4.2, pubsub#notify_delete; default on).
func (c Config) NotifiesDelete() bool { return setting(c.NotifyDelete, true) }

// NotifiesRetract: subscribers get a <retract/> event for every
// retraction, not only those asking for it with notify='true' (§7.2.2.1,
// pubsub#notify_retract; default on).
func (c Config) NotifiesRetract() bool { return setting(c.NotifyRetract, true) }

// NotifiesSub: owners are told of each new subscription and
// unsubscription (pubsub#notify_sub; default off).
func (c Config) NotifiesSub() bool { return setting(c.NotifySub, false) }

// Publish models of §16.4.3.
const (
	PublishPublishers  = "publishers"
	PublishSubscribers = "subscribers"
	PublishOpen        = "open"
)

// AccessAuthorize is the §4.5 model where the owner approves each
// subscriber (§8.6); the pubsub service serves it, PEP does not.
const AccessAuthorize = "authorize"

func (c Config) publishModel() string {
	if c.PublishModel == "" {
		return PublishPublishers
	}
	return c.PublishModel
}

// Equal reports whether two configurations are the same: what §7.1.5
// preconditions compare.
func (c Config) Equal(o Config) bool {
	return c.AccessModel == o.AccessModel && c.PersistItems == o.PersistItems &&
		c.MaxItems == o.MaxItems && slices.Equal(c.RosterGroups, o.RosterGroups) &&
		c.publishModel() == o.publishModel() && c.Title == o.Title &&
		c.NotifiesConfig() == o.NotifiesConfig() && c.NotifiesDelete() == o.NotifiesDelete() &&
		c.NotifiesRetract() == o.NotifiesRetract() && c.NotifiesSub() == o.NotifiesSub()
}

// Preconditions checks a publish-options form (§7.1.5) against the
// configuration c of an existing node: precondition-not-met when they
// differ; maxItems is as for Apply.
func (c Config) Preconditions(x *xmlstream.Element, maxItems int) error {
	want := c
	if err := want.Apply(x, NSPublishOptions, maxItems); err != nil {
		return err
	}
	if !want.Equal(c) {
		return ErrPrecondition.WithText("the node's configuration differs from the publish-options")
	}
	return nil
}

// Marshal is the configuration as the store keeps it.
func (c Config) Marshal() []byte {
	b, _ := json.Marshal(c) // strings, bools and ints only: cannot fail
	return b
}

// Unmarshal reads a stored configuration into c, keeping c's values for
// what the JSON does not hold.
func (c *Config) Unmarshal(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, c)
}

// Form is the configuration as a data form of type typ (§8.2.1).
func (c Config) Form(typ string) *xmlstream.Element {
	groups := dataform.NewField("pubsub#roster_groups_allowed", dataform.ListMulti, "Roster groups allowed to subscribe")
	groups.Values = append(groups.Values, c.RosterGroups...)
	access := dataform.ListField("pubsub#access_model", "Access model", c.AccessModel,
		AccessOpen, AccessPresence, AccessRoster, AccessWhitelist, AccessAuthorize)
	return dataform.New(typ, NSNodeConfig,
		dataform.NewField("pubsub#title", dataform.TextSingle, "Title", c.Title),
		access, groups,
		dataform.ListField("pubsub#publish_model", "Who may publish", c.publishModel(),
			PublishPublishers, PublishSubscribers, PublishOpen),
		dataform.NewField("pubsub#persist_items", dataform.Boolean, "Persist items", dataform.BoolValue(c.PersistItems)),
		dataform.NewField("pubsub#max_items", dataform.TextSingle, "Items kept", strconv.Itoa(c.MaxItems)),
		dataform.NewField("pubsub#notify_config", dataform.Boolean, "Notify subscribers when the configuration changes", dataform.BoolValue(c.NotifiesConfig())),
		dataform.NewField("pubsub#notify_delete", dataform.Boolean, "Notify subscribers when the node is deleted", dataform.BoolValue(c.NotifiesDelete())),
		dataform.NewField("pubsub#notify_retract", dataform.Boolean, "Notify subscribers when items are removed", dataform.BoolValue(c.NotifiesRetract())),
		dataform.NewField("pubsub#notify_sub", dataform.Boolean, "Notify owners about new subscribers and unsubscribes", dataform.BoolValue(c.NotifiesSub()))).Element()
}

// FormLimits bound the node_config and publish-options forms read: a
// few fields are meaningful, a client sends a dozen at most.
var FormLimits = dataform.Limits{Fields: 64, Values: 16, Bytes: 16 << 10}

// Apply changes c by a submitted node_config or publish-options form
// (§7.1.5, §8.2.4; formType is the FORM_TYPE expected, node_config is
// always accepted). maxItems is what "max" means and the ceiling of any
// pubsub#max_items. Fields without a setting here are accepted and
// ignored, as Prosody and ejabberd do. A roster model without groups
// admits nobody but the owner.
func (c *Config) Apply(x *xmlstream.Element, formType string, maxItems int) error {
	f, err := dataform.Parse(x, FormLimits)
	if err != nil {
		return err
	}
	if f.Has(dataform.FormType) {
		if t := f.FormType(); t != formType && t != NSNodeConfig {
			return stanza.ErrBadRequest.WithText("FORM_TYPE must be " + formType)
		}
	}
	if f.Has("pubsub#access_model") {
		val, err := f.Value("pubsub#access_model")
		if err != nil {
			return err
		}
		switch val = strings.TrimSpace(val); val {
		case AccessOpen, AccessPresence, AccessRoster, AccessWhitelist, AccessAuthorize:
			c.AccessModel = val
		default:
			return ErrAccessModel.WithText("unsupported access model " + val)
		}
	}
	if f.Has("pubsub#publish_model") {
		val, err := f.Value("pubsub#publish_model")
		if err != nil {
			return err
		}
		switch val = strings.TrimSpace(val); val {
		case PublishPublishers, PublishSubscribers, PublishOpen:
			c.PublishModel = val
		default:
			return stanza.ErrNotAcceptable.WithText("unknown publish model " + val)
		}
	}
	if f.Has("pubsub#title") {
		if c.Title, err = f.Value("pubsub#title"); err != nil {
			return err
		}
		if len(c.Title) > 1024 {
			return stanza.ErrNotAcceptable.WithText("pubsub#title is longer than 1024 bytes")
		}
	}
	if f.Has("pubsub#roster_groups_allowed") {
		c.RosterGroups = nil
		for _, g := range f.Values("pubsub#roster_groups_allowed") {
			if g != "" {
				c.RosterGroups = append(c.RosterGroups, g)
			}
		}
		slices.Sort(c.RosterGroups)
		c.RosterGroups = slices.Compact(c.RosterGroups)
	}
	for _, n := range []struct {
		field string
		dst   **bool
	}{{"pubsub#notify_config", &c.NotifyConfig}, {"pubsub#notify_delete", &c.NotifyDelete},
		{"pubsub#notify_retract", &c.NotifyRetract}, {"pubsub#notify_sub", &c.NotifySub}} {
		if f.Has(n.field) {
			v, err := f.Bool(n.field)
			if err != nil {
				return err
			}
			*n.dst = &v
		}
	}
	if f.Has("pubsub#persist_items") {
		if c.PersistItems, err = f.Bool("pubsub#persist_items"); err != nil {
			return err
		}
	}
	if f.Has("pubsub#max_items") {
		val, err := f.Value("pubsub#max_items")
		if err != nil {
			return err
		}
		if val = strings.TrimSpace(val); val == "max" {
			c.MaxItems = maxItems
			return nil
		}
		v, err := strconv.Atoi(val)
		if err != nil || v < 1 {
			return stanza.ErrBadRequest.WithText("pubsub#max_items must be a positive integer or max")
		}
		c.MaxItems = min(v, maxItems)
	}
	return nil
}
