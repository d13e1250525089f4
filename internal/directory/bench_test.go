package directory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"parley/internal/directory"
	"parley/internal/directory/slapdtest"
	"parley/internal/jid"
	"parley/internal/store/sqlite"
)

// bigLDIF is users u0..u(n-1) (password "pw") in groups of size each.
func bigLDIF(n, size int) string {
	var b strings.Builder
	b.WriteString(strings.SplitN(slapdtest.LDIF, "dn: uid=alice", 2)[0])
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=u%d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: u%d\ncn: User %d\nsn: U\nuserPassword: pw\n\n", i, i, i)
	}
	for g := 0; g*size < n; g++ {
		fmt.Fprintf(&b, "dn: cn=g%d,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: g%d\n", g, g)
		for i := g * size; i < min(n, (g+1)*size); i++ {
			fmt.Fprintf(&b, "member: uid=u%d,ou=people,dc=example,dc=com\n", i)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func benchDirectory(b *testing.B, n, size int) *directory.Directory {
	s := slapdtest.Start(b, bigLDIF(n, size))
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	d, err := directory.New(directory.Options{Config: Config(s), Domain: jid.MustParse("example.com"), Users: st,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.Close)
	return d
}

// BenchmarkCheckPassword: one directory login (search + bind + rebind
// on a pooled StartTLS connection).
func BenchmarkCheckPassword(b *testing.B) {
	d := benchDirectory(b, 100, 10)
	ctx := context.Background()
	if err := d.CheckPassword(ctx, "u1", "pw"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := d.CheckPassword(ctx, "u"+fmt.Sprint(i%100), "pw"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSync: a sync of 2000 users in groups of 50 after the first
// (accounts already made), as every sync_interval.
func BenchmarkSync(b *testing.B) {
	d := benchDirectory(b, 2000, 50)
	ctx := context.Background()
	if err := d.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := d.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
