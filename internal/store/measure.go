package store

// Written from the interfaces of this package, one method each; keep it in
// step (a missing method fails to compile: measured must be a Store).

import (
	"context"
	"time"
)

// Measure returns s with every operation's latency reported to observe,
// with the method's name (e.g. "StoreOffline"), including time queued for
// a backend's writer: the measuring decorator that lets the server record
// store latency without the backends knowing of metrics. observe is
// called from the caller's goroutine and must be safe for concurrent use.
func Measure(s Store, observe func(op string, d time.Duration)) Store {
	return &measured{s: s, obs: observe}
}

type measured struct {
	s   Store
	obs func(op string, d time.Duration)
}

var _ Store = (*measured)(nil)

func (m *measured) observe(op string, start time.Time) { m.obs(op, time.Since(start)) }

// Close closes the store underneath.
func (m *measured) Close() error { return m.s.Close() }

func (m *measured) AppendArchive(ctx context.Context, msgs []ArchivedMessage) error {
	defer m.observe("AppendArchive", time.Now())
	return m.s.AppendArchive(ctx, msgs)
}

// QueueArchive is not measured: it returns at once, and the write it
// queues is measured by the AppendArchive that waits for it, or not at all.
func (m *measured) QueueArchive(ctx context.Context, msgs []ArchivedMessage) <-chan error {
	return m.s.QueueArchive(ctx, msgs)
}

func (m *measured) SyncArchive(ctx context.Context) error {
	defer m.observe("SyncArchive", time.Now())
	return m.s.SyncArchive(ctx)
}

func (m *measured) QueryArchive(ctx context.Context, owner string, q ArchiveQuery) (ArchivePage, error) {
	defer m.observe("QueryArchive", time.Now())
	return m.s.QueryArchive(ctx, owner, q)
}

func (m *measured) SearchArchives(ctx context.Context, q ArchiveSearch) ([]FoundMessage, error) {
	defer m.observe("SearchArchives", time.Now())
	return m.s.SearchArchives(ctx, q)
}

func (m *measured) ArchiveMetadata(ctx context.Context, owner string) (ArchiveMetadata, error) {
	defer m.observe("ArchiveMetadata", time.Now())
	return m.s.ArchiveMetadata(ctx, owner)
}

func (m *measured) RetractArchived(ctx context.Context, owner, id string, tombstone []byte) error {
	defer m.observe("RetractArchived", time.Now())
	return m.s.RetractArchived(ctx, owner, id, tombstone)
}

func (m *measured) DeleteArchive(ctx context.Context, owner string) error {
	defer m.observe("DeleteArchive", time.Now())
	return m.s.DeleteArchive(ctx, owner)
}

func (m *measured) ArchivePrefs(ctx context.Context, owner string) (ArchivePrefs, error) {
	defer m.observe("ArchivePrefs", time.Now())
	return m.s.ArchivePrefs(ctx, owner)
}

func (m *measured) SetArchivePrefs(ctx context.Context, owner string, p ArchivePrefs) error {
	defer m.observe("SetArchivePrefs", time.Now())
	return m.s.SetArchivePrefs(ctx, owner, p)
}

func (m *measured) PutPEPNode(ctx context.Context, owner string, n PEPNode) error {
	defer m.observe("PutPEPNode", time.Now())
	return m.s.PutPEPNode(ctx, owner, n)
}

func (m *measured) PEPNode(ctx context.Context, owner, node string) (PEPNode, error) {
	defer m.observe("PEPNode", time.Now())
	return m.s.PEPNode(ctx, owner, node)
}

func (m *measured) PEPNodes(ctx context.Context, owner string) ([]PEPNode, error) {
	defer m.observe("PEPNodes", time.Now())
	return m.s.PEPNodes(ctx, owner)
}

func (m *measured) DeletePEPNode(ctx context.Context, owner, node string) error {
	defer m.observe("DeletePEPNode", time.Now())
	return m.s.DeletePEPNode(ctx, owner, node)
}

