package dataform_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"parley/internal/dataform"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

func parse(t *testing.T, raw string, lim dataform.Limits) (*dataform.Form, error) {
	t.Helper()
	el, err := xmlstream.Parse([]byte(raw), xmlstream.Limits{})
	if err != nil {
		t.Fatalf("xml: %v", err)
	}
	return dataform.Parse(el, lim)
}

// condition returns the stanza error condition of err, or "".
func condition(err error) string {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se.Condition()
	}
	return ""
}

const x = "<x xmlns='jabber:x:data' "

func TestParse(t *testing.T) {
	for i, tc := range []struct {
		raw  string
		want *dataform.Form
	}{
		// XEP-0004 §3.1 and §3.2: a form with title, instructions and
		// fields of every part.
		0: {x + "type='form'><title>T</title><instructions>a</instructions><instructions>b</instructions>" +
			"<field var='FORM_TYPE' type='hidden'><value>urn:x</value></field>" +
			"<field var='l' type='list-single' label='L'><desc>D</desc><required/><value>1</value>" +
			"<option label='one'><value>1</value></option><option><value>2</value></option></field>" +
			"<field type='fixed'><value>note</value></field></x>",
			&dataform.Form{Type: "form", Title: "T", Instructions: []string{"a", "b"}, Fields: []dataform.Field{
				{Var: "FORM_TYPE", Type: "hidden", Values: []string{"urn:x"}},
				{Var: "l", Type: "list-single", Label: "L", Desc: "D", Required: true, Values: []string{"1"},
					Options: []dataform.Option{{Label: "one", Value: "1"}, {Value: "2"}}},
				{Type: "fixed", Values: []string{"note"}},
			}}},
		// A submission without field types keeps several values (MAM's ids).
		1: {x + "type='submit'><field var='ids'><value>a</value><value>b</value></field></x>",
			&dataform.Form{Type: "submit", Fields: []dataform.Field{{Var: "ids", Values: []string{"a", "b"}}}}},
		// Values are kept as sent, whitespace included; foreign elements skipped.
		2: {x + "type='result'><field var='v'><value> x </value><media xmlns='urn:xmpp:media-element'/></field></x>",
			&dataform.Form{Type: "result", Fields: []dataform.Field{{Var: "v", Values: []string{" x "}}}}},
		// No type at all (some clients omit it): reported as "".
		3: {x + "/>", &dataform.Form{}},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := parse(t, tc.raw, dataform.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	lim := dataform.Limits{Fields: 2, Values: 2, Bytes: 40}
	for i, tc := range []struct {
		raw, cond, text string
	}{
		0: {"<x xmlns='jabber:x:oob'/>", "bad-request", "not a jabber:x:data form"},
		1: {x + "type='bogus'/>", "bad-request", "unknown form type"},
		2: {x + "type='submit'><field var='a' type='wrong'/></x>", "bad-request", "unknown type"},
		3: {x + "type='submit'><field><value>v</value></field></x>", "bad-request", "without var"},
		4: {x + "type='submit'><field var='a'/><field var='a'/></x>", "bad-request", "given twice"},
		5: {x + "type='submit'><field var='a' type='boolean'><value>1</value><value>0</value></field></x>",
			"bad-request", "takes one value"},
		6: {x + "type='submit'><field var='a'/><field var='b'/><field var='c'/></x>", "policy-violation", "more than 2 fields"},
		7: {x + "type='submit'><field var='a'><value/><value/><value/></field></x>", "policy-violation", "more than 2 values"},
		8: {x + "type='form'><field var='a' type='list-multi'><option><value/></option><option><value/></option><option><value/></option></field></x>",
			"policy-violation", "more than 2 options"},
		9: {x + "type='submit'><field var='a'><value>" + strings.Repeat("v", 40) + "</value></field></x>",
			"policy-violation", "more than 40 bytes"},
		10: {x + "type='form'><title>" + strings.Repeat("t", 41) + "</title></x>", "policy-violation", "bytes"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			_, err := parse(t, tc.raw, lim)
			if condition(err) != tc.cond || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %s with %q", err, tc.cond, tc.text)
			}
		})
	}
}

