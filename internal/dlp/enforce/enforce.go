// Package enforce applies the DLP policies (internal/dlp) to stanzas as
// the router's outbound check: message bodies and corrections (XEP-0308),
// room subjects (XEP-0045), upload slot requests (XEP-0363 file names and
// content types) and vCard text (XEP-0054 vcard-temp, XEP-0292 vCard4
// over PEP). It runs once per stanza a local user sends, before anything
// is delivered or archived and before a room fans a message out. It
// records incidents for the review queue (internal/supervision) and
// keeps the policies made through the admin API in the store.
package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/audit"
	"parley/internal/dlp"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is the namespace of the <dlp/> element in the notice a sender gets
// when a message was redacted.
const NS = "urn:parley:dlp:0"

// Namespaces of the payloads the filter reads.
const (
	nsCorrect = "urn:xmpp:message-correct:0"          // XEP-0308
	nsXHTML   = "http://jabber.org/protocol/xhtml-im" // XEP-0071
	nsUpload  = "urn:xmpp:http:upload:0"              // XEP-0363
	nsVCard   = "vcard-temp"                          // XEP-0054
	nsPubSub  = "http://jabber.org/protocol/pubsub"   // XEP-0163 publish
	nodeVCard = "urn:xmpp:vcard4"                     // XEP-0292
	nsVCard4  = "urn:ietf:params:xml:ns:vcard-4.0"    // RFC 6351
	nsXHTMLb  = "http://www.w3.org/1999/xhtml"        // XEP-0071 body
)

// Fields, as incidents name them.
const (
	FieldBody              = "body"
	FieldCorrection        = "correction"
	FieldSubject           = "subject"
	FieldUploadName        = "upload-filename"
	FieldUploadContentType = "upload-content-type"
	FieldVCard             = "vcard"
)

// ErrConfigPolicy refuses to change through the API a policy of the
// configuration file.
var ErrConfigPolicy = errors.New("dlp: the policy is defined in the configuration file")

// ErrInvalidPolicy wraps what is wrong with a policy given to PutPolicy.
var ErrInvalidPolicy = errors.New("dlp: invalid policy")

// Incidents stores what the filter found (store.Incidents).
type Incidents interface {
	AddIncident(ctx context.Context, in store.Incident) (int64, error)
}

// PolicyStore keeps the policies made through the API (store.Incidents).
type PolicyStore interface {
	DLPPolicies(ctx context.Context) ([]store.DLPPolicy, error)
	PutDLPPolicy(ctx context.Context, p store.DLPPolicy) error
	DeleteDLPPolicy(ctx context.Context, name string) error
}

// Auditor is the audit log (audit.Log).
type Auditor interface{ Emit(r audit.Record) }

// Options configure the filter.
type Options struct {
	// Policies are [[dlp.policy]]; Groups are [dlp.groups] (name →
	// bare JIDs), which policies name in their groups.
	Policies []dlp.Policy
	Groups   map[string][]string
	// Store keeps the API's policies; Incidents records findings. Audit
	// records every decision (nil: none).
	Store     PolicyStore
	Incidents Incidents
	Audit     Auditor
	Now       func() time.Time
	Log       *slog.Logger // nil: slog.Default()
}

// Module applies the policies to what local users send, as the router's
// outbound check: before anything is delivered or archived and before a
// room fans a message out, so each stanza is evaluated once.
type Module struct {
	o      Options
	engine atomic.Pointer[dlp.Engine]
	r      *router.Router

	mu  sync.Mutex // serialises policy changes (Put, Delete, Load)
	api []Listed   // the API's policies as stored, guarded by mu
}

