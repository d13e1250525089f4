package dataform_test

import (
	"testing"

	"parley/internal/dataform"
	"parley/internal/xmlstream"
)

// BenchmarkParse is one MAM query form (FORM_TYPE, with, start, a
// full-text field), the form parsed most often.
func BenchmarkParse(b *testing.B) {
	el, err := xmlstream.Parse([]byte("<x xmlns='jabber:x:data' type='submit'>"+
		"<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>"+
		"<field var='with'><value>juliet@capulet.lit</value></field>"+
		"<field var='start'><value>2010-06-07T00:00:00Z</value></field>"+
		"<field var='{urn:xmpp:fulltext:0}fulltext'><value>balcony</value></field></x>"), xmlstream.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dataform.Parse(el, dataform.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
