package server

import (
	"context"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/dlp/enforce"
	"parley/internal/im/adhoc"
	"parley/internal/im/admin"
	"parley/internal/im/barrier"
	"parley/internal/im/blocking"
	"parley/internal/im/carbons"
	"parley/internal/im/contact"
	"parley/internal/im/disco"
	"parley/internal/im/entitytime"
	"parley/internal/im/extdisco"
	"parley/internal/im/last"
	"parley/internal/im/mam"
	"parley/internal/im/muc"
	"parley/internal/im/offline"
	"parley/internal/im/pep"
	"parley/internal/im/ping"
	"parley/internal/im/presence"
	"parley/internal/im/private"
	"parley/internal/im/pubsub"
	"parley/internal/im/push"
	"parley/internal/im/register"
	"parley/internal/im/roster"
	"parley/internal/im/spam"
	"parley/internal/im/vcard"
	"parley/internal/im/version"
	"parley/internal/jid"
)

// registerModules builds every IM module on the router, and the in-band
// registration handler for c2s (s.registration, open while
// register.enabled).
func (s *Server) registerModules(cfg config.Config) {
	r, st, log := s.router, s.store, s.log
	domain := r.Domain()

	rosters := roster.New(roster.Options{Store: st, Shared: s.sharedGroups()})
	rosters.Register(r)
	if s.directory != nil {
		s.directory.Roster = rosters // shared groups' changes are pushed
	}

	pres := presence.New(presence.Options{Roster: rosters, MaxDirected: cfg.Quotas.DirectedPresence,
		Log: log.With("component", "presence")})
	off := offline.New(offline.Options{Store: st, Limit: cfg.Limits.OfflineMax, Disabled: cfg.Limits.OfflineMax == 0,
		MaxBytes:   cfg.Limits.OfflineBytes,
		BatchBytes: cfg.Limits.MaxQueue / 4, Log: log.With("component", "offline")})
	s.offline = off
	pres.OnInitialPresence = off.OnInitialPresence
	pres.Register(r)
	off.Register(r)

	// Blocking (XEP-0191) with abuse reports (XEP-0377): stored, audited,
	// forwarded to the admins when [abuse] forward_reports.
	var reportTo []jid.JID
	if cfg.Abuse.ForwardReports {
		reportTo = mucAdmins(cfg.Admins)
	}
	blocks := blocking.New(blocking.Options{Store: st, Rosters: st, Reports: st, Audit: s.audit, ForwardTo: reportTo,
		MaxReportText: cfg.Abuse.ReportText, MaxReportStanzaIDs: cfg.Abuse.ReportStanzaIDs,
		ReportsPerDay: cfg.Abuse.ReportsPerDay, Log: log.With("component", "blocking")})
	blocks.Register(r)
	// A bot account (store.User.Bot) says so in disco and in its vCard.
	isBot := func(ctx context.Context, username string) bool {
		u, err := st.GetUser(ctx, username)
		return err == nil && u.Bot
	}
	discoItems := disco.New(disco.Options{Bot: isBot})
	discoItems.Register(r)
	s.serverCaps = discoItems.Caps
	// Ad-hoc commands (XEP-0050); modules add theirs to the registry.
	commands := adhoc.New(adhoc.Options{Log: log.With("component", "adhoc")})
	commands.Register(r)
	discoItems.AddNodes(commands.DiscoNode)
	// Spam controls: the server blocklist ([abuse] blocked, which
	// Validate checked), new-account limits, the stranger filter with its
	// ad-hoc command. The new-account limit is for sites where anyone may
	// make an account (in-band registration, the spammer's cheap tool);
	// accounts an operator made (CLI, admin API, XEP-0133, a directory)
	// are staff who may write to colleagues not yet in their roster.
	blocked, _ := spam.ParseBlocked(cfg.Abuse.Blocked)
	var newAccounts spam.Users
	if cfg.Register.Enabled {
		newAccounts = st
	}
	spam.New(spam.Options{Blocked: blocked, Users: newAccounts, Roster: rosters, NewAccountPeriod: cfg.Abuse.NewAccountPeriod.Duration,
		NewAccountRate: cfg.Abuse.NewAccountRate, Filters: st, Commands: commands, Audit: s.audit, Log: log.With("component", "spam")}).Register(r)
	// Information barriers, on the same inbound path; rooms ask them at
	// each join.
	walls := barrier.New(barrier.Options{Barriers: barriers(cfg.Barriers), Audit: s.audit, Log: log.With("component", "barrier")})
	walls.Register(r)
	// Data loss prevention: the configuration's policies and those made
	// through the admin API (kept in the store), checked on every stanza
	// a local user sends, after the blocklists and before anything is
	// delivered, archived or fanned out by a room.
	s.newDLP(cfg)
	extdisco.New(extdisco.Options{Services: externalServices(cfg.ExternalServices)}).Register(r)
	// Contact addresses (XEP-0157), last activity (XEP-0012), entity
	// time (XEP-0202).
	contact.New(contact.Options{Addresses: contactAddresses(cfg.Contact), Disco: discoItems}).Register(r)
	lastActivity := last.New(last.Options{Roster: rosters})
	lastActivity.Register(r)
	entitytime.New(entitytime.Options{}).Register(r)
	ping.New(ping.Options{}).Register(r)
	version.New(version.Options{Version: Version}).Register(r)

	// Multi-User Chat (XEP-0045) as the component conference.<domain>;
	// persistent rooms archive their messages (XEP-0313 §5) under the
	// room's JID.
	chat := muc.New(muc.Options{Rooms: st, Archive: st, Create: cfg.MUC.Create,
		Admins: mucAdmins(cfg.MUC.Admins), MaxRooms: cfg.MUC.MaxRoomsPerUser,
		MaxPersistentRooms: cfg.MUC.MaxPersistentRoomsPerUser, MaxVCardSize: cfg.MUC.MaxVCardSize,
		Required: cfg.Archive.Required, ArchiveLimits: mam.Limits{SearchBytes: cfg.Archive.SearchBytes, SearchWords: cfg.Archive.SearchWords,
			QueryTimeout: cfg.Archive.QueryTimeout.Duration},
		OnDestroy: s.roomDestroyed, Admit: walls.Admit, Log: log.With("component", "muc")})
	chat.Register(r)
	s.muc = chat
	discoItems.AddItem(chat.JID(), "Chatrooms")
	s.newProxy65(cfg, discoItems)    // XEP-0065 at proxy.<domain>
	s.newComponents(cfg, discoItems) // XEP-0114 gateways and bots
	s.newWebhooks(cfg, chat.JID())   // incoming webhooks into rooms and to users

	// HTTP File Upload (XEP-0363) as the component upload.<domain>, when
	// it has an https URL (https.go); a disco item of the domain (§2).
	if s.upload != nil {
		s.upload.Register(r)
		discoItems.AddItem(s.upload.JID(), "HTTP File Upload")
	}

	// History (XEP-0313), then carbons (XEP-0280). Both observe messages;
	// the archive returns its commit, which the sender's session waits for
	// before its ack (docs/design/06), and in compliance mode the router
	// waits for before delivering (carbons run after it).
	history := mam.New(mam.Options{Store: st, Roster: rosters, DefaultMode: cfg.Archive.Default,
		Required: cfg.Archive.Required, Log: log.With("component", "mam"),
		Limits: mam.Limits{SearchBytes: cfg.Archive.SearchBytes, SearchWords: cfg.Archive.SearchWords,
			QueryTimeout: cfg.Archive.QueryTimeout.Duration}})
	r.RequireWrites(cfg.Archive.Required)
	history.Register(r)
	s.mam = history
	discoItems.AddAccountFeature(mam.Features()...)
	s.carbons = carbons.New(carbons.Options{})
	s.carbons.Register(r)
	// Push notifications (XEP-0357) for messages that arrive while the
	// account's clients are away (offline, or hibernating under XEP-0198).
	notifier := push.New(push.Options{Store: st, IncludeBody: cfg.Push.IncludeBody,
		MinInterval: cfg.Push.MinInterval.Duration, MaxDevices: cfg.Push.MaxDevices, Log: log.With("component", "push")})
	notifier.Register(r)
	s.push = notifier
	discoItems.AddAccountFeature(push.NS)
	s.registerDigest(cfg, commands) // missed-message emails, when [digest] smtp is set

	// Personal eventing (XEP-0163): bookmarks (XEP-0402), OMEMO device
	// lists, avatars.
	// The same quotas bound the pubsub service below. An items reply fits
	// a session's outbound queue with room to spare unless the operator
	// sized it.
	pepQuotas := pubsub.Limits{ItemBytes: cfg.Quotas.PEPItemBytes, NodeItems: cfg.Quotas.PEPNodeItems,
		Nodes: cfg.Quotas.PEPNodes, ReplyBytes: cfg.Quotas.PEPReplyBytes, OwnerBytes: cfg.Quotas.PEPBytes}
	if pepQuotas.ReplyBytes == 0 && cfg.Limits.MaxQueue > 0 {
		pepQuotas.ReplyBytes = min(pubsub.DefaultReplyBytes, cfg.Limits.MaxQueue/4)
	}
	events := pep.New(pep.Options{Store: st, Roster: rosters, Blocks: blocks.Blocks,
		Limits: pep.Limits{Limits: pepQuotas,
			Discoveries: cfg.Quotas.CapsDiscoveries, AccountDiscoveries: cfg.Quotas.CapsAccountDiscoveries},
		Log: log.With("component", "pep")})
	events.Register(r)
	// Entity capabilities (XEP-0115) in presence say which notifications
	// a session wants (XEP-0163 §4.2).
	pres.OnAvailable, pres.OnUnavailable, pres.OnRemote = events.Available, events.Unavailable, events.RemotePresence
	s.pep = events
	discoItems.AddAccountFeature(pep.Features()...)
	discoItems.AddAccountIdentity("pubsub", "pep") // XEP-0163 §6.1
	// vCard photos and XEP-0084 avatars are converted both ways
	// (XEP-0398); private XML bookmarks and XEP-0402 ones are unified
	// (XEP-0402 §5.3).
	vcard.New(vcard.Options{Store: st, PEP: events, Fallback: s.directoryVCard(), Bot: isBot, Log: log.With("component", "vcard")}).Register(r)
	discoItems.AddAccountFeature(vcard.NSConversion)
	private.New(private.Options{Store: st, MaxKeys: cfg.Quotas.PrivateKeys, MaxBytes: cfg.Quotas.PrivateBytes,
		PEP: events, Log: log.With("component", "private")}).Register(r)
	discoItems.AddAccountFeature(private.FeatureCompat, private.FeatureConversion)

	// Publish-subscribe (XEP-0060) as the component pubsub.<domain>, on
	// the same core as PEP and within its quotas.
	topics := pubsub.New(pubsub.Options{Store: st, Roster: rosters, Create: cfg.PubSub.Create,
		Limits: pepQuotas,
		Log:    log.With("component", "pubsub")})
	topics.Register(r)
	discoItems.AddItem(topics.JID(), "Publish-Subscribe")

	// The stanza-id feature is the router's (it stamps ids, XEP-0359).
	r.AddFeature("urn:xmpp:sid:0")

	// Password change and account removal (XEP-0077 §3.2-3.3) are always
	// served to authenticated users; creating accounts before
	// authentication only when configured.
	reg := register.New(register.Options{Users: s.registerUsers()})
	reg.OnRemove = func(username string) {
		blocks.Forget(username)
		history.Forget(username)
		if s.upload != nil {
			s.upload.Forget(username) // the store expired its uploads; remove them now
		}
		if j, err := jid.New(username, domain.String(), ""); err == nil {
			lastActivity.Forget(j)
			if err := topics.Forget(context.Background(), j); err != nil {
				log.Error("pubsub: forget a deleted account", "jid", j.String(), "err", err)
			}
		}
	}
	reg.OnCreate = func(username, ip string) {
		s.accountEvent(audit.ActionAccountCreated, s.bare(username), username, ip, "xep-0077")
	}
	reg.OnPasswordChange = func(username string) {
		s.accountEvent(audit.ActionPasswordChanged, s.bare(username), username, "", "xep-0077")
	}
	selfRemove := reg.OnRemove
	s.forgetAccount = selfRemove
	reg.OnRemove = func(username string) {
		selfRemove(username)
		s.accountEvent(audit.ActionAccountDeleted, s.bare(username), username, "", "xep-0077")
	}
	reg.Register(r)
	// Service administration (XEP-0133) for the site admins (top-level
	// admins, bare JIDs parsed as for [muc] admins), through the
	// operator's operations (internal/control, as the CLI). Deleting an
	// account forgets what modules cache for it, as XEP-0077
	// cancellation does. What the commands change is audited with the
	// admin as the actor.
	admin.New(admin.Options{Admins: mucAdmins(cfg.Admins),
		Ops: &control.Ops{Domain: domain, Users: st, Sessions: r}, Disabler: st, Accounts: st,
		Commands: commands, OnDelete: selfRemove, Audit: s.audit.Emit}).Register(r)
	// c2s offers registration only while it is open (SIGHUP may change
	// register.enabled).
	s.registration = &liveRegistrar{Registrar: reg}
	s.registration.open.Store(cfg.Register.Enabled)
}

