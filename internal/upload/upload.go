package upload

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"log/slog"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/internal/clock"
	"parley/internal/dataform"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/service"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is XEP-0363's namespace.
const NS = "urn:xmpp:http:upload:0"

// Namespaces of XEP-0030 that the service answers.
const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
)

// Defaults of the zero Options fields (docs/SECURITY.md, Uploads).
const (
	DefaultMaxFileSize  = 100 << 20
	DefaultQuotaBytes   = 1 << 30
	DefaultDayBytes     = 256 << 20
	DefaultMaxNameBytes = 255
	DefaultSlotTTL      = 5 * time.Minute
	DefaultPutTimeout   = time.Hour
	DefaultExpire       = 30 * 24 * time.Hour
	DefaultCleanupEvery = time.Minute
	DefaultCleanupBatch = 100
	// quotaWindow is the period of the per-day quota.
	quotaWindow = 24 * time.Hour
	// maxContentType bounds the declared media type.
	maxContentType = 255
)

// Store is what the service keeps in the store.
type Store interface {
	store.Uploads
}

// Accounts tells whether an uploader's account may still hand out files;
// the account store provides it.
type Accounts interface {
	GetUser(ctx context.Context, username string) (store.User, error)
}

// Options are the service's dependencies and limits; zero limits mean the
// defaults above.
type Options struct {
	// JID is the service's address; zero means upload.<domain>.
	JID   jid.JID
	Store Store
	// Accounts, if set, is asked for the owner of each file at each GET
	// and PUT: the files of a disabled (or suspended) account are not
	// served and its slots take nothing until it is enabled again, so
	// suspending a stolen account also stops the URLs it handed out.
	// nil: no check.
	Accounts Accounts
	Blobs    Blobs
	// Secret keys the HMAC of PUT URLs (at least 32 bytes, LoadSecret).
	Secret []byte
	// BaseURL returns the URL under which the HTTP handler is reachable
	// ("https://example.com:5281"); the service answers slot requests
	// with service-unavailable while it returns "". A func because the
	// HTTPS listener's port is known only once it listens.
	BaseURL func() string

	MaxFileSize  int64         // largest file in bytes
	QuotaBytes   int64         // bytes one account may hold
	DayBytes     int64         // bytes one account may upload in 24 hours
	MaxNameBytes int           // longest file name in bytes
	SlotTTL      time.Duration // how long a PUT URL works
	// PutTimeout bounds one PUT from its start: the body must have
	// arrived by then (a slow client cannot hold a slot and a connection
	// for ever), and until then the cleanup leaves the upload alone.
	PutTimeout time.Duration
	Expire     time.Duration // how long a file is kept
	// ContentTypes are the media types accepted; none means any.
	ContentTypes []string
	CleanupEvery time.Duration // how often expired uploads are looked for
	CleanupBatch int           // uploads removed per store round trip

	Clock clock.Clock
	Log   *slog.Logger
}

// Module is the upload service.
type Module struct {
	o      Options
	jid    jid.JID
	router *router.Router
	clock  clock.Clock

	// quota serialises the check and reservation of slots per account
	// (striped by a hash of the username), so that two requests of one
	// account cannot both pass a quota that only one fits (on one node;
	// a cluster may overshoot by the requests it checks at the same
	// moment).
	quota [64]sync.Mutex

	wake    chan struct{}   // asks the cleanup for a pass now
	ctx     context.Context // ends at Close: stops the cleanup
	stop    context.CancelFunc
	stopped sync.WaitGroup
}

