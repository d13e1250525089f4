package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"parley/internal/clock"
	"parley/internal/dataform"
	"parley/internal/defaults"
	"parley/internal/im/adhoc"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

// NodeSettings is the ad-hoc command (XEP-0050) with which a user sets
// or clears the address digests go to. Its form has one text field,
// FieldAddress; an empty value opts out.
const (
	NodeSettings = "urn:parley:digest"
	FieldAddress = "address"
)

// Defaults for zero Options.
const (
	// DefaultDelay is how long a digest collects missed messages before
	// it is sent: long enough that a user who is only briefly away finds
	// them in a client instead.
	DefaultDelay = time.Hour
	// DefaultMaxLines bounds the messages a digest names one by one;
	// the rest are counted.
	DefaultMaxLines = 50
)

// Limits of what is kept and sent.
const (
	maxAddress  = 254 // bytes of an address (RFC 5321 §4.5.3.1.3, as used)
	maxBodyRune = 500 // characters of a body quoted in a digest
	maxAttempts = 4   // sends of one digest before it is dropped
	sendTimeout = 30 * time.Second
)

// Store keeps the addresses; store.DigestAddresses provides it.
type Store interface {
	DigestAddress(ctx context.Context, username string) (string, error)
	SetDigestAddress(ctx context.Context, username, address string) error
}

// Mailer sends one message (RFC 5322, CRLF line ends) to one address;
// *SMTP is the real one.
type Mailer interface {
	Send(ctx context.Context, from, to string, msg []byte) error
}

// Commands is the ad-hoc command registry; *adhoc.Module provides it.
type Commands interface {
	Add(c adhoc.Command)
}

// Options configure the module; zero values mean the defaults.
type Options struct {
	Store    Store
	Mailer   Mailer
	Commands Commands
	// From is the sender's address in the envelope and the From header.
	From string
	// Delay is how long a digest collects messages (DefaultDelay).
	Delay time.Duration
	// IncludeBody quotes the messages' bodies in digests; off, a digest
	// says only who wrote and how often.
	IncludeBody bool
	// MaxLines bounds the messages named one by one (DefaultMaxLines).
	MaxLines int
	Clock    clock.Clock
	Log      *slog.Logger
}

// Module collects missed messages and mails digests.
type Module struct {
	store       Store
	mailer      Mailer
	cmds        Commands
	from        string
	delay       time.Duration
	includeBody bool
	maxLines    int
	clock       clock.Clock
	log         *slog.Logger
	router      *router.Router // set by Register

	mu      sync.Mutex
	pending map[string]*batch // by username
	closed  bool
	wg      sync.WaitGroup // sends in flight
}

// batch is what one user missed since the window opened.
type batch struct {
	since    time.Time
	timer    clock.Timer
	attempts int
	total    int
	senders  []sender // in order of their first message
	lines    []line   // the first MaxLines messages
}

type sender struct {
	jid      string
	count    int
	mentions bool // the sender is a room and these are mentions
}

type line struct {
	at   time.Time
	from string
	body string
}

// New returns the module.
func New(o Options) *Module {
	m := &Module{store: o.Store, mailer: o.Mailer, cmds: o.Commands, from: o.From,
		delay: o.Delay, includeBody: o.IncludeBody, maxLines: o.MaxLines,
		clock: clock.Or(o.Clock), log: o.Log, pending: make(map[string]*batch)}
	defaults.Positive(&m.delay, DefaultDelay)
	defaults.Positive(&m.maxLines, DefaultMaxLines)
	if m.log == nil {
		m.log = slog.Default()
	}
	return m
}

// Register watches missed messages and the users' return, and offers the
// settings command.
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.OnUnattended(m.unattended)
	r.InterceptOutbound(m.presence)
	if m.cmds != nil {
		m.cmds.Add(m.command())
	}
}

