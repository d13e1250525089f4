package pubsub_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/pubsub"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait     = 10 * time.Second
	password = "pubsub pass 1"
	service  = "pubsub.localhost"
	node     = "princely_musings"
)

func iq(t *testing.T, c *xmpptest.Client, typ, payload string) *xmlstream.Element {
	t.Helper()
	return xmpptest.MustIQ(t, c, wait, typ, service, payload)
}

// ok fails unless the answer is a result.
func ok(t *testing.T, what string, res *xmlstream.Element) *xmlstream.Element {
	t.Helper()
	if res.Get("type") != "result" {
		t.Fatalf("%s: %s", what, res)
	}
	return res
}

func refused(t *testing.T, what, want string, res *xmlstream.Element) {
	t.Helper()
	if got := xmpptest.ErrorConditions(res); got != want {
		t.Fatalf("%s: got %q, want %q: %s", what, got, want, res)
	}
}

func ps(inner string) string { return `<pubsub xmlns='` + pubsub.NS + `'>` + inner + `</pubsub>` }
func owner(inner string) string {
	return `<pubsub xmlns='` + pubsub.NSOwner + `'>` + inner + `</pubsub>`
}

func entry(id, text string) string {
	return `<item id='` + id + `'><entry xmlns='http://www.w3.org/2005/Atom'><title>` + text + `</title></entry></item>`
}

func publish(n, id, text string) string {
	return ps(`<publish node='` + n + `'>` + entry(id, text) + `</publish>`)
}

func form(formType string, fields ...[2]string) string {
	s := `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>` + formType + `</value></field>`
	for _, f := range fields {
		s += `<field var='` + f[0] + `'><value>` + f[1] + `</value></field>`
	}
	return s + `</x>`
}

// event waits for a notification from the service whose text holds want.
func event(t *testing.T, c *xmpptest.Client, want string) *xmlstream.Element {
	t.Helper()
	ev, err := c.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == service && el.Child("event", pubsub.NSEvent) != nil &&
			strings.Contains(el.String(), want)
	})
	if err != nil {
		t.Fatalf("no event with %q: %v", want, err)
	}
	return ev
}

