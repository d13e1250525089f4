// Package entitycaps computes XEP-0115 verification strings: the hash
// of an entity's disco#info identities, features and extended forms that
// it advertises as 'ver' in <c/> (clients in presence, the server in its
// stream features) and that a receiver checks against the entity's answer.
package entitycaps

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"slices"
	"strings"

	"parley/internal/dataform"
	"parley/internal/xmlstream"
)

// Namespaces of entity capabilities (XEP-0115) and service discovery.
const (
	NS          = "http://jabber.org/protocol/caps"
	NSDiscoInfo = "http://jabber.org/protocol/disco#info"
)

// Supported reports whether Ver can compute hashes named algo (§5.4:
// others are ignored).
func Supported(algo string) bool { return newHash(algo) != nil }

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

// Ver computes the verification string of a disco#info <query/>
// with algo (XEP-0115 §5.1), applying §5.4's checks: ok is false for a
// response with duplicate identities, features or form types, which is
// ill-formed.
func Ver(algo string, query *xmlstream.Element) (ver string, ok bool) {
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