func (m *measured) PublishPEPItem(ctx context.Context, owner, node string, it PEPItem) error {
	defer m.observe("PublishPEPItem", time.Now())
	return m.s.PublishPEPItem(ctx, owner, node, it)
}

func (m *measured) PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]PEPItem, error) {
	defer m.observe("PEPItems", time.Now())
	return m.s.PEPItems(ctx, owner, node, ids, max)
}

func (m *measured) RetractPEPItem(ctx context.Context, owner, node, id string) error {
	defer m.observe("RetractPEPItem", time.Now())
	return m.s.RetractPEPItem(ctx, owner, node, id)
}

func (m *measured) PEPItemSizes(ctx context.Context, owner, node string) ([]PEPItemSize, error) {
	defer m.observe("PEPItemSizes", time.Now())
	return m.s.PEPItemSizes(ctx, owner, node)
}

func (m *measured) PEPUsage(ctx context.Context, owner string) (PEPUsage, error) {
	defer m.observe("PEPUsage", time.Now())
	return m.s.PEPUsage(ctx, owner)
}

func (m *measured) PutPubSubNode(ctx context.Context, service string, n PubSubNode) error {
	defer m.observe("PutPubSubNode", time.Now())
	return m.s.PutPubSubNode(ctx, service, n)
}

func (m *measured) PubSubNode(ctx context.Context, service, node string) (PubSubNode, error) {
	defer m.observe("PubSubNode", time.Now())
	return m.s.PubSubNode(ctx, service, node)
}

func (m *measured) PubSubNodes(ctx context.Context, service string) ([]PubSubNode, error) {
	defer m.observe("PubSubNodes", time.Now())
	return m.s.PubSubNodes(ctx, service)
}

func (m *measured) DeletePubSubNode(ctx context.Context, service, node string) error {
	defer m.observe("DeletePubSubNode", time.Now())
	return m.s.DeletePubSubNode(ctx, service, node)
}

func (m *measured) PublishPubSubItem(ctx context.Context, service, node string, it PubSubItem) error {
	defer m.observe("PublishPubSubItem", time.Now())
	return m.s.PublishPubSubItem(ctx, service, node, it)
}

func (m *measured) PubSubItems(ctx context.Context, service, node string, ids []string, max int) ([]PubSubItem, error) {
	defer m.observe("PubSubItems", time.Now())
	return m.s.PubSubItems(ctx, service, node, ids, max)
}

func (m *measured) PubSubItemSizes(ctx context.Context, service, node string) ([]PEPItemSize, error) {
	defer m.observe("PubSubItemSizes", time.Now())
	return m.s.PubSubItemSizes(ctx, service, node)
}

func (m *measured) RetractPubSubItem(ctx context.Context, service, node, id string) error {
	defer m.observe("RetractPubSubItem", time.Now())
	return m.s.RetractPubSubItem(ctx, service, node, id)
}

func (m *measured) PurgePubSubNode(ctx context.Context, service, node string) error {
	defer m.observe("PurgePubSubNode", time.Now())
	return m.s.PurgePubSubNode(ctx, service, node)
}

func (m *measured) SetPubSubAffiliation(ctx context.Context, service, node string, a PubSubAffiliation) error {
	defer m.observe("SetPubSubAffiliation", time.Now())
	return m.s.SetPubSubAffiliation(ctx, service, node, a)
}

func (m *measured) PubSubAffiliations(ctx context.Context, service, node string) ([]PubSubAffiliation, error) {
	defer m.observe("PubSubAffiliations", time.Now())
	return m.s.PubSubAffiliations(ctx, service, node)
}

func (m *measured) PutPubSubSubscription(ctx context.Context, service, node string, s PubSubSubscription) error {
	defer m.observe("PutPubSubSubscription", time.Now())
	return m.s.PutPubSubSubscription(ctx, service, node, s)
}

