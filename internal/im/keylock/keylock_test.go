package keylock

import "testing"

// TestLock: a key always gets the same mutex, held until its holder
// unlocks it; with one mutex, every key shares it.
func TestLock(t *testing.T) {
	l := New(64)
	mu := l.Lock("alice")
	if mu.TryLock() {
		t.Fatal("alice's mutex is not held after Lock")
	}
	mu.Unlock()
	if again := l.Lock("alice"); again != mu {
		t.Fatal("alice got another mutex")
	}
	mu.Unlock()

	one := New(1)
	a := one.Lock("alice")
	a.Unlock()
	if b := one.Lock("bob"); b != a {
		t.Fatal("one mutex, yet two keys got different ones")
	}
}
