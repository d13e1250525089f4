package migrate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"parley/internal/store"
)

// Tables names every table of either backend's schema that Copy copies;
// Verify compares their row counts. A table that is neither here nor
// derived is refused when it holds rows (ErrNotMigrated), and the
// package's tests fail for it, so a new table cannot be forgotten.
var Tables = []string{
	"users", "roster_items", "roster_versions", "offline", "vcards", "private_xml", "blocklist",
	"archive", "archive_prefs", "muc_rooms", "muc_affiliations", "pep_nodes", "pep_items",
	"pubsub_nodes", "pubsub_items", "pubsub_affiliations", "pubsub_subscriptions",
	"uploads", "push_registrations", "stranger_filters", "api_tokens", "abuse_reports",
	"audit_log", "audit_checkpoints", "audit_cursors", "incidents", "incident_notes", "dlp_policies",
	"digest_addresses",
	"legal_holds", "legal_hold_targets", "archive_held",
	"fast_tokens",
	"webhook_dead_letters",
}

// Derived reports whether a table is the backend's own bookkeeping or is
// rebuilt by the destination from what Copy writes (the archive's owner
// list and SQLite's full-text index), so it is neither copied nor
// compared.
func Derived(table string) bool {
	return table == "schema_migrations" || table == "archive_owners" || strings.HasPrefix(table, "archive_fts")
}