// Listed is a policy as the API lists it.
type Listed struct {
	dlp.Policy
	Origin    string    `json:"origin"` // dlp.FromConfig or dlp.FromAPI
	Updated   time.Time `json:"updated,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// New builds the filter with the configuration's policies; Load adds the
// API's. The configuration's policies were checked by config.Validate:
// an error here is one of them.
func New(o Options) (*Module, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	m := &Module{o: o}
	if err := m.rebuild(nil); err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads the API's policies from the store. A stored policy that no
// longer compiles (a group it names left the configuration) is skipped
// with an error in the log, so that the others apply.
func (m *Module) Load(ctx context.Context) error {
	if m.o.Store == nil {
		return nil
	}
	stored, err := m.o.Store.DLPPolicies(ctx)
	if err != nil {
		return fmt.Errorf("dlp: load policies: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var list []Listed
	for _, sp := range stored {
		var p dlp.Policy
		if err := json.Unmarshal(sp.Spec, &p); err != nil {
			m.o.Log.Error("dlp: stored policy unreadable; skipped", "policy", sp.Name, "err", err)
			continue
		}
		if err := p.Check(m.o.Groups); err != nil || m.isConfig(p.Name) {
			m.o.Log.Error("dlp: stored policy invalid or shadowed by the configuration; skipped", "policy", sp.Name, "err", err)
			continue
		}
		list = append(list, Listed{Policy: p, Origin: dlp.FromAPI, Updated: sp.Updated, UpdatedBy: sp.UpdatedBy})
	}
	return m.rebuild(list)
}

func (m *Module) isConfig(name string) bool {
	return slices.ContainsFunc(m.o.Policies, func(p dlp.Policy) bool { return p.Name == name })
}

// rebuild compiles the configuration's policies with api and swaps the
// engine in; on error nothing changes.
func (m *Module) rebuild(api []Listed) error {
	ps := slices.Clone(m.o.Policies)
	origin := make([]string, len(ps), len(ps)+len(api))
	for i := range origin {
		origin[i] = dlp.FromConfig
	}
	for _, l := range api {
		ps = append(ps, l.Policy)
		origin = append(origin, dlp.FromAPI)
	}
	e, err := dlp.Compile(ps, origin, m.o.Groups)
	if err != nil {
		return err
	}
	m.engine.Store(e)
	m.api = api
	return nil
}

// Policies lists every policy: the configuration's, then the API's.
func (m *Module) Policies() []Listed {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Listed, 0, len(m.o.Policies)+len(m.api))
	for _, p := range m.o.Policies {
		out = append(out, Listed{Policy: p, Origin: dlp.FromConfig})
	}
	return append(out, m.api...)
}

// PutPolicy creates or replaces an API policy, stores it and applies it
// to the next stanza. It reports whether the policy is new. A policy
// that does not compile is an error naming its fields; a name of the
// configuration's is ErrConfigPolicy.
func (m *Module) PutPolicy(ctx context.Context, p dlp.Policy, actor string) (bool, error) {
	if err := p.Check(m.o.Groups); err != nil {
		return false, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.isConfig(p.Name) {
		return false, ErrConfigPolicy
	}
	l := Listed{Policy: p, Origin: dlp.FromAPI, Updated: m.o.Now().UTC(), UpdatedBy: actor}
	api := slices.Clone(m.api)
	i := slices.IndexFunc(api, func(x Listed) bool { return x.Name == p.Name })
	if i >= 0 {
		api[i] = l
	} else {
		api = append(api, l)
	}
	spec, _ := json.Marshal(p) // a dlp.Policy always encodes
	if err := m.o.Store.PutDLPPolicy(ctx, store.DLPPolicy{Name: p.Name, Spec: spec, Updated: l.Updated, UpdatedBy: actor}); err != nil {
		return false, err
	}
	return i < 0, m.rebuild(api)
}

// DeletePolicy removes an API policy; store.ErrNotFound if there is none,
// ErrConfigPolicy for one of the configuration's.
func (m *Module) DeletePolicy(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.isConfig(name) {
		return ErrConfigPolicy
	}
	if err := m.o.Store.DeleteDLPPolicy(ctx, name); err != nil {
		return err
	}
	return m.rebuild(slices.DeleteFunc(slices.Clone(m.api), func(x Listed) bool { return x.Name == name }))
}

// Register installs the filter as an outbound check.
func (m *Module) Register(r *router.Router) {
	m.r = r
	r.InterceptOutbound(m.check)
}

// field is one text the policies read: an element's text, or one of its
// attributes, with the elements above it (whose serialised bytes a
// redaction invalidates).
type field struct {
	name  string
	el    *xmlstream.Element
	attr  string
	above []*xmlstream.Element
}

func (f field) text() string {
	if f.attr != "" {
		return f.el.Get(f.attr)
	}
	return f.el.Text
}

// fields collects what the policies read in a stanza; fs is reused.
func fields(st *stanza.Stanza, fs []field) []field {
	root := st.El
	top := []*xmlstream.Element{root}
	switch st.Kind {
	case stanza.Message:
		if st.Type == "error" {
			return fs
		}
		body := FieldBody
		if root.Child("replace", nsCorrect) != nil {
			body = FieldCorrection
		}
		for _, c := range root.Children {
			switch {
			case c.Space != stanza.NSClient && c.Space != stanza.NSServer:
				if c.Name == "html" && c.Space == nsXHTML {
					fs = texts(fs, body, c, top, 0)
				}
			case c.Name == "body":
				fs = append(fs, field{name: body, el: c, above: top})
			case c.Name == "subject":
				fs = append(fs, field{name: FieldSubject, el: c, above: top})
			}
		}
	case stanza.IQ:
		if st.Type != "set" && st.Type != "get" {
			return fs
		}
		p := st.Payload()
		if p == nil {
			return fs
		}
		under := []*xmlstream.Element{root, p}
		switch {
		case p.Name == "request" && p.Space == nsUpload && st.Type == "get":
			fs = append(fs, field{name: FieldUploadName, el: p, attr: "filename", above: top},
				field{name: FieldUploadContentType, el: p, attr: "content-type", above: top})
		case st.Type != "set":
		case p.Name == "vCard" && p.Space == nsVCard:
			fs = texts(fs, FieldVCard, p, top, 0)
		case p.Name == "pubsub" && p.Space == nsPubSub:
			if pub := p.Child("publish", nsPubSub); pub != nil && pub.Get("node") == nodeVCard {
				fs = texts(fs, FieldVCard, pub, under, 0)
			}
		}
	}
	return fs
}

// binary are vCard elements holding pictures and sounds (base64 or data:
// URIs), which are not text to read: vcard-temp's and vCard4's.
var binary = map[string]bool{"PHOTO": true, "LOGO": true, "SOUND": true, "BINVAL": true,
	"photo": true, "logo": true, "sound": true}

// texts adds every element under el with text (not pictures or sounds).
func texts(fs []field, name string, el *xmlstream.Element, above []*xmlstream.Element, depth int) []field {
	if binary[el.Name] || depth > 16 {
		return fs
	}
	if strings.TrimSpace(el.Text) != "" {
		fs = append(fs, field{name: name, el: el, above: above})
	}
	above = append(above[:len(above):len(above)], el)
	for _, c := range el.Children {
		fs = texts(fs, name, c, above, depth+1)
	}
	return fs
}

// check is the outbound interceptor.
func (m *Module) check(ctx context.Context, st *stanza.Stanza) error {
	e := m.engine.Load()
	if e.Policies() == 0 || st.Kind == stanza.Presence {
		return nil
	}
	var buf [8]field
	fs := fields(st, buf[:0])
	if len(fs) == 0 {
		return nil
	}
	var inBuf [32]bool
	in, ok := e.InScope(st.From.Bare(), st.To.Bare(), inBuf[:0])
	if !ok {
		return nil
	}
	var hits []dlp.Hit
	var per []int // hits per field: fs[i] has hits[per[i-1]:per[i]]
	for _, f := range fs {
		hits = e.Scan(f.text(), in, hits)
		if len(hits) > 0 && per == nil {
			per = make([]int, 0, len(fs))
		}
		if per != nil {
			per = append(per, len(hits))
		}
	}
	if len(hits) == 0 {
		return nil
	}
	for len(per) < len(fs) {
		per = append([]int{0}, per...)
	}
	return m.act(ctx, st, e, fs, per, hits)
}

// act records the incident and applies the strongest action.
func (m *Module) act(ctx context.Context, st *stanza.Stanza, e *dlp.Engine, fs []field, per []int, hits []dlp.Hit) error {
	action := e.Decide(hits)
	in := store.Incident{Time: m.o.Now(), Source: store.IncidentDLP, Action: action,
		Sender: st.From.String(), Target: st.To.Bare().String(), Stanza: slices.Clone(st.Bytes())}
	var names []string // of the fields with hits
	counts := map[string]int{}
	lead := -1 // the policy whose notice the sender reads: the first of the strongest
	for i, f := range fs {
		start := 0
		if i > 0 {
			start = per[i-1]
		}
		if per[i] > start && !slices.Contains(names, f.name) {
			names = append(names, f.name)
		}
	}
	for _, h := range hits {
		p, _ := e.Policy(h.Policy)
		if !slices.Contains(in.Policies, p.Name) {
			in.Policies = append(in.Policies, p.Name)
		}
		if !slices.Contains(in.Detectors, h.Detector) {
			in.Detectors = append(in.Detectors, h.Detector)
		}
		counts[h.Detector]++
		if p.Action == action && lead < 0 {
			lead = h.Policy
		}
	}
	in.Field = strings.Join(names, ",")
	var parts []string
	for _, d := range in.Detectors {
		parts = append(parts, fmt.Sprintf("%s×%d", d, counts[d]))
	}
	in.Summary = fmt.Sprintf("%s: %s in %s (%s)", action, strings.Join(parts, ", "), in.Field, strings.Join(in.Policies, ", "))

	id, err := m.o.Incidents.AddIncident(ctx, in)
	if err != nil {
		// The decision stands (a block still blocks); the failure is
		// the operator's to see.
		m.o.Log.Error("dlp: incident not recorded", "err", err, "action", action, "policies", in.Policies)
	}
	if m.o.Audit != nil {
		m.o.Audit.Emit(audit.Record{Action: audit.ActionPolicy, Actor: st.From.Bare().String(), Target: in.Target,
			Outcome: audit.OutcomeSuccess, Details: map[string]string{"control": "dlp", "decision": action,
				"policies": strings.Join(in.Policies, ","), "detectors": strings.Join(in.Detectors, ","),
				"field": in.Field, "incident": fmt.Sprint(id)}})
	}
	leadPolicy, _ := e.Policy(lead)
	switch action {
	case dlp.Block:
		text := leadPolicy.Notice
		if text == "" {
			text = fmt.Sprintf("Blocked by the data loss prevention policy %q: %s found in the %s. It was not sent.",
				leadPolicy.Name, describe(in.Detectors), human(in.Field))
		}
		return stanza.ErrPolicyViolation.WithText(text)
	case dlp.Redact:
		m.redact(st, e, fs, per, hits)
		m.tellRedacted(st, leadPolicy, in, id)
	}
	return nil
}

// redact rewrites every field with hits of a redacting policy, drops an
// XHTML-IM copy of a message body (its markup would have to be redacted
// too), and invalidates the serialised bytes above each change.
func (m *Module) redact(st *stanza.Stanza, e *dlp.Engine, fs []field, per []int, hits []dlp.Hit) {
	changed := false
	for i, f := range fs {
		start := 0
		if i > 0 {
			start = per[i-1]
		}
		if per[i] == start {
			continue
		}
		text := e.Redact(f.text(), hits[start:per[i]])
		if text == f.text() {
			continue
		}
		if f.attr != "" {
			f.el.Set(f.attr, text)
		} else {
			f.el.Text = text
			f.el.Raw = nil
		}
		for _, a := range f.above {
			a.Raw = nil
		}
		changed = true
	}
	if changed && st.Kind == stanza.Message {
		st.RemoveChildren(func(c *xmlstream.Element) bool { return c.Name == "html" && c.Space == nsXHTML })
	}
	st.El.Raw = nil
}

// tellRedacted sends the sender a headline from the server saying what
// was redacted, naming the message by its id (the sender's client may
// show it beside the message).
func (m *Module) tellRedacted(st *stanza.Stanza, p dlp.Policy, in store.Incident, id int64) {
	if m.r == nil || st.From.IsZero() {
		return
	}
	text := p.Notice
	if text == "" {
		text = fmt.Sprintf("Your %s to %s went through with %s redacted by the data loss prevention policy %q.",
			human(in.Field), in.Target, describe(in.Detectors), p.Name)
	}
	n := stanza.New(stanza.Message, m.r.Domain(), st.From, "headline", stanza.NewID())
	n.El.Add(xmlstream.NewText("body", stanza.NSClient, text),
		xmlstream.New("dlp", NS, "action", dlp.Redact, "policy", p.Name, "incident", fmt.Sprint(id), "id", st.ID))
	m.r.DeliverTo(st.From, n)
}

// human names fields (comma-separated) for people.
func human(fields string) string {
	names := map[string]string{FieldBody: "message", FieldCorrection: "correction", FieldSubject: "subject",
		FieldUploadName: "file name", FieldUploadContentType: "file type", FieldVCard: "vCard"}
	var out []string
	for f := range strings.SplitSeq(fields, ",") {
		out = append(out, names[f])
	}
	return strings.Join(out, " and ")
}

// describe names detectors for people.
func describe(dets []string) string {
	names := map[string]string{dlp.Card: "a card number", dlp.IBAN: "an IBAN", dlp.SSN: "a US social security number",
		dlp.PrivateKey: "a private key", dlp.AWSKey: "an AWS access key", dlp.GCPKey: "a Google Cloud API key",
		dlp.AzureKey: "an Azure storage key", dlp.GitHub: "a dlp.GitHub token", dlp.Slack: "a dlp.Slack token",
		dlp.Keyword: "a restricted word", dlp.Regexp: "a restricted pattern"}
	var out []string
	for _, d := range dets {
		out = append(out, names[d])
	}
	return strings.Join(out, ", ")
}
