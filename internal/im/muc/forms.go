package muc

import (
	"strings"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// submission is a data form as a client sent it (XEP-0004 §3.3): its
// type, its FORM_TYPE and the values of each field. The voice request
// (muc#request) and registration (muc#register) forms are read through it.
type submission struct {
	typ      string // submit, cancel, ...
	formType string
	fields   map[string][]string
}

func readForm(x *xmlstream.Element) submission {
	s := submission{typ: x.Get("type"), fields: map[string][]string{}}
	for _, f := range x.Children {
		if f.Name != "field" || f.Space != NSData {
			continue
		}
		vals := s.fields[f.Get("var")]
		for _, v := range f.Children {
			if v.Name == "value" && v.Space == NSData {
				vals = append(vals, v.Text)
			}
		}
		s.fields[f.Get("var")] = vals
	}
	if ft := s.fields["FORM_TYPE"]; len(ft) == 1 {
		s.formType = strings.TrimSpace(ft[0])
	}
	return s
}

func (s submission) has(name string) bool {
	_, ok := s.fields[name]
	return ok
}

// one returns the value of a single-valued field ("" if absent or
// empty); a field given more than one value makes the form malformed.
func (s submission) one(name string) (string, *stanza.Error) {
	vals := s.fields[name]
	if len(vals) > 1 {
		return "", stanza.ErrBadRequest.WithText("several values for " + name)
	}
	if len(vals) == 0 {
		return "", nil
	}
	return vals[0], nil
}

// boolean reads a boolean field (XEP-0004 §3.3: "1"/"true", "0"/"false").
func (s submission) boolean(name string) (bool, *stanza.Error) {
	v, err := s.one(name)
	if err != nil {
		return false, err
	}
	switch v {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, stanza.ErrBadRequest.WithText("not a boolean: " + name)
}