func (m *measured) DeletePubSubSubscription(ctx context.Context, service, node, jid, subid string) error {
	defer m.observe("DeletePubSubSubscription", time.Now())
	return m.s.DeletePubSubSubscription(ctx, service, node, jid, subid)
}

func (m *measured) PubSubSubscriptions(ctx context.Context, service, node string) ([]PubSubSubscription, error) {
	defer m.observe("PubSubSubscriptions", time.Now())
	return m.s.PubSubSubscriptions(ctx, service, node)
}

func (m *measured) ForgetPubSubJID(ctx context.Context, bare string) error {
	defer m.observe("ForgetPubSubJID", time.Now())
	return m.s.ForgetPubSubJID(ctx, bare)
}

func (m *measured) PubSubOwnedBytes(ctx context.Context, service, owner string) (int64, error) {
	defer m.observe("PubSubOwnedBytes", time.Now())
	return m.s.PubSubOwnedBytes(ctx, service, owner)
}

func (m *measured) PutRoom(ctx context.Context, r Room) error {
	defer m.observe("PutRoom", time.Now())
	return m.s.PutRoom(ctx, r)
}

func (m *measured) GetRoom(ctx context.Context, jid string) (Room, error) {
	defer m.observe("GetRoom", time.Now())
	return m.s.GetRoom(ctx, jid)
}

func (m *measured) ListRooms(ctx context.Context) ([]Room, error) {
	defer m.observe("ListRooms", time.Now())
	return m.s.ListRooms(ctx)
}

func (m *measured) DeleteRoom(ctx context.Context, jid string) error {
	defer m.observe("DeleteRoom", time.Now())
	return m.s.DeleteRoom(ctx, jid)
}

func (m *measured) RoomAffiliations(ctx context.Context, room string) ([]RoomAffiliation, error) {
	defer m.observe("RoomAffiliations", time.Now())
	return m.s.RoomAffiliations(ctx, room)
}

func (m *measured) SetRoomAffiliation(ctx context.Context, room string, a RoomAffiliation) error {
	defer m.observe("SetRoomAffiliation", time.Now())
	return m.s.SetRoomAffiliation(ctx, room, a)
}

func (m *measured) RoomVCard(ctx context.Context, room string) ([]byte, error) {
	defer m.observe("RoomVCard", time.Now())
	return m.s.RoomVCard(ctx, room)
}

func (m *measured) SetRoomVCard(ctx context.Context, room string, vcard []byte) error {
	defer m.observe("SetRoomVCard", time.Now())
	return m.s.SetRoomVCard(ctx, room, vcard)
}

func (m *measured) CreateUser(ctx context.Context, u User) error {
	defer m.observe("CreateUser", time.Now())
	return m.s.CreateUser(ctx, u)
}

func (m *measured) GetUser(ctx context.Context, username string) (User, error) {
	defer m.observe("GetUser", time.Now())
	return m.s.GetUser(ctx, username)
}

func (m *measured) SetUserKeys(ctx context.Context, username string, sha1, sha256 ScramKeys) error {
	defer m.observe("SetUserKeys", time.Now())
	return m.s.SetUserKeys(ctx, username, sha1, sha256)
}

func (m *measured) DeleteUser(ctx context.Context, username string) error {
	defer m.observe("DeleteUser", time.Now())
	return m.s.DeleteUser(ctx, username)
}

func (m *measured) ListUsers(ctx context.Context) ([]string, error) {
	defer m.observe("ListUsers", time.Now())
	return m.s.ListUsers(ctx)
}

func (m *measured) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	defer m.observe("SetUserDisabled", time.Now())
	return m.s.SetUserDisabled(ctx, username, disabled)
}

func (m *measured) Roster(ctx context.Context, username string) ([]RosterItem, int64, error) {
	defer m.observe("Roster", time.Now())
	return m.s.Roster(ctx, username)
}

func (m *measured) RosterItem(ctx context.Context, username, contact string) (RosterItem, error) {
	defer m.observe("RosterItem", time.Now())
	return m.s.RosterItem(ctx, username, contact)
}