// newDLP builds and registers the DLP check (s.dlp). Validate compiled
// the configuration's policies; an API policy that no longer compiles is
// skipped with an error in the log.
func (s *Server) newDLP(cfg config.Config) {
	m, err := enforce.New(enforce.Options{Policies: cfg.DLP.Policies, Groups: cfg.DLP.Groups, Store: s.store,
		Incidents: s.store, Audit: s.audit, Log: s.log.With("component", "dlp")})
	if err != nil {
		s.log.Error("dlp: policies refused", "err", err)
		m, _ = enforce.New(enforce.Options{Store: s.store, Incidents: s.store, Audit: s.audit})
	}
	if err := m.Load(context.Background()); err != nil {
		s.log.Error("dlp: API policies not loaded", "err", err)
	}
	m.Register(s.router)
	s.dlp = m
}

// mucAdmins parses [muc] admins, which Validate checked.
// barriers converts [[barrier]]; Validate has refused what is not a
// JID.
func barriers(cs []config.Barrier) []barrier.Barrier {
	parse := func(ss []string) []jid.JID {
		var out []jid.JID
		for _, s := range ss {
			if j, err := jid.Parse(s); err == nil {
				out = append(out, j)
			}
		}
		return out
	}
	out := make([]barrier.Barrier, 0, len(cs))
	for _, c := range cs {
		out = append(out, barrier.Barrier{Name: c.Name, A: parse(c.A), B: parse(c.B)})
	}
	return out
}

func mucAdmins(admins []string) []jid.JID {
	out := make([]jid.JID, 0, len(admins))
	for _, a := range admins {
		if j, err := jid.Parse(a); err == nil {
			out = append(out, j.Bare())
		}
	}
	return out
}

// externalServices converts [[external_services]] (XEP-0215).
func externalServices(cs []config.ExternalService) []extdisco.Service {
	out := make([]extdisco.Service, 0, len(cs))
	for _, c := range cs {
		out = append(out, extdisco.Service{Type: c.Type, Host: c.Host, Port: c.Port, Transport: c.DefaultTransport(),
			Name: c.Name, Secret: c.Secret, CredentialTTL: c.CredentialTTL.Duration})
	}
	return out
}

// contactAddresses converts [contact] (XEP-0157).
func contactAddresses(c config.Contact) []contact.Addresses {
	var out []contact.Addresses
	for _, a := range c.Addresses() {
		out = append(out, contact.Addresses{Kind: a.Kind, URIs: a.URIs})
	}
	return out
}