// Close stops the pending windows (their digests are not sent) and waits
// for the sends in flight.
func (m *Module) Close() error {
	m.mu.Lock()
	m.closed = true
	for user, b := range m.pending {
		b.timer.Stop()
		delete(m.pending, user)
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// unattended is the router's hook: it counts the notable messages and
// opens the user's window at the first.
func (m *Module) unattended(_ context.Context, msgs []*stanza.Stanza) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for _, st := range msgs {
		nick := m.router.Nickname(st)
		if !router.Notable(st, nick) || st.From.Bare() == st.To.Bare() {
			continue
		}
		user := st.To.Local()
		b := m.pending[user]
		if b == nil {
			b = &batch{since: now}
			b.timer = m.clock.AfterFunc(m.delay, func() { m.due(user) })
			m.pending[user] = b
		}
		b.add(st, now, m.maxLines)
	}
}

// add counts st in the batch and keeps it as a line while there is room.
func (b *batch) add(st *stanza.Stanza, now time.Time, maxLines int) {
	b.total++
	from := st.From.Bare().String()
	b.count(sender{jid: from, count: 1, mentions: st.Type == "groupchat"})
	if len(b.lines) < maxLines {
		who := from
		if st.Type == "groupchat" && st.From.Resource() != "" {
			who = st.From.Resource() + " in " + from
		}
		b.lines = append(b.lines, line{at: now, from: who, body: truncate(st.El.ChildText("body", ""), maxBodyRune)})
	}
}

// presence is the outbound interceptor: available broadcast presence
// means a client of the user came online and gets what it missed from
// offline storage or the archive, so the window closes without a mail.
func (m *Module) presence(_ context.Context, st *stanza.Stanza) error {
	if st.Kind != stanza.Presence || st.Type != "" || !st.To.IsZero() {
		return nil
	}
	m.forget(st.From.Local())
	return nil
}

// forget closes a user's window without a mail.
func (m *Module) forget(user string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.pending[user]; b != nil {
		b.timer.Stop()
		delete(m.pending, user)
	}
}

// due ends a user's window: unless a client of the user is connected now
// (one that resumed a stream sends no new presence), the digest goes to
// the user's address, if any.
func (m *Module) due(user string) {
	m.mu.Lock()
	b := m.pending[user]
	if b == nil || m.closed {
		m.mu.Unlock()
		return
	}
	delete(m.pending, user)
	m.wg.Add(1)
	m.mu.Unlock()
	defer m.wg.Done()

	bare, err := jid.New(user, m.router.Domain().String(), "")
	if err != nil || m.attended(bare) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	addr, err := m.store.DigestAddress(ctx, user)
	if err != nil {
		m.retry(user, b, err)
		return
	}
	if addr == "" {
		return // not opted in
	}
	msg := compose(m.from, addr, bare, b, m.includeBody, m.clock.Now())
	if err := m.mailer.Send(ctx, m.from, addr, msg); err != nil {
		m.retry(user, b, err)
		return
	}
	m.log.Info("digest: sent", "user", user, "messages", b.total)
}

// retry puts a digest that could not be sent back, merged with what the
// user missed since, until it has been tried maxAttempts times.
func (m *Module) retry(user string, b *batch, err error) {
	b.attempts++
	if b.attempts >= maxAttempts {
		m.log.Error("digest: dropped after repeated failures", "user", user, "messages", b.total, "err", err)
		return
	}
	m.log.Warn("digest: send failed, will retry", "user", user, "attempt", b.attempts, "err", err)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	if newer := m.pending[user]; newer != nil {
		newer.timer.Stop()
		b.merge(newer, m.maxLines)
	}
	b.timer = m.clock.AfterFunc(m.delay, func() { m.due(user) })
	m.pending[user] = b
}

// count adds s's messages to its sender's count, first seen last.
func (b *batch) count(s sender) {
	for i := range b.senders {
		if b.senders[i].jid == s.jid {
			b.senders[i].count += s.count
			return
		}
	}
	b.senders = append(b.senders, s)
}

// merge adds what o counted to b.
func (b *batch) merge(o *batch, maxLines int) {
	b.total += o.total
	for _, s := range o.senders {
		b.count(s)
	}
	for _, l := range o.lines {
		if len(b.lines) < maxLines {
			b.lines = append(b.lines, l)
		}
	}
}

// attended reports whether a session of the account has its client
// connected (not hibernating under XEP-0198).
func (m *Module) attended(bare jid.JID) bool {
	for _, res := range m.router.Resources(bare) {
		if h, ok := res.Session.(router.Hibernating); !ok || !h.Hibernated() {
			return true
		}
	}
	return false
}

// command is the settings command: execute shows the form with the
// current address, complete with the form stores the new one.
func (m *Module) command() adhoc.Command {
	return adhoc.Setting(NodeSettings, "Email digests of missed messages",
		func(ctx context.Context, user string) (*dataform.Form, error) {
			addr, err := m.store.DigestAddress(ctx, user)
			if err != nil {
				return nil, err
			}
			f := dataform.New(dataform.TypeForm, NodeSettings,
				dataform.NewField(FieldAddress, dataform.TextSingle, "Email address (empty: no digests)", addr))
			f.Title = "Email digests"
			f.Instructions = []string{fmt.Sprintf("Messages that reach you while none of your clients is connected are summarised in one email after %v.", m.delay)}
			return f, nil
		},
		func(ctx context.Context, user string, form *dataform.Form) (string, error) {
			raw, _ := form.Value(FieldAddress)
			addr, err := parseAddress(raw)
			if err != nil {
				return "", adhoc.ErrBadPayload.WithText(err.Error())
			}
			if err := m.store.SetDigestAddress(ctx, user, addr); err != nil {
				return "", err
			}
			if addr == "" {
				return "You will get no email digests.", nil
			}
			return "Digests of missed messages go to " + addr + ".", nil
		})
}

// parseAddress checks a submitted address: one bare addr-spec (no display
// name, no list), or "" to opt out.
func parseAddress(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > maxAddress {
		return "", fmt.Errorf("the address is longer than %d bytes", maxAddress)
	}
	a, err := mail.ParseAddress(raw)
	if err != nil || a.Name != "" || a.Address != raw {
		return "", errors.New("not an email address (write it as name@example.org)")
	}
	return a.Address, nil
}

// truncate cuts s to n characters, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
