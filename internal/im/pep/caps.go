package pep

import (
	"container/list"
	"strings"
	"sync"

	"parley/internal/entitycaps"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces of entity capabilities (XEP-0115) and service discovery.
const (
	NSCaps      = entitycaps.NS
	NSDiscoInfo = entitycaps.NSDiscoInfo
)

// capsOf reads the XEP-0115 <c/> of a presence: the hash algorithm,
// the software's node and the verification string. ok is false without
// one, for the legacy format (no 'hash', §8.4: not verifiable) and for
// hash algorithms the service cannot compute (§5.4: ignore them).
func capsOf(st *stanza.Stanza) (algo, node, ver string, ok bool) {
	c := st.El.Child("c", NSCaps)
	if c == nil {
		return "", "", "", false
	}
	algo, node, ver = c.Get("hash"), c.Get("node"), c.Get("ver")
	if !entitycaps.Supported(algo) || node == "" || ver == "" {
		return "", "", "", false
	}
	return algo, node, ver, true
}

// maxCaps bounds the verification strings remembered.
const maxCaps = 4096

// capsCache maps verified verification strings ("algo ver") to the nodes
// whose notifications the software asks for (+notify features, XEP-0163
// §4.2), least recently used first out. It is shared by all sessions:
// a ver names a set of features whoever sends it (XEP-0115 §1.2).
type capsCache struct {
	mu    sync.Mutex // guards byKey and order
	byKey map[string]*list.Element
	order *list.List // of *capsEntry, most recently used at the front
	max   int
}

type capsEntry struct {
	key    string
	notify map[string]bool
}

func newCapsCache(max int) *capsCache {
	return &capsCache{byKey: make(map[string]*list.Element), order: list.New(), max: max}
}

// get returns the interests of a verified ver; ok is false if unknown.
func (c *capsCache) get(key string) (notify map[string]bool, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*capsEntry).notify, true
}

// put remembers a verified ver, dropping the least recently used beyond max.
func (c *capsCache) put(key string, notify map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&capsEntry{key: key, notify: notify})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*capsEntry).key)
	}
}

// len is the number of vers remembered.
func (c *capsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// interests are the nodes a disco#info <query/> asks notifications of:
// its features ending in +notify, without the suffix.
func interests(query *xmlstream.Element) map[string]bool {
	out := make(map[string]bool)
	for _, c := range query.Children {
		if c.Name == "feature" && c.Space == NSDiscoInfo {
			if n, ok := strings.CutSuffix(c.Get("var"), "+notify"); ok && n != "" {
				out[n] = true
			}
		}
	}
	return out
}
