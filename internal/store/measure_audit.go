package store

import (
	"context"
	"time"
)

// The audit log's operations through the measuring decorator.

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
