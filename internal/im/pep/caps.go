package pep

import (
	"container/list"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"slices"
	"strings"
	"sync"

	"parley/internal/dataform"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces of entity capabilities (XEP-0115) and service discovery.
const (
	NSCaps      = "http://jabber.org/protocol/caps"
	NSDiscoInfo = "http://jabber.org/protocol/disco#info"
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
	if newHash(algo) == nil || node == "" || ver == "" {
		return "", "", "", false
	}
	return algo, node, ver, true
}

// newHash returns the hash function an IANA hash name stands for, or nil.
func newHash(name string) hash.Hash {
	switch name {
	case "sha-1":
		return sha1.New()
	case "sha-256":
		return sha256.New()
	case "sha-512":
		return sha512.New()
	}
	return nil
}

// verString computes the verification string of a disco#info <query/>
// with algo (XEP-0115 §5.1), applying §5.4's checks: ok is false for a
// response with duplicate identities, features or form types, which is
// ill-formed.
func verString(algo string, query *xmlstream.Element) (ver string, ok bool) {
	h := newHash(algo)
	if h == nil || query == nil {
		return "", false
	}
	var ids, features []string
	type form struct {
		typ    string
		fields []string // "var<value<value<..." each
	}
	var forms []form
	for _, c := range query.Children {
		switch {
		case c.Name == "identity" && c.Space == NSDiscoInfo:
			ids = append(ids, c.Get("category")+"/"+c.Get("type")+"/"+c.Get("xml:lang")+"/"+c.Get("name"))
		case c.Name == "feature" && c.Space == NSDiscoInfo:
			features = append(features, c.Get("var"))
		case c.Name == "x" && c.Space == dataform.NS:
			f, valid, ignore := extendedForm(c)
			if !valid {
				return "", false
			}
			if !ignore {
				forms = append(forms, form{typ: f[0], fields: f[1:]})
			}
		}
	}
	slices.Sort(ids)
	slices.Sort(features)
	slices.SortFunc(forms, func(a, b form) int { return strings.Compare(a.typ, b.typ) })
	types := make([]string, len(forms))
	for i, f := range forms {
		types[i] = f.typ
	}
	if dup(ids) || dup(features) || dup(types) {
		return "", false
	}
	var b strings.Builder
	for _, s := range ids {
		b.WriteString(s)
		b.WriteByte('<')
	}
	for _, s := range features {
		b.WriteString(s)
		b.WriteByte('<')
	}
	for _, f := range forms {
		b.WriteString(f.typ)
		b.WriteByte('<')
		for _, s := range f.fields {
			b.WriteString(s)
		}
	}
	h.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}

// extendedForm turns an XEP-0128 form into its FORM_TYPE followed by its
// fields as §5.1 step 7 writes them, sorted by var. ignore is true for a
// form without a hidden FORM_TYPE field (§5.4: ignore it, go on); valid is
// false for a FORM_TYPE with differing values, or a form that is not one
// (ill-formed).
func extendedForm(x *xmlstream.Element) (out []string, valid, ignore bool) {
	f, err := dataform.Parse(x, dataform.Limits{})
	if err != nil {
		return nil, false, false
	}
	ft := f.Field(dataform.FormType)
	if ft == nil || ft.Type != dataform.Hidden || len(ft.Values) == 0 {
		return nil, true, true
	}
	for _, v := range ft.Values[1:] {
		if v != ft.Values[0] {
			return nil, false, false
		}
	}
	var fields []dataform.Field
	for _, fd := range f.Fields {
		if fd.Var != dataform.FormType {
			fields = append(fields, fd)
		}
	}
	slices.SortFunc(fields, func(a, b dataform.Field) int { return strings.Compare(a.Var, b.Var) })
	out = []string{ft.Values[0]}
	for _, fd := range fields {
		values := slices.Sorted(slices.Values(fd.Values))
		s := fd.Var + "<"
		for _, v := range values {
			s += v + "<"
		}
		out = append(out, s)
	}
	return out, true, false
}

// dup reports whether a sorted slice holds a value twice.
func dup(sorted []string) bool {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return true
		}
	}
	return false
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