// checkTables refuses a source with rows in a table Copy does not know.
func checkTables(ctx context.Context, from store.Store) error {
	rows, err := from.TableRows(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, t := range slices.Sorted(maps.Keys(rows)) {
		if rows[t] > 0 && !Derived(t) && !slices.Contains(Tables, t) {
			return fmt.Errorf("%w: %s (%d rows)", ErrNotMigrated, t, rows[t])
		}
	}
	return nil
}

// copySite copies, after the accounts, what is kept for all of them or
// for no one: stranger-filter choices, pubsub services and PEP nodes'
// subscriptions and affiliations, API tokens, uploads, abuse reports and
// the audit log with its checkpoints and sinks' cursors.
func copySite(ctx context.Context, from, to store.Store) error {
	filters, err := from.StrangerFilters(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, u := range slices.Sorted(maps.Keys(filters)) {
		if err := to.SetStrangerFilter(ctx, u, filters[u]); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	services, err := from.PubSubServices(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, svc := range services {
		if err := copyPubSub(ctx, from, to, svc); err != nil {
			return fmt.Errorf("migrate: pubsub %q: %w", svc, err)
		}
	}
	tokens, err := from.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, t := range tokens {
		if err := to.CreateToken(ctx, t); err != nil {
			return fmt.Errorf("migrate: token %q: %w", t.ID, err)
		}
	}
	uploads, err := from.ListUploads(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, u := range uploads {
		if err := to.ImportUpload(ctx, u); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	for after := int64(0); ; {
		reports, err := from.AbuseReports(ctx, after, pageSize)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if len(reports) == 0 {
			break
		}
		for _, r := range reports {
			if err := to.ImportAbuseReport(ctx, r); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
		after = reports[len(reports)-1].ID
	}
	letters, err := from.WebhookDeadLetters(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, l := range letters { // oldest first, none dropped
		if err := to.AddWebhookDeadLetter(ctx, l, len(letters)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if err := copyIncidents(ctx, from, to); err != nil {
		return err
	}
	if err := copyHolds(ctx, from, to); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return copyAudit(ctx, from, to)
}

// copyIncidents copies the review queue under its ids, with the notes,
// and the DLP policies made through the API.
func copyIncidents(ctx context.Context, from, to store.Store) error {
	for after := int64(0); ; {
		page, err := from.Incidents(ctx, store.IncidentQuery{After: after, Max: pageSize})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, in := range page {
			full, err := from.Incident(ctx, in.ID)
			if err == nil {
				err = to.ImportIncident(ctx, full)
			}
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
		after = page[len(page)-1].ID
	}
	policies, err := from.DLPPolicies(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, p := range policies {
		if err := to.PutDLPPolicy(ctx, p); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// copyHolds copies the legal holds (released ones too) and the originals
// they kept, in the order they were kept.
func copyHolds(ctx context.Context, from, to store.Store) error {
	holds, err := from.ListHolds(ctx)
	if err != nil {
		return err
	}
	for _, h := range holds {
		if err := to.ImportHold(ctx, h); err != nil {
			return err
		}
	}
	for after := int64(0); ; {
		held, err := from.HeldMessages(ctx, store.HeldQuery{After: after, Limit: pageSize})
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return nil
		}
		for _, m := range held {
			if err := to.ImportHeld(ctx, m); err != nil {
				return err
			}
		}
		after = held[len(held)-1].Seq
	}
}

// digestHolds serialises the holds by ID and the kept originals in their
// order.
func digestHolds(ctx context.Context, d digest, s store.Store) error {
	holds, err := s.ListHolds(ctx)
	if err != nil {
		return err
	}
	d.int(int64(len(holds)))
	for _, h := range holds {
		d.int(h.ID)
		d.strs([]string{h.Name, h.Reason, h.CreatedBy, h.ReleasedBy})
		d.strs(h.Users)
		d.strs(h.Rooms)
		for _, t := range []time.Time{h.Created, h.From, h.To, h.Released} {
			d.time(t)
		}
	}
	for after := int64(0); ; {
		held, err := s.HeldMessages(ctx, store.HeldQuery{After: after, Limit: pageSize})
		if err != nil || len(held) == 0 {
			return err
		}
		for _, h := range held {
			m := h.Message
			d.strs([]string{m.Owner, m.ID, m.With, m.Text, h.Cause})
			d.bytes(m.Stanza)
			d.time(m.Stamp)
			d.time(h.Held)
		}
		after = held[len(held)-1].Seq
	}
}

// copyPubSub copies a service's nodes with their items (oldest first,
// with their stamps, so their order survives), affiliations and
// subscriptions.
func copyPubSub(ctx context.Context, from, to store.Store, service string) error {
	nodes, err := from.PubSubNodes(ctx, service)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := to.PutPubSubNode(ctx, service, n); err != nil {
			return fmt.Errorf("node %q: %w", n.Node, err)
		}
		items, err := from.PubSubItems(ctx, service, n.Node, nil, 0)
		if err != nil {
			return fmt.Errorf("node %q: %w", n.Node, err)
		}
		for _, it := range items {
			if err := to.PublishPubSubItem(ctx, service, n.Node, it); err != nil {
				return fmt.Errorf("node %q: item %q: %w", n.Node, it.ID, err)
			}
		}
	}
	affs, err := from.PubSubAffiliations(ctx, service, "")
	if err != nil {
		return err
	}
	for _, a := range affs {
		if err := to.SetPubSubAffiliation(ctx, service, a.Node, a); err != nil {
			return fmt.Errorf("node %q: affiliation of %s: %w", a.Node, a.JID, err)
		}
	}
	subs, err := from.PubSubSubscriptions(ctx, service, "")
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := to.PutPubSubSubscription(ctx, service, s.Node, s); err != nil {
			return fmt.Errorf("node %q: subscription of %s: %w", s.Node, s.JID, err)
		}
	}
	return nil
}

// copyAudit copies the audit log as it is (sequence numbers, times to
// the nanosecond and hashes, so the chain still verifies), its signed
// checkpoints and the sinks' cursors (so forwarding resumes where it was
// rather than sending everything again).
func copyAudit(ctx context.Context, from, to store.Store) error {
	for after := int64(0); ; {
		recs, err := from.AuditRecords(ctx, store.AuditQuery{After: after, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("migrate: audit: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		if err := to.AppendAudit(ctx, recs, nil); err != nil {
			return fmt.Errorf("migrate: audit: %w", err)
		}
		after = recs[len(recs)-1].Seq
	}
	for after := int64(0); ; {
		cps, err := from.AuditCheckpoints(ctx, after, pageSize)
		if err != nil {
			return fmt.Errorf("migrate: audit checkpoints: %w", err)
		}
		if len(cps) == 0 {
			break
		}
		for _, cp := range cps {
			if err := to.AppendAudit(ctx, nil, &cp); err != nil {
				return fmt.Errorf("migrate: audit checkpoint %d: %w", cp.Seq, err)
			}
		}
		after = cps[len(cps)-1].Seq
	}
	cursors, err := from.AuditCursors(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, sink := range slices.Sorted(maps.Keys(cursors)) {
		if err := to.SetAuditCursor(ctx, sink, cursors[sink]); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// digestSite serialises, by pseudo-owner, what copySite copies: one sum
// per pubsub service ("pubsub SERVICE"), and "tokens", "uploads",
// "abuse reports", "legal holds" and "audit".
func digestSite(ctx context.Context, s store.Store, c *census) error {
	services, err := s.PubSubServices(ctx)
	if err != nil {
		return err
	}
	for _, svc := range services {
		d := newDigest()
		if err := digestPubSub(ctx, d, s, svc); err != nil {
			return fmt.Errorf("pubsub %q: %w", svc, err)
		}
		c.add("pubsub "+svc, d.Sum(nil))
	}

	d := newDigest()
	tokens, err := s.ListTokens(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(tokens, func(a, b store.APIToken) int { return strings.Compare(a.ID, b.ID) })
	d.int(int64(len(tokens)))
	for _, t := range tokens {
		d.strs([]string{t.ID, t.Name, t.Role, t.Username})
		d.bytes(t.Hash)
		d.time(t.Created)
		d.time(t.Expires)
	}
	c.add("tokens", d.Sum(nil))

	d = newDigest()
	uploads, err := s.ListUploads(ctx)
	if err != nil {
		return err
	}
	d.int(int64(len(uploads)))
	for _, u := range uploads {
		d.strs([]string{u.ID, u.Owner, u.Name, u.ContentType})
		d.int(u.Size)
		d.int(int64(u.State))
		d.time(u.Created)
		d.time(u.Expires)
	}
	c.add("uploads", d.Sum(nil))

	d = newDigest()
	reports, err := s.AbuseReports(ctx, 0, 0)
	if err != nil {
		return err
	}
	d.int(int64(len(reports)))
	for _, r := range reports {
		d.int(r.ID)
		d.time(r.Time)
		d.strs([]string{r.Reporter, r.Reported, r.Reason, r.Text})
		d.int(int64(len(r.StanzaIDs)))
		for _, ref := range r.StanzaIDs {
			d.strs([]string{ref.By, ref.ID})
		}
	}
	c.add("abuse reports", d.Sum(nil))

	d = newDigest()
	letters, err := s.WebhookDeadLetters(ctx)
	if err != nil {
		return err
	}
	d.int(int64(len(letters)))
	for _, l := range letters {
		d.strs([]string{string(l)})
	}
	c.add("webhook dead letters", d.Sum(nil))

	d = newDigest()
	if err := digestIncidents(ctx, d, s); err != nil {
		return err
	}
	c.add("incidents", d.Sum(nil))

	d = newDigest()
	if err := digestHolds(ctx, d, s); err != nil {
		return err
	}
	c.add("legal holds", d.Sum(nil))

	d = newDigest()
	if err := digestAudit(ctx, d, s); err != nil {
		return err
	}
	c.add("audit", d.Sum(nil))
	return nil
}

// digestPubSub serialises a service's nodes by name with their items
// oldest first, then its affiliations and subscriptions.
func digestPubSub(ctx context.Context, d digest, s store.Store, service string) error {
	nodes, err := s.PubSubNodes(ctx, service)
	if err != nil {
		return err
	}
	d.section("nodes")
	d.int(int64(len(nodes)))
	for _, n := range nodes {
		d.strs([]string{n.Node, n.Owner})
		d.int(int64(n.MaxItems))
		d.bytes(n.Config)
		items, err := s.PubSubItems(ctx, service, n.Node, nil, 0)
		if err != nil {
			return err
		}
		d.int(int64(len(items)))
		for _, it := range items {
			d.strs([]string{it.ID, it.Publisher})
			d.bytes(it.Payload)
			d.time(it.Updated)
		}
	}
	affs, err := s.PubSubAffiliations(ctx, service, "")
	if err != nil {
		return err
	}
	d.section("affiliations")
	d.int(int64(len(affs)))
	for _, a := range affs {
		d.strs([]string{a.Node, a.JID, a.Affiliation})
	}
	subs, err := s.PubSubSubscriptions(ctx, service, "")
	if err != nil {
		return err
	}
	d.section("subscriptions")
	d.int(int64(len(subs)))
	for _, sub := range subs {
		d.strs([]string{sub.Node, sub.JID, sub.SubID, sub.State})
		d.bytes(sub.Options)
	}
	return nil
}

// digestAudit serialises the audit log in sequence order (times to the
// nanosecond: the hashes cover them), the checkpoints and the cursors.
func digestAudit(ctx context.Context, d digest, s store.Store) error {
	d.section("log")
	for after := int64(0); ; {
		recs, err := s.AuditRecords(ctx, store.AuditQuery{After: after, Limit: pageSize})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			d.int(r.Seq)
			d.int(r.Time.UnixNano())
			d.strs([]string{r.Actor, r.Action, r.Target, r.IP, r.Outcome, r.RequestID})
			d.int(int64(len(r.Details)))
			for _, k := range slices.Sorted(maps.Keys(r.Details)) {
				d.strs([]string{k, r.Details[k]})
			}
			d.bytes(r.Prev)
			d.bytes(r.Hash)
		}
		after = recs[len(recs)-1].Seq
	}
	d.section("checkpoints")
	for after := int64(0); ; {
		cps, err := s.AuditCheckpoints(ctx, after, pageSize)
		if err != nil {
			return err
		}
		if len(cps) == 0 {
			break
		}
		for _, cp := range cps {
			d.int(cp.Seq)
			d.bytes(cp.Hash)
			d.int(cp.Time.UnixNano())
			d.bytes(cp.Signature)
		}
		after = cps[len(cps)-1].Seq
	}
	cursors, err := s.AuditCursors(ctx)
	if err != nil {
		return err
	}
	d.section("cursors")
	for _, sink := range slices.Sorted(maps.Keys(cursors)) {
		d.str(sink)
		d.int(cursors[sink])
	}
	return nil
}

// digestIncidents serialises the review queue with its notes, then the
// API's DLP policies.
func digestIncidents(ctx context.Context, d digest, s store.Store) error {
	list, err := s.Incidents(ctx, store.IncidentQuery{})
	if err != nil {
		return err
	}
	d.int(int64(len(list)))
	for _, in := range list {
		full, err := s.Incident(ctx, in.ID)
		if err != nil {
			return err
		}
		d.int(full.ID)
		d.int(full.ReportID)
		d.time(full.Time)
		d.time(full.Updated)
		d.strs([]string{full.Source, full.State, full.Action, full.Field, full.Sender, full.Target, full.Summary})
		d.strs(full.Policies)
		d.strs(full.Detectors)
		d.bytes(full.Stanza)
		d.int(int64(len(full.Notes)))
		for _, n := range full.Notes {
			d.time(n.Time)
			d.strs([]string{n.Reviewer, n.State, n.Text})
		}
	}
	policies, err := s.DLPPolicies(ctx)
	if err != nil {
		return err
	}
	d.int(int64(len(policies)))
	for _, p := range policies {
		d.strs([]string{p.Name, p.UpdatedBy})
		d.bytes(p.Spec)
		d.time(p.Updated)
	}
	return nil
}
