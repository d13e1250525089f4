package storetest

import (
	"errors"
	"strconv"
	"testing"

	"parley/internal/store"
)

// Migrate checks a backend's schema migration: steps run once each, in
// order, recorded as the schema version; a database newer than the build
// is refused with tooNew; a failing step is undone whole and leaves the
// version at the last good step. newDB opens an empty database and
// returns the backend's migrate on it, and what reads back the recorded
// version and the rows of table a.
func Migrate(t *testing.T, tooNew error, newDB func(t *testing.T) (migrate func([]string) error, state func() (version, rows int))) {
	steps := []string{
		`CREATE TABLE a (x integer)`,
		`INSERT INTO a VALUES (1)`,
		`INSERT INTO a VALUES (2); CREATE TABLE b (y integer)`,
	}
	tests := []struct {
		first, then []string // migrate with first, then with then
		wantErr     error    // of the second migrate
		wantFail    bool     // the second migrate fails with a SQL error
		wantVersion int
		wantRows    int // in table a
	}{
		0: {nil, steps, nil, false, 3, 2},
		1: {steps[:1], steps, nil, false, 3, 2},
		2: {steps[:2], steps, nil, false, 3, 2}, // step 2 is not run twice
		3: {steps, steps, nil, false, 3, 2},
		4: {steps, steps[:2], tooNew, false, 3, 2},
		// A failing step is undone whole, including its first statement,
		// and leaves the version at the last good step.
		5: {steps[:2], append(steps[:2:2], `INSERT INTO a VALUES (3); SELECT * FROM missing`), nil, true, 2, 1},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			migrate, state := newDB(t)
			if err := migrate(tc.first); err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			err := migrate(tc.then)
			if tc.wantFail {
				if err == nil {
					t.Fatal("failing step reported no error")
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("migrate: %v, want %v", err, tc.wantErr)
			}
			if v, rows := state(); v != tc.wantVersion || rows != tc.wantRows {
				t.Fatalf("version %d with %d rows, want %d with %d", v, rows, tc.wantVersion, tc.wantRows)
			}
		})
	}
}

// SchemaTooNew checks what a backend's Open returned for a database one
// migration step newer than the build: it must fail with
// store.ErrSchemaTooNew (a store it opened all the same is closed).
func SchemaTooNew[S interface {
	comparable
	Close() error
}](t *testing.T, s S, err error) {
	t.Helper()
	if errors.Is(err, store.ErrSchemaTooNew) {
		return
	}
	var none S
	if s != none {
		s.Close()
	}
	t.Fatalf("Open: %v, want store.ErrSchemaTooNew", err)
}