func (m *measured) PutRosterItem(ctx context.Context, username string, item RosterItem) (int64, error) {
	defer m.observe("PutRosterItem", time.Now())
	return m.s.PutRosterItem(ctx, username, item)
}

func (m *measured) DeleteRosterItem(ctx context.Context, username, contact string) (int64, error) {
	defer m.observe("DeleteRosterItem", time.Now())
	return m.s.DeleteRosterItem(ctx, username, contact)
}

func (m *measured) StoreOffline(ctx context.Context, username string, msg OfflineMessage) error {
	defer m.observe("StoreOffline", time.Now())
	return m.s.StoreOffline(ctx, username, msg)
}

func (m *measured) OfflineMessages(ctx context.Context, username string) ([]OfflineMessage, error) {
	defer m.observe("OfflineMessages", time.Now())
	return m.s.OfflineMessages(ctx, username)
}

func (m *measured) DeleteOffline(ctx context.Context, username string, ids []int64) error {
	defer m.observe("DeleteOffline", time.Now())
	return m.s.DeleteOffline(ctx, username, ids)
}

func (m *measured) CountOffline(ctx context.Context, username string) (int, error) {
	defer m.observe("CountOffline", time.Now())
	return m.s.CountOffline(ctx, username)
}

func (m *measured) OfflineUsage(ctx context.Context, username string) (int, int64, error) {
	defer m.observe("OfflineUsage", time.Now())
	return m.s.OfflineUsage(ctx, username)
}

func (m *measured) VCard(ctx context.Context, username string) ([]byte, error) {
	defer m.observe("VCard", time.Now())
	return m.s.VCard(ctx, username)
}

func (m *measured) SetVCard(ctx context.Context, username string, vcard []byte) error {
	defer m.observe("SetVCard", time.Now())
	return m.s.SetVCard(ctx, username, vcard)
}

func (m *measured) PrivateXML(ctx context.Context, username, key string) ([]byte, error) {
	defer m.observe("PrivateXML", time.Now())
	return m.s.PrivateXML(ctx, username, key)
}

func (m *measured) SetPrivateXML(ctx context.Context, username, key string, data []byte) error {
	defer m.observe("SetPrivateXML", time.Now())
	return m.s.SetPrivateXML(ctx, username, key, data)
}

func (m *measured) PrivateXMLSizes(ctx context.Context, username string) (map[string]int, error) {
	defer m.observe("PrivateXMLSizes", time.Now())
	return m.s.PrivateXMLSizes(ctx, username)
}

func (m *measured) Blocklist(ctx context.Context, username string) ([]string, error) {
	defer m.observe("Blocklist", time.Now())
	return m.s.Blocklist(ctx, username)
}

func (m *measured) Block(ctx context.Context, username string, jids []string) error {
	defer m.observe("Block", time.Now())
	return m.s.Block(ctx, username, jids)
}

func (m *measured) Unblock(ctx context.Context, username string, jids []string) error {
	defer m.observe("Unblock", time.Now())
	return m.s.Unblock(ctx, username, jids)
}

func (m *measured) PrivateXMLKeys(ctx context.Context, username string) ([]string, error) {
	defer m.observe("PrivateXMLKeys", time.Now())
	return m.s.PrivateXMLKeys(ctx, username)
}

func (m *measured) RosterVersions(ctx context.Context) (map[string]int64, error) {
	defer m.observe("RosterVersions", time.Now())
	return m.s.RosterVersions(ctx)
}

func (m *measured) RaiseRosterVersion(ctx context.Context, username string, version int64) error {
	defer m.observe("RaiseRosterVersion", time.Now())
	return m.s.RaiseRosterVersion(ctx, username, version)
}

func (m *measured) TableRows(ctx context.Context) (map[string]int64, error) {
	defer m.observe("TableRows", time.Now())
	return m.s.TableRows(ctx)
}