// TestDefaultLimits: the zero Limits are the documented defaults.
func TestDefaultLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(x + "type='submit'>")
	for i := range dataform.DefaultFields + 1 {
		b.WriteString("<field var='f" + strconv.Itoa(i) + "'/>")
	}
	b.WriteString("</x>")
	if _, err := parse(t, b.String(), dataform.Limits{}); condition(err) != "policy-violation" {
		t.Fatalf("%d fields: %v", dataform.DefaultFields+1, err)
	}
	values := x + "type='submit'><field var='a'>" + strings.Repeat("<value>v</value>", dataform.DefaultValues) + "</field></x>"
	if _, err := parse(t, values, dataform.Limits{}); err != nil {
		t.Fatalf("%d values: %v", dataform.DefaultValues, err)
	}
	big := x + "type='submit'><field var='a'><value>" + strings.Repeat("v", dataform.DefaultBytes) + "</value></field></x>"
	if _, err := parse(t, big, dataform.Limits{}); condition(err) != "policy-violation" {
		t.Fatalf("%d bytes: %v", dataform.DefaultBytes, err)
	}
}

func TestGetters(t *testing.T) {
	f, err := parse(t, x+"type='submit'>"+
		"<field var='FORM_TYPE' type='hidden'><value> urn:x </value></field>"+
		"<field var='t'><value>1</value></field><field var='tt'><value>true</value></field>"+
		"<field var='f'><value>0</value></field><field var='ff'><value>false</value></field>"+
		"<field var='empty'><value/></field><field var='novalue'/>"+
		"<field var='bad'><value>yes</value></field><field var='two'><value>1</value><value>2</value></field>"+
		"<field var='j'><value>juliet@example.com/balcony</value></field><field var='badj'><value>@x</value></field>"+
		"<field var='m'><value>line 1</value><value>line 2</value></field></x>", dataform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.FormType(); got != "urn:x" {
		t.Errorf("FormType %q", got)
	}
	for i, tc := range []struct {
		name string
		want bool
		cond string
	}{
		{"t", true, ""}, {"tt", true, ""}, {"f", false, ""}, {"ff", false, ""},
		{"empty", false, ""}, {"novalue", false, ""}, {"absent", false, ""},
		{"bad", false, "bad-request"}, {"two", false, "bad-request"},
	} {
		got, err := f.Bool(tc.name)
		if got != tc.want || condition(err) != tc.cond {
			t.Errorf("%d: Bool(%s) = %v, %v", i, tc.name, got, err)
		}
	}
	if j, err := f.JID("j"); err != nil || j.String() != "juliet@example.com/balcony" {
		t.Errorf("JID: %v %v", j, err)
	}
	if j, err := f.JID("absent"); err != nil || !j.IsZero() {
		t.Errorf("JID absent: %v %v", j, err)
	}
	if _, err := f.JID("badj"); condition(err) != "jid-malformed" {
		t.Errorf("JID bad: %v", err)
	}
	if got := f.TextMulti("m"); got != "line 1\nline 2" {
		t.Errorf("TextMulti %q", got)
	}
	if got := f.Values("m"); !reflect.DeepEqual(got, []string{"line 1", "line 2"}) {
		t.Errorf("Values %q", got)
	}
	if _, err := f.Value("two"); condition(err) != "bad-request" {
		t.Errorf("Value of two values: %v", err)
	}
	if !f.Has("novalue") || f.Has("absent") {
		t.Error("Has")
	}
}

// TestBuild: a built form serialises as XEP-0004 writes it and parses
// back to itself.
func TestBuild(t *testing.T) {
	f := dataform.New(dataform.TypeForm, "urn:x",
		dataform.NewField("b", dataform.Boolean, "B", dataform.BoolValue(true)),
		dataform.ListField("l", "L", "a", "a", "b"))
	f.Title = "T"
	f.Fields[1].Required = true
	want := "<x xmlns='jabber:x:data' type='form'><title>T</title>" +
		"<field var='FORM_TYPE' type='hidden'><value>urn:x</value></field>" +
		"<field var='b' type='boolean' label='B'><required/><value>1</value></field>" +
		"<field var='l' type='list-single' label='L'><value>a</value>" +
		"<option label='a'><value>a</value></option><option label='b'><value>b</value></option></field></x>"
	el := f.Element()
	if got := el.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	back, err := dataform.Parse(el, dataform.Limits{})
	if err != nil || !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	sub := dataform.New(dataform.TypeSubmit, "")
	if got := sub.Element().String(); got != "<x xmlns='jabber:x:data' type='submit'/>" {
		t.Fatalf("empty submission %s", got)
	}
}
