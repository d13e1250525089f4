package postgres

// Counting a full-text search (XEP-0059 <count/>): exact through the
// owner's archive_search entries or the GIN index, or estimated from the
// newest entries when an exact count would test the whole archive.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// searchCount is the count of a search filtered only by its words (and
// #extended id bounds, which are positions in the owner's archive): an
// index-only scan of the owner's archive_search entries plus the owner's
// few messages too long for it (see archiveSearchSchema). ts_match_vq is
// @@ spelled as a function, which the GIN index cannot take, so the
// planner does not trade the index-only scan for one heap page per match.
func searchCount(owner, tsq string, after, before int64) (string, []any) {
	f := archiveFilter{}
	f.add("owner = $%d", owner)
	f.add("ts_match_vq(words, $%d::tsquery)", tsq)
	if after != 0 {
		f.add("seq > $%d", after)
	}
	if before != 0 {
		f.add("seq < $%d", before)
	}
	w := f.where()
	return fmt.Sprintf("SELECT (SELECT count(*) FROM archive WHERE %s AND %s) + (SELECT count(*) FROM archive WHERE %s AND %s)",
		w, searchWordsShort, w, searchWordsLong), f.args
}

// Estimated search counts (XEP-0059 §2.7: the count "MAY be approximate
// rather than precise if determining the exact number of items would be
// resource-intensive"). Counting a search exactly tests every entry of the
// owner's archive (searchCount); estimateSearchCount tests the newest
// entries only, until it has seen enough matches, and counts exactly
// through the GIN index when there are too few for an estimate.
const (
	// searchSample is the most entries a count tests before it
	// estimates: archives up to this size are always counted exactly.
	searchSample = 4096
	// searchSampleHits is the fewest matches a sample needs to make an
	// estimate (relative standard error about 1/sqrt(hits)); a search
	// rarer than that is counted exactly.
	searchSampleHits = 48
	// searchSampleTarget is the matches after which the sample stops
	// (relative standard error about 3%), so that a common word is
	// estimated from a few thousand entries or fewer.
	searchSampleTarget = 1000
	// searchGINCount is the most matches an exact count of a rare search
	// visits through the GIN index (one heap page each, all-visible pages
	// skipped); past it, it tests every entry as searchCount does.
	searchGINCount = 2000
)

// estimateSearchCount counts owner's messages matching tsq, a search with
// no other filter and no #extended id bounds, whose page (seen matches)
// did not hold the whole result.
//
// One index-only scan walks the owner's newest entries of archive_search
// testing each, and stops at the searchSampleTarget-th match or after
// searchSample entries. With archive_owners.entries and the few long
// messages (counted exactly, as searchCount does) that gives
//
//   - the exact count when the archive has at most searchSample short
//     entries (from the walk itself if it covered them all);
//   - hits/walked × (short entries) + long matches, rounded, when the
//     walk found at least searchSampleHits matches;
//   - otherwise the exact count (exactSearchCount).
//
// The sample is the newest entries, whatever page was asked for, so every
// page of a search over the same archive gets the same count; it is never
// below seen. It assumes the newest entries are a fair sample of the
// archive: a word much more (or less) common lately than before is over
// (or under) counted.
func estimateSearchCount(ctx context.Context, tx pgx.Tx, owner, tsq string, seen int) (int, error) {
	var entries, hits, walked, longs, longHits int64
	err := tx.QueryRow(ctx, `WITH hits AS (
			SELECT n FROM (
				SELECT row_number() OVER (ORDER BY seq DESC) AS n, ts_match_vq(words, $2::tsquery) AS hit
				FROM (SELECT seq, words FROM archive WHERE owner = $1 AND `+searchWordsShort+`
					ORDER BY seq DESC LIMIT $3) newest) tested
			WHERE hit LIMIT $4)
		SELECT (SELECT entries FROM archive_owners WHERE owner = $1), count(*), coalesce(max(n), 0),
			(SELECT count(*) FROM archive WHERE owner = $1 AND `+searchWordsLong+`),
			(SELECT count(*) FROM archive WHERE owner = $1 AND `+searchWordsLong+` AND ts_match_vq(words, $2::tsquery))
		FROM hits`, owner, tsq, searchSample, searchSampleTarget).Scan(&entries, &hits, &walked, &longs, &longHits)
	if err != nil {
		return 0, err
	}
	short := entries - longs
	if hits < searchSampleTarget {
		walked = min(short, searchSample) // no early stop: the whole sample
	}
	switch {
	case walked >= short:
		return int(hits + longHits), nil
	case short <= searchSample: // a small archive; the walk stopped early
		sql, args := searchCount(owner, tsq, 0, 0)
		var n int
		err := tx.QueryRow(ctx, sql, args...).Scan(&n)
		return n, err
	case hits >= searchSampleHits:
		// Rounded half up in integers, so the estimate is the same
		// on every platform.
		est := (2*hits*short+walked)/(2*walked) + longHits
		return max(int(est), seen), nil
	}
	return exactSearchCount(ctx, tx, owner, tsq)
}

// exactSearchCount counts a rare search exactly: through the GIN index,
// which for a few hundred matches is several times cheaper than testing
// every entry, or, past searchGINCount matches (an archive that used the
// words much more in the past), as searchCount does.
func exactSearchCount(ctx context.Context, tx pgx.Tx, owner, tsq string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT FROM archive WHERE words @@ $1::tsquery LIMIT $2) m`,
		tsq, searchGINCount).Scan(&n)
	if err != nil || n < searchGINCount {
		return n, err
	}
	sql, args := searchCount(owner, tsq, 0, 0)
	err = tx.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}