func (m *measured) ListUploads(ctx context.Context) ([]Upload, error) {
	defer m.observe("ListUploads", time.Now())
	return m.s.ListUploads(ctx)
}

func (m *measured) ImportUpload(ctx context.Context, u Upload) error {
	defer m.observe("ImportUpload", time.Now())
	return m.s.ImportUpload(ctx, u)
}

func (m *measured) ImportAbuseReport(ctx context.Context, r AbuseReport) error {
	defer m.observe("ImportAbuseReport", time.Now())
	return m.s.ImportAbuseReport(ctx, r)
}

func (m *measured) AuditCursors(ctx context.Context) (map[string]int64, error) {
	defer m.observe("AuditCursors", time.Now())
	return m.s.AuditCursors(ctx)
}

func (m *measured) PubSubServices(ctx context.Context) ([]string, error) {
	defer m.observe("PubSubServices", time.Now())
	return m.s.PubSubServices(ctx)
}

func (m *measured) StrangerFilters(ctx context.Context) (map[string]bool, error) {
	defer m.observe("StrangerFilters", time.Now())
	return m.s.StrangerFilters(ctx)
}

func (m *measured) ReserveUpload(ctx context.Context, u Upload) error {
	defer m.observe("ReserveUpload", time.Now())
	return m.s.ReserveUpload(ctx, u)
}

func (m *measured) Upload(ctx context.Context, id string) (Upload, error) {
	defer m.observe("Upload", time.Now())
	return m.s.Upload(ctx, id)
}

func (m *measured) ClaimUpload(ctx context.Context, id string, now, until time.Time) error {
	defer m.observe("ClaimUpload", time.Now())
	return m.s.ClaimUpload(ctx, id, now, until)
}

func (m *measured) FinishUpload(ctx context.Context, id string, created, expires time.Time) error {
	defer m.observe("FinishUpload", time.Now())
	return m.s.FinishUpload(ctx, id, created, expires)
}

func (m *measured) ReleaseUpload(ctx context.Context, id string) error {
	defer m.observe("ReleaseUpload", time.Now())
	return m.s.ReleaseUpload(ctx, id)
}

func (m *measured) UserUploads(ctx context.Context, owner string, now time.Time) ([]Upload, error) {
	defer m.observe("UserUploads", time.Now())
	return m.s.UserUploads(ctx, owner, now)
}

func (m *measured) UploadUsage(ctx context.Context, owner string, since, now time.Time) (UploadUsage, error) {
	defer m.observe("UploadUsage", time.Now())
	return m.s.UploadUsage(ctx, owner, since, now)
}

func (m *measured) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]string, error) {
	defer m.observe("ExpiredUploads", time.Now())
	return m.s.ExpiredUploads(ctx, now, limit)
}

func (m *measured) DeleteUploads(ctx context.Context, ids []string) error {
	defer m.observe("DeleteUploads", time.Now())
	return m.s.DeleteUploads(ctx, ids)
}

func (m *measured) DigestAddress(ctx context.Context, username string) (string, error) {
	defer m.observe("DigestAddress", time.Now())
	return m.s.DigestAddress(ctx, username)
}

func (m *measured) SetDigestAddress(ctx context.Context, username, address string) error {
	defer m.observe("SetDigestAddress", time.Now())
	return m.s.SetDigestAddress(ctx, username, address)
}

func (m *measured) FastDevices(ctx context.Context, username string) ([]FastDevice, error) {
	defer m.observe("FastDevices", time.Now())
	return m.s.FastDevices(ctx, username)
}

func (m *measured) FastDevice(ctx context.Context, username, userAgent string) (FastDevice, error) {
	defer m.observe("FastDevice", time.Now())
	return m.s.FastDevice(ctx, username, userAgent)
}

func (m *measured) SaveFastDevice(ctx context.Context, username string, d FastDevice) error {
	defer m.observe("SaveFastDevice", time.Now())
	return m.s.SaveFastDevice(ctx, username, d)
}