// noEvent: after a round trip to the service, no notification came.
func noEvent(t *testing.T, c *xmpptest.Client) {
	t.Helper()
	iq(t, c, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if ev, err := c.Expect(100*time.Millisecond, func(el *xmlstream.Element) bool {
		return el.Child("event", pubsub.NSEvent) != nil
	}); err == nil {
		t.Fatalf("unexpected event %s", ev)
	}
}

func start(t *testing.T, configure func(*config.Config), users ...string) *testserver.Server {
	srv := testserver.Start(t, configure)
	srv.AddUsers(t, password, users...)
	return srv
}

func roster(t *testing.T, srv *testserver.Server, user, contact, group string) {
	t.Helper()
	it := store.RosterItem{JID: contact, Subscription: store.SubBoth}
	if group != "" {
		it.Groups = []string{group}
	}
	if _, err := srv.Store().PutRosterItem(t.Context(), user, it); err != nil {
		t.Fatal(err)
	}
}

// TestServiceOverTCP walks XEP-0060's examples against pubsub.<domain>:
// discovery (§5), create (§8.1), subscribe (§6.1) and publish (§7.1) with
// notifications, items (§6.5), retract (§7.2), subscription options
// (§6.3), the entity's subscriptions and affiliations (§5.6, §5.7),
// publish-options preconditions (§7.1.5), owners managing subscriptions
// (§8.8) and affiliations (§8.9), configure (§8.2), purge (§8.5) and
// delete (§8.4).
func TestServiceOverTCP(t *testing.T) {
	srv := start(t, nil, "hamlet", "bernardo", "francisco")
	hamlet := srv.Online(t, "hamlet", password, "elsinore")
	bernardo := srv.Online(t, "bernardo", password, "castle")
	francisco := srv.Online(t, "francisco", password, "gate")

	// §5: the domain lists the service; the service says what it is.
	items, err := hamlet.IQ(wait, "get", "localhost", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	if err != nil || !strings.Contains(items.String(), "jid='"+service+"'") {
		t.Fatalf("domain items: %v %s", err, items)
	}
	info := ok(t, "service info", iq(t, hamlet, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)).String()
	for _, want := range []string{"category='pubsub' type='service'", pubsub.NS + "#create-nodes", pubsub.NS + "#access-authorize", pubsub.NS + "#subscribe"} {
		if !strings.Contains(info, want) {
			t.Fatalf("service info lacks %s: %s", want, info)
		}
	}

	// §8.1.2 create; again is a conflict; an instant node gets a name.
	ok(t, "create", iq(t, hamlet, "set", ps(`<create node='`+node+`'/>`)))
	refused(t, "create again", "conflict", iq(t, hamlet, "set", ps(`<create node='`+node+`'/>`)))
	res := ok(t, "instant node", iq(t, hamlet, "set", ps(`<create/>`)))
	if c := res.Child("pubsub", pubsub.NS).Child("create", pubsub.NS); c == nil || c.Get("node") == "" {
		t.Fatalf("instant node: %s", res)
	}

	// §6.1: subscribe with one's own JID only.
	refused(t, "subscribe another", "bad-request+invalid-jid",
		iq(t, bernardo, "set", ps(`<subscribe node='`+node+`' jid='hamlet@localhost'/>`)))
	res = ok(t, "subscribe", iq(t, bernardo, "set", ps(`<subscribe node='`+node+`' jid='bernardo@localhost'/>`)))
	sub := res.Child("pubsub", pubsub.NS).Child("subscription", pubsub.NS)
	if sub == nil || sub.Get("subscription") != "subscribed" || sub.Get("subid") == "" || sub.Get("jid") != "bernardo@localhost" {
		t.Fatalf("subscription: %s", res)
	}

	// §7.1: the owner publishes; the subscriber is notified.
	res = ok(t, "publish", iq(t, hamlet, "set", publish(node, "ae890ac52d0df67ed7cfdf51b644e901", "Soliloquy")))
	if !strings.Contains(res.String(), "id='ae890ac52d0df67ed7cfdf51b644e901'") {
		t.Fatalf("publish result: %s", res)
	}
	ev := event(t, bernardo, "Soliloquy")
	if it := ev.Child("event", pubsub.NSEvent).Child("items", pubsub.NSEvent); it == nil || it.Get("node") != node {
		t.Fatalf("event: %s", ev)
	}
	refused(t, "a non-publisher publishes", "forbidden", iq(t, bernardo, "set", publish(node, "x", "x")))
	ok(t, "second item", iq(t, hamlet, "set", publish(node, "2", "Second")))
	event(t, bernardo, "Second")

	// §6.5: all, max_items, by id.
	all := ok(t, "items", iq(t, francisco, "get", ps(`<items node='`+node+`'/>`)))
	if s := all.String(); !strings.Contains(s, "Soliloquy") || !strings.Contains(s, "Second") {
		t.Fatalf("items: %s", all)
	}
	last := ok(t, "max_items", iq(t, francisco, "get", ps(`<items node='`+node+`' max_items='1'/>`)))
	if s := last.String(); strings.Contains(s, "Soliloquy") || !strings.Contains(s, "Second") {
		t.Fatalf("max_items=1: %s", last)
	}
	one := ok(t, "by id", iq(t, francisco, "get", ps(`<items node='`+node+`'><item id='ae890ac52d0df67ed7cfdf51b644e901'/></items>`)))
	if s := one.String(); !strings.Contains(s, "Soliloquy") || strings.Contains(s, "Second") {
		t.Fatalf("by id: %s", one)
	}

	// §7.2 retract with notify.
	ok(t, "retract", iq(t, hamlet, "set", ps(`<retract node='`+node+`' notify='true'><item id='2'/></retract>`)))
	event(t, bernardo, "<retract id='2'/>")

	// §6.3: options; delivery off means no notifications.
	opts := ok(t, "options", iq(t, bernardo, "get", ps(`<options node='`+node+`' jid='bernardo@localhost'/>`)))
	if !strings.Contains(opts.String(), "var='pubsub#deliver'") {
		t.Fatalf("options: %s", opts)
	}
	refused(t, "another's options", "forbidden", iq(t, francisco, "get", ps(`<options node='`+node+`' jid='bernardo@localhost'/>`)))
	ok(t, "deliver off", iq(t, bernardo, "set", ps(`<options node='`+node+`' jid='bernardo@localhost'>`+
		form(pubsub.NSSubscribeOpts, [2]string{"pubsub#deliver", "false"})+`</options>`)))
	ok(t, "publish", iq(t, hamlet, "set", publish(node, "3", "Third")))
	noEvent(t, bernardo)
	ok(t, "deliver on", iq(t, bernardo, "set", ps(`<options node='`+node+`' jid='bernardo@localhost'>`+
		form(pubsub.NSSubscribeOpts, [2]string{"pubsub#deliver", "true"})+`</options>`)))

	// §6.1.7: a new subscriber gets the last item, with <delay/>.
	ok(t, "francisco subscribes", iq(t, francisco, "set", ps(`<subscribe node='`+node+`' jid='francisco@localhost/gate'/>`)))
	ev = event(t, francisco, "Third")
	if d := ev.Child("delay", pubsub.NSDelay); d == nil || d.Get("stamp") == "" {
		t.Fatalf("last item without delay: %s", ev)
	}

	// §5.6, §5.7: one's own subscriptions and affiliations.
	mine := ok(t, "subscriptions", iq(t, bernardo, "get", ps(`<subscriptions/>`))).String()
	if !strings.Contains(mine, "node='"+node+"'") || strings.Contains(mine, "francisco") {
		t.Fatalf("bernardo's subscriptions: %s", mine)
	}
	affs := ok(t, "affiliations", iq(t, hamlet, "get", ps(`<affiliations/>`))).String()
	if !strings.Contains(affs, "node='"+node+"' affiliation='owner'") {
		t.Fatalf("hamlet's affiliations: %s", affs)
	}

	// §7.1.5: equal options pass, others conflict.
	withOptions := func(access string) string {
		return ps(`<publish node='` + node + `'>` + entry("4", "Fourth") + `</publish><publish-options>` +
			form(pubsub.NSPublishOptions, [2]string{"pubsub#access_model", access}) + `</publish-options>`)
	}
	refused(t, "conflicting options", "conflict+precondition-not-met", iq(t, hamlet, "set", withOptions("whitelist")))
	ok(t, "equal options", iq(t, hamlet, "set", withOptions("open")))
	event(t, bernardo, "Fourth")

	// §8.9: the owner makes bernardo a publisher; others may not manage.
	refused(t, "a non-owner manages", "forbidden", iq(t, bernardo, "get", owner(`<affiliations node='`+node+`'/>`)))
	ok(t, "set affiliation", iq(t, hamlet, "set", owner(`<affiliations node='`+node+`'><affiliation jid='bernardo@localhost' affiliation='publisher'/></affiliations>`)))
	list := ok(t, "affiliations", iq(t, hamlet, "get", owner(`<affiliations node='`+node+`'/>`))).String()
	if !strings.Contains(list, "jid='bernardo@localhost' affiliation='publisher'") || !strings.Contains(list, "jid='hamlet@localhost' affiliation='owner'") {
		t.Fatalf("affiliations: %s", list)
	}
	ok(t, "a publisher publishes", iq(t, bernardo, "set", publish(node, "5", "By bernardo")))
	event(t, francisco, "By bernardo")
	refused(t, "no owner left", "not-acceptable", iq(t, hamlet, "set", owner(`<affiliations node='`+node+`'><affiliation jid='hamlet@localhost' affiliation='none'/></affiliations>`)))

	// §8.8: the owner sees and removes subscriptions; the subscriber is told.
	subs := ok(t, "subscriptions", iq(t, hamlet, "get", owner(`<subscriptions node='`+node+`'/>`))).String()
	if !strings.Contains(subs, "jid='bernardo@localhost' subscription='subscribed'") || !strings.Contains(subs, "jid='francisco@localhost/gate'") {
		t.Fatalf("owner's subscriptions: %s", subs)
	}
	ok(t, "remove subscription", iq(t, hamlet, "set", owner(`<subscriptions node='`+node+`'><subscription jid='francisco@localhost/gate' subscription='none'/></subscriptions>`)))
	event(t, francisco, "subscription='none'")
	refused(t, "unsubscribe again", "unexpected-request+not-subscribed",
		iq(t, francisco, "set", ps(`<unsubscribe node='`+node+`' jid='francisco@localhost/gate'/>`)))

	// §8.2: configure.
	conf := ok(t, "configure get", iq(t, hamlet, "get", owner(`<configure node='`+node+`'/>`))).String()
	if !strings.Contains(conf, "var='pubsub#access_model'") || !strings.Contains(conf, "<value>open</value>") {
		t.Fatalf("configuration: %s", conf)
	}
	ok(t, "configure set", iq(t, hamlet, "set", owner(`<configure node='`+node+`'>`+
		form(pubsub.NSNodeConfig, [2]string{"pubsub#title", "Princely Musings (Atom)"}, [2]string{"pubsub#max_items", "2"})+`</configure>`)))
	meta := ok(t, "node info", iq(t, francisco, "get", `<query xmlns='http://jabber.org/protocol/disco#info' node='`+node+`'/>`)).String()
	if !strings.Contains(meta, "type='leaf'") || !strings.Contains(meta, "Princely Musings (Atom)") || !strings.Contains(meta, pubsub.NSMetaData) {
		t.Fatalf("node meta-data: %s", meta)
	}
	nodes := ok(t, "nodes", iq(t, francisco, "get", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)).String()
	if !strings.Contains(nodes, "node='"+node+"' name='Princely Musings (Atom)'") {
		t.Fatalf("service items: %s", nodes)
	}
	if n := len(ok(t, "items", iq(t, francisco, "get", ps(`<items node='`+node+`'/>`))).Child("pubsub", pubsub.NS).Child("items", pubsub.NS).Children); n != 2 {
		t.Fatalf("%d items after max_items 2", n)
	}

	// §8.5 purge, §8.4 delete: subscribers are told.
	refused(t, "a publisher purges", "forbidden", iq(t, bernardo, "set", owner(`<purge node='`+node+`'/>`)))
	ok(t, "purge", iq(t, hamlet, "set", owner(`<purge node='`+node+`'/>`)))
	event(t, bernardo, "<purge node='"+node+"'/>")
	if n := len(ok(t, "items", iq(t, francisco, "get", ps(`<items node='`+node+`'/>`))).Child("pubsub", pubsub.NS).Child("items", pubsub.NS).Children); n != 0 {
		t.Fatalf("%d items after purge", n)
	}
	ok(t, "delete", iq(t, hamlet, "set", owner(`<delete node='`+node+`'/>`)))
	event(t, bernardo, "<delete node='"+node+"'/>")
	refused(t, "deleted node", "item-not-found", iq(t, francisco, "get", ps(`<items node='`+node+`'/>`)))
}

// TestServiceAccessModelsOverTCP: §4.5 for subscribing and reading:
// presence (the owner's presence subscribers), roster (its groups),
// whitelist (members), authorize (the owner approves each subscriber by
// a data form message, §8.6).
func TestServiceAccessModelsOverTCP(t *testing.T) {
	srv := start(t, nil, "hamlet", "bernardo", "francisco")
	roster(t, srv, "hamlet", "bernardo@localhost", "Friends")
	roster(t, srv, "hamlet", "francisco@localhost", "Guards")
	hamlet := srv.Online(t, "hamlet", password, "elsinore")
	bernardo := srv.Online(t, "bernardo", password, "castle")
	francisco := srv.Online(t, "francisco", password, "gate")
	carol := func() *xmpptest.Client {
		srv.AddUser(t, "horatio", password)
		return srv.Online(t, "horatio", password, "x")
	}()

	create := func(n string, fields ...[2]string) {
		t.Helper()
		ok(t, "create "+n, iq(t, hamlet, "set", ps(`<create node='`+n+`'/><configure>`+form(pubsub.NSNodeConfig, fields...)+`</configure>`)))
	}
	subscribe := func(c *xmpptest.Client, n string) *xmlstream.Element {
		return iq(t, c, "set", ps(`<subscribe node='`+n+`' jid='`+c.Bare()+`'/>`))
	}
	create("presence", [2]string{"pubsub#access_model", "presence"})
	ok(t, "a contact subscribes", subscribe(bernardo, "presence"))
	refused(t, "a stranger subscribes", "not-authorized+presence-subscription-required", subscribe(carol, "presence"))
	refused(t, "a stranger reads", "not-authorized+presence-subscription-required", iq(t, carol, "get", ps(`<items node='presence'/>`)))

	create("roster", [2]string{"pubsub#access_model", "roster"}, [2]string{"pubsub#roster_groups_allowed", "Friends"})
	ok(t, "a friend subscribes", subscribe(bernardo, "roster"))
	refused(t, "a guard subscribes", "not-authorized+not-in-roster-group", subscribe(francisco, "roster"))

	create("whitelist", [2]string{"pubsub#access_model", "whitelist"})
	refused(t, "not whitelisted", "not-allowed+closed-node", subscribe(francisco, "whitelist"))
	listed := func(c *xmpptest.Client) string {
		return ok(t, "nodes", iq(t, c, "get", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)).String()
	}
	if l := listed(francisco); strings.Contains(l, "node='whitelist'") || !strings.Contains(l, "node='presence'") {
		t.Fatalf("a non-member's node list (§5.2): %s", l)
	}
	if l := listed(hamlet); !strings.Contains(l, "node='whitelist'") {
		t.Fatalf("the owner's node list: %s", l)
	}
	ok(t, "whitelist", iq(t, hamlet, "set", owner(`<affiliations node='whitelist'><affiliation jid='francisco@localhost' affiliation='member'/></affiliations>`)))
	ok(t, "a member subscribes", subscribe(francisco, "whitelist"))
	if l := listed(francisco); !strings.Contains(l, "node='whitelist'") {
		t.Fatalf("a member's node list: %s", l)
	}
	ok(t, "outcast", iq(t, hamlet, "set", owner(`<affiliations node='whitelist'><affiliation jid='francisco@localhost' affiliation='outcast'/></affiliations>`)))
	refused(t, "an outcast reads", "forbidden", iq(t, francisco, "get", ps(`<items node='whitelist'/>`)))

	create("authorize", [2]string{"pubsub#access_model", "authorize"})
	ok(t, "publish", iq(t, hamlet, "set", publish("authorize", "1", "Secret")))
	res := subscribe(carol, "authorize")
	if s := res.Child("pubsub", pubsub.NS).Child("subscription", pubsub.NS); s == nil || s.Get("subscription") != "pending" {
		t.Fatalf("authorize subscription: %s", res)
	}
	refused(t, "pending reads", "not-authorized+not-subscribed", iq(t, carol, "get", ps(`<items node='authorize'/>`)))
	// §8.6: the owner gets the approval form and allows.
	req, err := hamlet.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && strings.Contains(el.String(), pubsub.NSSubAuth)
	})
	if err != nil || !strings.Contains(req.String(), "horatio@localhost") {
		t.Fatalf("approval request: %v %s", err, req)
	}
	subid := ""
	for _, f := range req.Child("x", "jabber:x:data").Children {
		if f.Get("var") == "pubsub#subid" {
			subid = f.ChildText("value", "jabber:x:data")
		}
	}
	answer := func(who string, allow bool) {
		v := "false"
		if allow {
			v = "true"
		}
		if err := hamlet.Send(`<message to='` + service + `'>` + form(pubsub.NSSubAuth, [2]string{"pubsub#subid", subid},
			[2]string{"pubsub#node", "authorize"}, [2]string{"pubsub#subscriber_jid", who}, [2]string{"pubsub#allow", v}) + `</message>`); err != nil {
			t.Fatal(err)
		}
	}
	// Only an owner decides.
	if err := bernardo.Send(`<message to='` + service + `'>` + form(pubsub.NSSubAuth, [2]string{"pubsub#subid", subid},
		[2]string{"pubsub#node", "authorize"}, [2]string{"pubsub#subscriber_jid", "horatio@localhost"}, [2]string{"pubsub#allow", "true"}) + `</message>`); err != nil {
		t.Fatal(err)
	}
	if _, err := bernardo.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Get("type") == "error" && xmpptest.ErrorConditions(el) == "forbidden"
	}); err != nil {
		t.Fatalf("a non-owner's approval: %v", err)
	}
	answer("horatio@localhost", true)
	event(t, carol, "subscription='subscribed'")
	if s := ok(t, "approved reads", iq(t, carol, "get", ps(`<items node='authorize'/>`))).String(); !strings.Contains(s, "Secret") {
		t.Fatalf("approved subscriber's items: %s", s)
	}
	// Denied: the subscription goes.
	res = subscribe(francisco, "authorize")
	if s := res.Child("pubsub", pubsub.NS).Child("subscription", pubsub.NS); s == nil || s.Get("subscription") != "pending" {
		t.Fatalf("second pending: %s", res)
	}
	req, err = hamlet.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && strings.Contains(el.String(), "francisco@localhost")
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range req.Child("x", "jabber:x:data").Children {
		if f.Get("var") == "pubsub#subid" {
			subid = f.ChildText("value", "jabber:x:data")
		}
	}
	answer("francisco@localhost", false)
	event(t, francisco, "subscription='none'")
	refused(t, "denied reads", "not-authorized+not-subscribed", iq(t, francisco, "get", ps(`<items node='authorize'/>`)))
}

