package pep

import (
	"testing"

	"parley/internal/xmlstream"
)

// TestCapsCache: bounded, least recently used out.
func TestCapsCache(t *testing.T) {
	c := newCapsCache(2)
	c.put("a", map[string]bool{"x": true})
	c.put("b", nil)
	if _, ok := c.get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put("c", nil)
	if _, ok := c.get("b"); ok {
		t.Error("b kept past the bound")
	}
	if n, ok := c.get("a"); !ok || !n["x"] || c.len() != 2 {
		t.Errorf("a: %v %v, len %d", n, ok, c.len())
	}
}

func TestInterests(t *testing.T) {
	q := xmlstream.New("query", NSDiscoInfo)
	for _, v := range []string{"urn:a+notify", "urn:b", "+notify"} {
		q.Add(xmlstream.New("feature", NSDiscoInfo, "var", v))
	}
	if got := interests(q); len(got) != 1 || !got["urn:a"] {
		t.Errorf("interests %v", got)
	}
}
