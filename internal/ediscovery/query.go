package ediscovery

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"parley/internal/jid"
	"parley/internal/store"

	"golang.org/x/text/unicode/norm"
)

// Limits of a query, so that one request cannot build an unbounded store
// query.
const (
	MaxParticipants = 100
	MaxRooms        = 100
	MaxWords        = 1000 // bytes of Words
	MaxPageSize     = 1000
)

// Query is what a compliance search asks. A message is found when it
// involves one of Participants (a user's archive, or a conversation
// with them in another's, or a room message sent under that room/nick)
// or lies in one of Rooms; with neither, every archive is searched.
// Start, End and Words narrow that, all together.
type Query struct {
	Participants []string  `json:"participants,omitempty"` // JIDs
	Rooms        []string  `json:"rooms,omitempty"`        // room JIDs
	Start        time.Time `json:"start,omitzero"`         // inclusive
	End          time.Time `json:"end,omitzero"`           // inclusive
	Words        string    `json:"words,omitempty"`        // every word must occur (case- and accent-insensitive)
}

// ErrBadQuery is a query that cannot be run; the message says why.
var ErrBadQuery = errors.New("ediscovery: bad query")

// ErrBadCursor is a cursor this package did not hand out.
var ErrBadCursor = errors.New("ediscovery: bad cursor")

func badQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadQuery, fmt.Sprintf(format, args...))
}

// scope is a query as the store takes it, with the same selection kept
// to decide in Go whether another archive's copy of a message is in it.
type scope struct {
	search store.ArchiveSearch
	owners map[string]bool
	with   map[string]bool
}

// normalize checks q and returns it with every address normalised
// (RFC 7622), and the store's search for it on domain.
func (q Query) normalize(domain string) (Query, scope, error) {
	sc := scope{owners: map[string]bool{}, with: map[string]bool{}}
	if len(q.Participants) > MaxParticipants || len(q.Rooms) > MaxRooms {
		return q, sc, badQuery("at most %d participants and %d rooms", MaxParticipants, MaxRooms)
	}
	if len(q.Words) > MaxWords {
		return q, sc, badQuery("words: at most %d bytes", MaxWords)
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return q, sc, badQuery("end is before start")
	}
	out := Query{Start: q.Start.UTC(), End: q.End.UTC(), Words: strings.TrimSpace(q.Words)}
	if q.Start.IsZero() {
		out.Start = time.Time{}
	}
	if q.End.IsZero() {
		out.End = time.Time{}
	}
	for _, p := range q.Participants {
		j, err := jid.Parse(strings.TrimSpace(p))
		if err != nil || j.Local() == "" {
			return q, sc, badQuery("participant %q is not a user's JID (user@domain)", p)
		}
		out.Participants = append(out.Participants, j.String())
		sc.with[j.String()] = true
		if j.Domain() == domain && j.Resource() == "" {
			sc.owners[j.Local()] = true
		}
	}
	for _, r := range q.Rooms {
		j, err := jid.Parse(strings.TrimSpace(r))
		if err != nil || j.Local() == "" || j.Resource() != "" {
			return q, sc, badQuery("room %q is not a room's JID (room@service)", r)
		}
		out.Rooms = append(out.Rooms, j.String())
		sc.owners[j.String()] = true
	}
	slices.Sort(out.Participants)
	out.Participants = slices.Compact(out.Participants)
	slices.Sort(out.Rooms)
	out.Rooms = slices.Compact(out.Rooms)
	sc.search = store.ArchiveSearch{Start: out.Start, End: out.End, Text: out.Words,
		Owners: slices.Sorted(mapKeys(sc.owners)), With: slices.Sorted(mapKeys(sc.with))}
	return out, sc, nil
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// covers reports whether the message of owner's archive with other party
// with, stamped at, is in the scope (the store's rule, for a copy the
// store did not return on this page).
func (sc scope) covers(owner, with string, at time.Time) bool {
	if len(sc.owners)+len(sc.with) > 0 && !sc.owners[owner] && !sc.with[with] {
		return false
	}
	return (sc.search.Start.IsZero() || !at.Before(sc.search.Start)) && (sc.search.End.IsZero() || !at.After(sc.search.End))
}

// position is where a search goes on: in the archives after seq, or,
// once they are read, among the originals legal holds keep after seq.
type position struct {
	held bool
	seq  int64
}

// Cursors are opaque: "s" (archives) or "h" (held originals) and the
// store position of the last message looked at.
func (p position) String() string {
	k := "s"
	if p.held {
		k = "h"
	}
	return k + strconv.FormatInt(p.seq, 36)
}

func decodeCursor(c string) (position, error) {
	if c == "" {
		return position{}, nil
	}
	if c[0] != 's' && c[0] != 'h' {
		return position{}, ErrBadCursor
	}
	n, err := strconv.ParseInt(c[1:], 36, 64)
	if err != nil || n < 0 {
		return position{}, ErrBadCursor
	}
	return position{held: c[0] == 'h', seq: n}, nil
}

// finds reports whether the search finds m itself: in scope, and with
// every word of the query among its words (folded as the indexes fold
// them: case and diacritics ignored).
func (sc scope) finds(m store.ArchivedMessage) bool {
	if !sc.covers(m.Owner, m.With, m.Stamp) {
		return false
	}
	have := map[string]bool{}
	for _, w := range foldWords(m.Text) {
		have[w] = true
	}
	for _, w := range foldWords(sc.search.Text) {
		if !have[w] {
			return false
		}
	}
	return true
}

// foldWords splits text into runs of letters and digits, lower-cased and
// without diacritics, as both backends' full-text indexes see words.
func foldWords(text string) []string {
	fields := strings.FieldsFunc(norm.NFD.String(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	for i, f := range fields {
		fields[i] = strings.ToLower(strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, f))
	}
	return fields
}