// TestServiceQuotasOverTCP: the PEP quota keys bound the service: nodes
// per owner (policy-violation + max-nodes-exceeded) and item size
// (not-acceptable + payload-too-big).
func TestServiceQuotasOverTCP(t *testing.T) {
	srv := start(t, func(c *config.Config) { c.Quotas.PEPNodes = 2; c.Quotas.PEPItemBytes = 1024; c.Quotas.PEPBytes = 3000 }, "hamlet")
	hamlet := srv.Online(t, "hamlet", password, "elsinore")
	ok(t, "first", iq(t, hamlet, "set", ps(`<create node='a'/>`)))
	ok(t, "second, by publishing", iq(t, hamlet, "set", publish("b", "1", "auto-created")))
	refused(t, "third", "policy-violation+max-nodes-exceeded", iq(t, hamlet, "set", ps(`<create node='c'/>`)))
	refused(t, "big item", "not-acceptable+payload-too-big", iq(t, hamlet, "set", publish("a", "1", strings.Repeat("x", 1100))))
	// pep_bytes bounds what an owner's nodes hold; replacing stays possible.
	big := strings.Repeat("y", 900)
	ok(t, "a max", iq(t, hamlet, "set", owner(`<configure node='a'>`+form(pubsub.NSNodeConfig, [2]string{"pubsub#max_items", "10"})+`</configure>`)))
	for _, id := range []string{"1", "2", "3"} {
		ok(t, "fill "+id, iq(t, hamlet, "set", publish("a", id, big)))
	}
	refused(t, "over the owner's bytes", "policy-violation", iq(t, hamlet, "set", publish("a", "4", big)))
	ok(t, "replace within", iq(t, hamlet, "set", publish("a", "3", big)))
	ok(t, "delete", iq(t, hamlet, "set", owner(`<delete node='a'/>`)))
	ok(t, "third after a delete", iq(t, hamlet, "set", ps(`<create node='c'/>`)))
	// §6.1.3.9: an account holds at most MaxSubscriptions to a node.
	for i := range pubsub.MaxSubscriptions {
		ok(t, "subscribe", iq(t, hamlet, "set", ps(`<subscribe node='c' jid='hamlet@localhost/r`+strconv.Itoa(i)+`'/>`)))
	}
	refused(t, "one subscription too many", "policy-violation+too-many-subscriptions",
		iq(t, hamlet, "set", ps(`<subscribe node='c' jid='hamlet@localhost'/>`)))
	ok(t, "the same again", iq(t, hamlet, "set", ps(`<subscribe node='c' jid='hamlet@localhost/r0'/>`)))
	// The node list is paged (XEP-0059).
	page := ok(t, "nodes page", iq(t, hamlet, "get", `<query xmlns='http://jabber.org/protocol/disco#items'><set xmlns='http://jabber.org/protocol/rsm'><max>1</max></set></query>`))
	q := page.Child("query", pubsub.NSDiscoItems)
	if len(q.Children) != 2 || q.Children[0].Get("node") != "b" || !strings.Contains(page.String(), "<count>2</count>") {
		t.Fatalf("node page: %s", page)
	}
}