func (m *measured) DeleteFastDevice(ctx context.Context, username, userAgent string) error {
	defer m.observe("DeleteFastDevice", time.Now())
	return m.s.DeleteFastDevice(ctx, username, userAgent)
}

func (m *measured) CreateHold(ctx context.Context, h LegalHold) (int64, error) {
	defer m.observe("CreateHold", time.Now())
	return m.s.CreateHold(ctx, h)
}

func (m *measured) Hold(ctx context.Context, id int64) (LegalHold, error) {
	defer m.observe("Hold", time.Now())
	return m.s.Hold(ctx, id)
}

func (m *measured) ListHolds(ctx context.Context) ([]LegalHold, error) {
	defer m.observe("ListHolds", time.Now())
	return m.s.ListHolds(ctx)
}

func (m *measured) ReleaseHold(ctx context.Context, id int64, by string, at time.Time) error {
	defer m.observe("ReleaseHold", time.Now())
	return m.s.ReleaseHold(ctx, id, by, at)
}

func (m *measured) HeldMessages(ctx context.Context, q HeldQuery) ([]HeldMessage, error) {
	defer m.observe("HeldMessages", time.Now())
	return m.s.HeldMessages(ctx, q)
}

func (m *measured) ImportHold(ctx context.Context, h LegalHold) error {
	defer m.observe("ImportHold", time.Now())
	return m.s.ImportHold(ctx, h)
}

func (m *measured) ImportHeld(ctx context.Context, h HeldMessage) error {
	defer m.observe("ImportHeld", time.Now())
	return m.s.ImportHeld(ctx, h)
}

func (m *measured) ExpireArchive(ctx context.Context, sc RetentionScope, before time.Time, after string, limit int) (Expired, error) {
	defer m.observe("ExpireArchive", time.Now())
	return m.s.ExpireArchive(ctx, sc, before, after, limit)
}

func (m *measured) ExpireOffline(ctx context.Context, sc RetentionScope, before time.Time, after string, limit int) (Expired, error) {
	defer m.observe("ExpireOffline", time.Now())
	return m.s.ExpireOffline(ctx, sc, before, after, limit)
}

func (m *measured) ExpireUploads(ctx context.Context, sc RetentionScope, before, now time.Time, after string, limit int) (Expired, error) {
	defer m.observe("ExpireUploads", time.Now())
	return m.s.ExpireUploads(ctx, sc, before, now, after, limit)
}

func (m *measured) AddIncident(ctx context.Context, in Incident) (int64, error) {
	defer m.observe("AddIncident", time.Now())
	return m.s.AddIncident(ctx, in)
}

func (m *measured) Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error) {
	defer m.observe("Incidents", time.Now())
	return m.s.Incidents(ctx, q)
}

func (m *measured) Incident(ctx context.Context, id int64) (Incident, error) {
	defer m.observe("Incident", time.Now())
	return m.s.Incident(ctx, id)
}

func (m *measured) ReviewIncident(ctx context.Context, id int64, n IncidentNote) error {
	defer m.observe("ReviewIncident", time.Now())
	return m.s.ReviewIncident(ctx, id, n)
}

func (m *measured) LastReportIncident(ctx context.Context) (int64, error) {
	defer m.observe("LastReportIncident", time.Now())
	return m.s.LastReportIncident(ctx)
}

func (m *measured) DLPPolicies(ctx context.Context) ([]DLPPolicy, error) {
	defer m.observe("DLPPolicies", time.Now())
	return m.s.DLPPolicies(ctx)
}

func (m *measured) PutDLPPolicy(ctx context.Context, p DLPPolicy) error {
	defer m.observe("PutDLPPolicy", time.Now())
	return m.s.PutDLPPolicy(ctx, p)
}

func (m *measured) DeleteDLPPolicy(ctx context.Context, name string) error {
	defer m.observe("DeleteDLPPolicy", time.Now())
	return m.s.DeleteDLPPolicy(ctx, name)
}

