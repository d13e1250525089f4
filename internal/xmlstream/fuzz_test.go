package xmlstream

import (
	"errors"
	"io"
	"testing"
)

// FuzzParse: Parse never panics, and what it accepts survives a round
// trip through Append, both copying Raw and re-encoding the tree.
func FuzzParse(f *testing.F) {
	f.Add([]byte(msgStanza))
	f.Fuzz(func(t *testing.T, b []byte) {
		src := append([]byte(nil), b...)
		e, err := Parse(src, Limits{})
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		out := Append(nil, e)
		e2, err := Parse(out, Limits{MaxStanza: 2 * len(out)})
		if err != nil {
			t.Fatalf("Append(Raw) output does not parse: %v\nin:  %q\nout: %q", err, b, out)
		}
		if d := diff(e, e2); d != "" {
			t.Fatalf("Raw round trip: %s\nin:  %q\nout: %q", d, b, out)
		}
		if hasForeignPrefixedAttr(e) {
			return // Attr keeps no namespace, so re-encoding cannot declare it
		}
		clearRaw(e)
		out = Append(nil, e)
		e3, err := Parse(out, Limits{MaxStanza: 2 * len(out)})
		if err != nil {
			t.Fatalf("encoded output does not parse: %v\nin:  %q\nout: %q", err, b, out)
		}
		if d := diff(e, e3); d != "" {
			t.Fatalf("encode round trip: %s\nin:  %q\nout: %q", d, b, out)
		}
	})
}

func hasForeignPrefixedAttr(e *Element) bool {
	for _, a := range e.Attr {
		if p, _, _ := splitQName(a.Name); p != "" && p != "xml" {
			return true
		}
	}
	for _, c := range e.Children {
		if hasForeignPrefixedAttr(c) {
			return true
		}
	}
	return false
}

// diff compares trees by name, namespace, attributes and text.
func diff(a, b *Element) string {
	if a.Name != b.Name || a.Space != b.Space {
		return "name {" + a.Space + "}" + a.Name + " vs {" + b.Space + "}" + b.Name
	}
	if a.Text != b.Text {
		return "text of " + a.Name
	}
	if len(a.Attr) != len(b.Attr) || len(a.Children) != len(b.Children) {
		return "attr or child count of " + a.Name
	}
	for i := range a.Attr {
		if a.Attr[i] != b.Attr[i] {
			return "attr " + a.Attr[i].Name
		}
	}
	for i := range a.Children {
		if d := diff(a.Children[i], b.Children[i]); d != "" {
			return d
		}
	}
	return ""
}

// FuzzReader: arbitrary bytes split at arbitrary points never panic the
// Reader, never yield an element over the limits, and give the same
// tokens however they are split.
func FuzzReader(f *testing.F) {
	f.Add([]byte(header+msgStanza+"</stream:stream>"), uint8(7))
	lim := Limits{MaxStanza: 4096, MaxDepth: 8, MaxAttrs: 8}
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		whole, werr := tokens(NewReader(&chunkReader{s: string(b), n: len(b) + 1}, lim))
		r := NewReader(&chunkReader{s: string(b), n: int(split%64) + 1}, lim)
		var got string
		var gerr error
		for {
			tok, err := r.Next()
			if err != nil {
				if err != io.EOF {
					gerr = err
				}
				break
			}
			got += tok.Kind.String()
			if tok.El != nil {
				if len(tok.El.Raw) > lim.MaxStanza {
					t.Fatalf("element of %d bytes passed MaxStanza", len(tok.El.Raw))
				}
				if d := depth(tok.El); d > lim.MaxDepth {
					t.Fatalf("element of depth %d passed MaxDepth", d)
				}
				got += " {" + tok.El.Space + "}" + tok.El.Name + " " + string(tok.El.Raw)
			}
			got += "\n"
		}
		if got != whole {
			t.Fatalf("split %d gave\n%s\nwhole gave\n%s", split%64+1, got, whole)
		}
		if condition(gerr) != condition(werr) {
			t.Fatalf("split error %v, whole error %v", gerr, werr)
		}
	})
}

func depth(e *Element) int {
	d := 0
	for _, c := range e.Children {
		d = max(d, depth(c))
	}
	return d + 1
}

// FuzzSetAttr: on any element Parse accepts, SetAttr and RemoveAttr give
// an element that parses, with the attribute set or gone and everything
// else unchanged.
func FuzzSetAttr(f *testing.F) {
	f.Add([]byte(msgStanza), "from", "romeo@example.net/orchard")
	f.Fuzz(func(t *testing.T, raw []byte, name, value string) {
		got := SetAttr(raw, name, value)
		e, err := Parse(append([]byte(nil), raw...), Limits{})
		if err != nil || raw[0] != '<' || raw[1] == '?' {
			return // SetAttr works on Element.Raw, which starts with the start tag
		}
		if got == nil {
			t.Fatalf("SetAttr refused an element Parse accepts: %q", raw)
		}
		if name == "" || nameEnd([]byte(name), 0) != len(name) {
			return
		}
		if p, _, err := splitQName(name); err != nil || (p != "" && p != "xml") || name == "xmlns" {
			return
		}
		set, err := Parse(got, Limits{MaxStanza: 2 * len(got)})
		if err != nil {
			t.Fatalf("SetAttr output does not parse: %v\n%q", err, got)
		}
		if want := normalizedAttr(value); set.Get(name) != want {
			t.Fatalf("attribute %q = %q, want %q", name, set.Get(name), want)
		}
		for _, a := range e.Attr {
			if a.Name != name && set.Get(a.Name) != a.Value {
				t.Fatalf("attribute %q changed", a.Name)
			}
		}
		rm := RemoveAttr(raw, name)
		e2, err := Parse(rm, Limits{})
		if err != nil {
			t.Fatalf("RemoveAttr output does not parse: %v\n%q", err, rm)
		}
		for _, a := range e2.Attr {
			if a.Name == name {
				t.Fatalf("attribute %q still there", name)
			}
		}
		if len(e2.Attr) != len(e.Attr)-btoi(e.Get(name) != "" || hasAttr(e, name)) {
			t.Fatalf("RemoveAttr removed the wrong attributes")
		}
	})
}

func hasAttr(e *Element, name string) bool {
	for _, a := range e.Attr {
		if a.Name == name {
			return true
		}
	}
	return false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// normalizedAttr is what a parser reads back from appendEscaped(value):
// the value with invalid characters replaced.
func normalizedAttr(v string) string {
	e := &Element{Name: "a", Attr: []Attr{{"k", v}}}
	out, err := Parse(Append(nil, e), Limits{MaxStanza: 1 << 30})
	if err != nil {
		return "unparseable: " + err.Error()
	}
	return out.Get("k")
}
