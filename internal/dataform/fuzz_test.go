package dataform_test

import (
	"reflect"
	"testing"

	"parley/internal/dataform"
	"parley/internal/xmlstream"
)

// FuzzParse feeds arbitrary XML to Parse: it must not panic, must hold
// to its limits, and a form it accepts must survive a round trip
// (Element, serialise, parse, Parse) unchanged. The seed corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>" +
		"<field var='with'><value>juliet@capulet.lit</value></field></x>"))
	lim := dataform.Limits{Fields: 16, Values: 8, Bytes: 1024}
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.Parse(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8})
		if err != nil {
			return
		}
		form, err := dataform.Parse(el, lim)
		if err != nil {
			return
		}
		if len(form.Fields) > lim.Fields {
			t.Fatalf("%d fields", len(form.Fields))
		}
		for _, fd := range form.Fields {
			if len(fd.Values) > lim.Values || len(fd.Options) > lim.Values {
				t.Fatalf("field %q: %d values, %d options", fd.Var, len(fd.Values), len(fd.Options))
			}
		}
		out := xmlstream.Append(nil, form.Element())
		el2, err := xmlstream.Parse(out, xmlstream.Limits{MaxStanza: 1 << 20, MaxDepth: 8})
		if err != nil {
			t.Fatalf("reparse %s: %v", out, err)
		}
		again, err := dataform.Parse(el2, lim)
		if err != nil {
			t.Fatalf("Parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, form) {
			t.Fatalf("round trip changed the form:\n%+v\n%+v", form, again)
		}
	})
}