func (m *measured) ImportIncident(ctx context.Context, in Incident) error {
	defer m.observe("ImportIncident", time.Now())
	return m.s.ImportIncident(ctx, in)
}

func (m *measured) AppendAudit(ctx context.Context, recs []AuditRecord, cp *AuditCheckpoint) error {
	defer m.observe("AppendAudit", time.Now())
	return m.s.AppendAudit(ctx, recs, cp)
}

func (m *measured) AuditHead(ctx context.Context) (AuditRecord, error) {
	defer m.observe("AuditHead", time.Now())
	return m.s.AuditHead(ctx)
}

func (m *measured) AuditRecords(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	defer m.observe("AuditRecords", time.Now())
	return m.s.AuditRecords(ctx, q)
}

func (m *measured) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]AuditCheckpoint, error) {
	defer m.observe("AuditCheckpoints", time.Now())
	return m.s.AuditCheckpoints(ctx, after, limit)
}

func (m *measured) AuditCursor(ctx context.Context, sink string) (int64, error) {
	defer m.observe("AuditCursor", time.Now())
	return m.s.AuditCursor(ctx, sink)
}

func (m *measured) SetAuditCursor(ctx context.Context, sink string, seq int64) error {
	defer m.observe("SetAuditCursor", time.Now())
	return m.s.SetAuditCursor(ctx, sink, seq)
}

func (m *measured) PushRegistrations(ctx context.Context, username string) ([]PushRegistration, error) {
	defer m.observe("PushRegistrations", time.Now())
	return m.s.PushRegistrations(ctx, username)
}

func (m *measured) EnablePush(ctx context.Context, username string, r PushRegistration) error {
	defer m.observe("EnablePush", time.Now())
	return m.s.EnablePush(ctx, username, r)
}

func (m *measured) DisablePush(ctx context.Context, username, service, node string) (int, error) {
	defer m.observe("DisablePush", time.Now())
	return m.s.DisablePush(ctx, username, service, node)
}

func (m *measured) AddAbuseReport(ctx context.Context, r AbuseReport) (int64, error) {
	defer m.observe("AddAbuseReport", time.Now())
	return m.s.AddAbuseReport(ctx, r)
}

func (m *measured) AbuseReports(ctx context.Context, after int64, max int) ([]AbuseReport, error) {
	defer m.observe("AbuseReports", time.Now())
	return m.s.AbuseReports(ctx, after, max)
}

func (m *measured) CountAbuseReports(ctx context.Context, reporter string, since time.Time) (int, error) {
	defer m.observe("CountAbuseReports", time.Now())
	return m.s.CountAbuseReports(ctx, reporter, since)
}

func (m *measured) StrangerFilter(ctx context.Context, username string) (bool, error) {
	defer m.observe("StrangerFilter", time.Now())
	return m.s.StrangerFilter(ctx, username)
}

func (m *measured) SetStrangerFilter(ctx context.Context, username string, on bool) error {
	defer m.observe("SetStrangerFilter", time.Now())
	return m.s.SetStrangerFilter(ctx, username, on)
}

func (m *measured) CreateToken(ctx context.Context, t APIToken) error {
	defer m.observe("CreateToken", time.Now())
	return m.s.CreateToken(ctx, t)
}

func (m *measured) TokenByHash(ctx context.Context, hash []byte) (APIToken, error) {
	defer m.observe("TokenByHash", time.Now())
	return m.s.TokenByHash(ctx, hash)
}

func (m *measured) ListTokens(ctx context.Context) ([]APIToken, error) {
	defer m.observe("ListTokens", time.Now())
	return m.s.ListTokens(ctx)
}

func (m *measured) RevokeToken(ctx context.Context, id string) error {
	defer m.observe("RevokeToken", time.Now())
	return m.s.RevokeToken(ctx, id)
}

func (m *measured) RevokeUserTokens(ctx context.Context, username string) (int, error) {
	defer m.observe("RevokeUserTokens", time.Now())
	return m.s.RevokeUserTokens(ctx, username)
}
