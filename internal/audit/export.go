package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"parley/internal/store"
)

// Query returns up to q.Limit records matching q (time range, actor,
// action) in seq order; page with q.After set to the last seq returned.
func Query(ctx context.Context, st store.Audit, q store.AuditQuery) ([]Record, error) {
	recs, err := st.AuditRecords(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("audit: query: %w", err)
	}
	out := make([]Record, len(recs))
	for i, r := range recs {
		out[i] = fromStore(r)
	}
	return out, nil
}

// Export writes every record matching q (q.Limit ignored) to w as JSON
// Lines, one record per line with its hash, in seq order, and returns how
// many it wrote.
func Export(ctx context.Context, st store.Audit, q store.AuditQuery, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n := 0
	q.Limit = 1000
	for {
		recs, err := Query(ctx, st, q)
		if err != nil {
			return n, err
		}
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return n, fmt.Errorf("audit: export: %w", err)
			}
			n++
		}
		if len(recs) < q.Limit {
			break
		}
		q.After = recs[len(recs)-1].Seq
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}