// TestServiceForgetsDeletedAccountOverTCP: an account removed (XEP-0077
// §3.3) leaves nothing at the service: the node it alone owned goes (its
// subscribers told), a node it co-owned stays with the other owner, and
// its subscriptions go, here and at other accounts' PEP services.
func TestServiceForgetsDeletedAccountOverTCP(t *testing.T) {
	srv := start(t, nil, "hamlet", "horatio")
	hamlet := srv.Online(t, "hamlet", password, "elsinore")
	horatio := srv.Online(t, "horatio", password, "study")
	ok(t, "create own", iq(t, hamlet, "set", ps(`<create node='mine'/>`)))
	ok(t, "create shared", iq(t, hamlet, "set", ps(`<create node='shared'/>`)))
	ok(t, "co-owner", iq(t, hamlet, "set", owner(`<affiliations node='shared'><affiliation jid='horatio@localhost' affiliation='owner'/></affiliations>`)))
	ok(t, "horatio's node", iq(t, horatio, "set", ps(`<create node='his'/>`)))
	ok(t, "hamlet subscribes", iq(t, hamlet, "set", ps(`<subscribe node='his' jid='hamlet@localhost'/>`)))
	ok(t, "horatio subscribes", iq(t, horatio, "set", ps(`<subscribe node='mine' jid='horatio@localhost'/>`)))
	// And to horatio's PEP node (XEP-0163 on the same core).
	pepRes, err := horatio.IQ(wait, "set", "", `<pubsub xmlns='`+pubsub.NS+`'><publish node='urn:test:diary'><item id='1'><d xmlns='urn:test'/></item></publish>`+
		`<publish-options>`+form(pubsub.NSPublishOptions, [2]string{"pubsub#access_model", "open"})+`</publish-options></pubsub>`)
	if err != nil || pepRes.Get("type") != "result" {
		t.Fatalf("PEP publish: %v %s", err, pepRes)
	}
	if res, err := hamlet.IQ(wait, "set", "horatio@localhost", ps(`<subscribe node='urn:test:diary' jid='hamlet@localhost/elsinore'/>`)); err != nil || res.Get("type") != "result" {
		t.Fatalf("PEP subscribe: %v %s", err, res)
	}

	res, err := hamlet.IQ(wait, "set", "", `<query xmlns='jabber:iq:register'><remove/></query>`)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("remove the account: %v %s", err, res)
	}
	event(t, horatio, "<delete node='mine'/>")
	refused(t, "the sole-owned node", "item-not-found", iq(t, horatio, "get", ps(`<items node='mine'/>`)))
	affs := ok(t, "shared", iq(t, horatio, "get", owner(`<affiliations node='shared'/>`))).String()
	if strings.Contains(affs, "hamlet") || !strings.Contains(affs, "horatio@localhost") {
		t.Fatalf("shared node's affiliations: %s", affs)
	}
	if subs := ok(t, "his", iq(t, horatio, "get", owner(`<subscriptions node='his'/>`))).String(); strings.Contains(subs, "hamlet") {
		t.Fatalf("the deleted account's subscription stays: %s", subs)
	}
	pepSubs, err := horatio.IQ(wait, "get", "", owner(`<subscriptions node='urn:test:diary'/>`))
	if err != nil || pepSubs.Get("type") != "result" || strings.Contains(pepSubs.String(), "hamlet") {
		t.Fatalf("the deleted account's PEP subscription stays: %v %s", err, pepSubs)
	}
}