// New returns the service; Register installs it and starts its cleanup.
func New(o Options) *Module {
	defaults.Positive(&o.MaxFileSize, DefaultMaxFileSize)
	defaults.Positive(&o.QuotaBytes, DefaultQuotaBytes)
	defaults.Positive(&o.DayBytes, DefaultDayBytes)
	// A file no quota could ever hold is too large, not a reason to
	// retry later.
	o.MaxFileSize = min(o.MaxFileSize, o.QuotaBytes, o.DayBytes)
	defaults.Positive(&o.MaxNameBytes, DefaultMaxNameBytes)
	defaults.Positive(&o.SlotTTL, DefaultSlotTTL)
	defaults.Positive(&o.PutTimeout, DefaultPutTimeout)
	defaults.Positive(&o.Expire, DefaultExpire)
	defaults.Positive(&o.CleanupEvery, DefaultCleanupEvery)
	defaults.Positive(&o.CleanupBatch, DefaultCleanupBatch)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.BaseURL == nil {
		o.BaseURL = func() string { return "" }
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Module{o: o, jid: o.JID, clock: clock.Or(o.Clock),
		wake: make(chan struct{}, 1), ctx: ctx, stop: stop}
}

// Register serves the service's domain on r and starts the cleanup, which
// Close stops.
func (m *Module) Register(r *router.Router) {
	m.router = r
	if m.jid.IsZero() {
		m.jid = jid.MustParse("upload." + r.Domain().String())
	}
	r.HandleDomain(m.jid.String(), m.handle)
	m.stopped.Add(1)
	go m.cleanup()
}

// JID is the service's address.
func (m *Module) JID() jid.JID { return m.jid }

// Close stops the cleanup and waits for it.
func (m *Module) Close() {
	m.stop()
	m.stopped.Wait()
}

// Forget is called when an account is deleted: the store has expired its
// uploads, and the cleanup removes them now rather than at its next round.
func (m *Module) Forget(username string) {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// handle receives every stanza addressed to the service.
func (m *Module) handle(ctx context.Context, st *stanza.Stanza) {
	q := service.Request(ctx, m.router.Send, st)
	if q == nil {
		return
	}
	var res *xmlstream.Element
	var err error
	switch {
	case q.Space == nsDiscoInfo && q.Name == "query" && st.Type == "get" && q.Get("node") == "":
		res = m.discoInfo()
	case q.Space == nsDiscoItems && q.Name == "query" && st.Type == "get" && q.Get("node") == "":
		res = xmlstream.New("query", nsDiscoItems)
	case q.Space == NS && q.Name == "request" && st.Type == "get":
		res, err = m.request(ctx, st.From, q)
	default:
		err = stanza.ErrServiceUnavailable
	}
	service.Answer(ctx, m.router.Send, m.o.Log, st, res, err)
}

// discoInfo is XEP-0363 §2: the feature, and the largest file size as an
// XEP-0128 extended form so clients need not ask for a slot to learn it.
func (m *Module) discoInfo() *xmlstream.Element {
	res := xmlstream.New("query", nsDiscoInfo).Add(
		xmlstream.New("identity", nsDiscoInfo, "category", "store", "type", "file", "name", "HTTP File Upload"),
		xmlstream.New("feature", nsDiscoInfo, "var", nsDiscoInfo),
		xmlstream.New("feature", nsDiscoInfo, "var", NS))
	form := dataform.New("result", NS, dataform.NewField("max-file-size", "", "", strconv.FormatInt(m.o.MaxFileSize, 10)))
	return res.Add(form.Element())
}

// request answers a slot request (XEP-0363 §4) or refuses it (§5).
func (m *Module) request(ctx context.Context, from jid.JID, q *xmlstream.Element) (*xmlstream.Element, error) {
	// Only this server's accounts may upload: quotas are per account,
	// and a remote entity has none here.
	if from.Local() == "" || !m.router.IsLocal(from) {
		return nil, stanza.ErrNotAllowed.WithText("only accounts of this server may upload")
	}
	base := m.o.BaseURL()
	if base == "" {
		return nil, stanza.ErrServiceUnavailable.WithText("no HTTPS address to upload to")
	}
	name, size, ctype, err := m.checkRequest(q)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	owner := from.Local()
	u := store.Upload{ID: id, Owner: owner, Name: name, Size: size, ContentType: ctype,
		Created: now, Expires: now.Add(m.o.SlotTTL)}
	if err := m.reserve(ctx, u, now); err != nil {
		return nil, err
	}
	exp := u.Expires.Unix()
	put := slotURL(base, id, name) + "?" + url.Values{
		"e": {strconv.FormatInt(exp, 10)},
		"s": {sign(m.o.Secret, id, size, ctype, exp)},
	}.Encode()
	return xmlstream.New("slot", NS).Add(
		xmlstream.New("put", NS, "url", put),
		xmlstream.New("get", NS, "url", slotURL(base, id, name))), nil
}

// checkRequest validates the request's attributes: a malformed request is
// bad-request; a well-formed one the service will not take is
// not-acceptable (with <file-too-large/> for the size, §5).
func (m *Module) checkRequest(q *xmlstream.Element) (name string, size int64, ctype string, err error) {
	name = q.Get("filename")
	size, perr := strconv.ParseInt(q.Get("size"), 10, 64)
	if name == "" || perr != nil || size < 0 {
		return "", 0, "", stanza.ErrBadRequest.WithText("a request needs a filename and a size in bytes")
	}
	if why := badName(name, m.o.MaxNameBytes); why != "" {
		return "", 0, "", stanza.ErrNotAcceptable.WithText("file name " + why)
	}
	ctype, why := m.contentType(q.Get("content-type"))
	if why != "" {
		return "", 0, "", stanza.ErrNotAcceptable.WithText("content type " + why)
	}
	if size > m.o.MaxFileSize {
		max := strconv.FormatInt(m.o.MaxFileSize, 10)
		return "", 0, "", stanza.ErrNotAcceptable.
			WithText("file too large: the maximum file size is " + max + " bytes").
			WithApp(xmlstream.New("file-too-large", NS).Add(xmlstream.NewText("max-file-size", NS, max)))
	}
	return name, size, ctype, nil
}

// badName says what is wrong with a file name, or "". The name becomes the
// last segment of the URLs and the name a browser saves the file under, so
// it may not name a directory or hold control characters.
func badName(name string, max int) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > max:
		return "longer than " + strconv.Itoa(max) + " bytes"
	case !utf8.ValidString(name):
		return "is not UTF-8"
	case name == "." || name == "..":
		return "names a directory"
	case strings.ContainsAny(name, `/\`):
		return "contains a path separator"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "contains a control character"
	}
	return ""
}

// contentType checks the declared media type; none stays "" (the PUT may
// then send any, XEP-0363 §6, and the file is served as
// application/octet-stream).
func (m *Module) contentType(ct string) (string, string) {
	if ct == "" {
		return "", ""
	}
	if len(ct) > maxContentType {
		return "", "longer than " + strconv.Itoa(maxContentType) + " bytes"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "", "is not a media type"
	}
	if len(m.o.ContentTypes) > 0 && !allowed(m.o.ContentTypes, mt) {
		return "", mt + " is not accepted here"
	}
	// The signature and the PUT's check compare the type as declared, so
	// the client sends back exactly what it asked for.
	return ct, ""
}

// allowed matches a media type against a list of types and type/*.
func allowed(list []string, mt string) bool {
	for _, a := range list {
		a = strings.ToLower(a)
		if a == mt || (strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, a[:len(a)-1])) {
			return true
		}
	}
	return false
}

// reserve checks the account's quotas and records the slot.
func (m *Module) reserve(ctx context.Context, u store.Upload, now time.Time) error {
	h := fnv.New32a()
	h.Write([]byte(u.Owner))
	mu := &m.quota[h.Sum32()%uint32(len(m.quota))]
	mu.Lock()
	defer mu.Unlock()
	since := now.Add(-quotaWindow)
	use, err := m.o.Store.UploadUsage(ctx, u.Owner, since, now)
	if err != nil {
		return err
	}
	if use.Bytes+u.Size > m.o.QuotaBytes {
		// Space comes back when the account's first upload expires; a
		// retry then may still be refused with a later stamp.
		return quotaError(fmt.Sprintf("quota reached: you may keep %d bytes of uploads", m.o.QuotaBytes), later(use.NextExpiry, now))
	}
	if use.SinceBytes+u.Size > m.o.DayBytes {
		// The oldest upload of the window leaves it first; a retry then
		// may still be refused with a later stamp.
		return quotaError(fmt.Sprintf("quota reached: you may upload %d bytes a day", m.o.DayBytes), later(use.SinceOldest.Add(quotaWindow), now))
	}
	return m.o.Store.ReserveUpload(ctx, u)
}

// later is t, or a minute from now if t is not after now (nothing of the
// account's expires: a file bigger than the whole quota, which the size
// check normally refuses first).
func later(t, now time.Time) time.Time {
	if !t.After(now) {
		return now.Add(time.Minute)
	}
	return t
}

// quotaError is XEP-0363 §5's temporary error with the time to retry at.
func quotaError(text string, retry time.Time) *stanza.Error {
	return stanza.ErrResourceConstraint.WithText(text).
		WithApp(xmlstream.New("retry", NS, "stamp", retry.UTC().Truncate(time.Second).Format(time.RFC3339)))
}

// newID is a slot's identifier: 128 random bits, what makes the GET URL
// unguessable (XEP-0363 §7).
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// slotURL is the GET URL of a slot, and the PUT URL without its signature.
func slotURL(base, id, name string) string {
	return strings.TrimSuffix(base, "/") + Path + id + "/" + url.PathEscape(name)
}