// TestServiceNotifyOptionsOverTCP: the pubsub#notify_* options
// (§16.4.3): by default deletion and every retraction are notified,
// configuration changes and subscriptions not; each can be turned.
func TestServiceNotifyOptionsOverTCP(t *testing.T) {
	srv := start(t, nil, "hamlet", "bernardo", "francisco")
	hamlet := srv.Online(t, "hamlet", password, "elsinore")
	bernardo := srv.Online(t, "bernardo", password, "castle")
	francisco := srv.Online(t, "francisco", password, "gate")

	ok(t, "create", iq(t, hamlet, "set", ps(`<create node='`+node+`'/>`)))
	conf := ok(t, "configure form", iq(t, hamlet, "get", owner(`<configure node='`+node+`'/>`))).String()
	for _, want := range []string{"pubsub#notify_config", "pubsub#notify_delete", "pubsub#notify_retract", "pubsub#notify_sub"} {
		if !strings.Contains(conf, want) {
			t.Fatalf("configure form lacks %s: %s", want, conf)
		}
	}
	ok(t, "subscribe", iq(t, bernardo, "set", ps(`<subscribe node='`+node+`' jid='bernardo@localhost'/>`)))
	noEvent(t, hamlet) // notify_sub is off
	ok(t, "publish", iq(t, hamlet, "set", publish(node, "1", "One")))
	event(t, bernardo, "One")
	ok(t, "retract", iq(t, hamlet, "set", ps(`<retract node='`+node+`'><item id='1'/></retract>`)))
	event(t, bernardo, "<retract id='1'/>") // notify_retract is on

	// notify_config on: subscribers get the new configuration.
	ok(t, "configure", iq(t, hamlet, "set", owner(`<configure node='`+node+`'>`+form(pubsub.NSNodeConfig,
		[2]string{"pubsub#notify_config", "1"}, [2]string{"pubsub#notify_sub", "true"},
		[2]string{"pubsub#notify_retract", "0"}, [2]string{"pubsub#notify_delete", "false"})+`</configure>`)))
	ev := event(t, bernardo, "<configuration")
	c := ev.Child("event", pubsub.NSEvent).Child("configuration", pubsub.NSEvent)
	if c == nil || c.Get("node") != node || !strings.Contains(c.String(), "<field var='pubsub#notify_retract' type='boolean' label='Notify subscribers when items are removed'><value>0</value>") {
		t.Fatalf("configuration event: %s", ev)
	}

	// notify_sub on: the owner hears of francisco coming and going.
	ok(t, "francisco subscribes", iq(t, francisco, "set", ps(`<subscribe node='`+node+`' jid='francisco@localhost'/>`)))
	event(t, hamlet, "jid='francisco@localhost' subscription='subscribed'")
	ok(t, "francisco unsubscribes", iq(t, francisco, "set", ps(`<unsubscribe node='`+node+`' jid='francisco@localhost'/>`)))
	event(t, hamlet, "jid='francisco@localhost' subscription='none'")

	// notify_retract off: only a retraction asking for it is notified.
	ok(t, "publish 2", iq(t, hamlet, "set", publish(node, "2", "Two")))
	event(t, bernardo, "Two")
	ok(t, "quiet retract", iq(t, hamlet, "set", ps(`<retract node='`+node+`'><item id='2'/></retract>`)))
	noEvent(t, bernardo)
	ok(t, "publish 3", iq(t, hamlet, "set", publish(node, "3", "Three")))
	event(t, bernardo, "Three")
	ok(t, "retract with notify", iq(t, hamlet, "set", ps(`<retract node='`+node+`' notify='true'><item id='3'/></retract>`)))
	event(t, bernardo, "<retract id='3'/>")

	// notify_delete off: the node goes quietly.
	ok(t, "delete", iq(t, hamlet, "set", owner(`<delete node='`+node+`'/>`)))
	noEvent(t, bernardo)
}
