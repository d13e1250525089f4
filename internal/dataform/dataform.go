package dataform

import (
	"strconv"
	"strings"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the data forms namespace.
const NS = "jabber:x:data"

// FormType is the var of the hidden field that names a form's purpose
// (XEP-0068).
const FormType = "FORM_TYPE"

// Form types (XEP-0004 §3.1).
const (
	TypeForm   = "form"
	TypeSubmit = "submit"
	TypeCancel = "cancel"
	TypeResult = "result"
)

// Field types (XEP-0004 §3.3). An empty type is text-single.
const (
	Boolean     = "boolean"
	Fixed       = "fixed"
	Hidden      = "hidden"
	JIDMulti    = "jid-multi"
	JIDSingle   = "jid-single"
	ListMulti   = "list-multi"
	ListSingle  = "list-single"
	TextMulti   = "text-multi"
	TextPrivate = "text-private"
	TextSingle  = "text-single"
)

// Form is a data form.
type Form struct {
	Type         string // form, submit, cancel, result; "" if the sender gave none
	Title        string
	Instructions []string
	Fields       []Field
}

// Field is one field of a form.
type Field struct {
	Var      string
	Type     string // as sent; "" means text-single
	Label    string
	Desc     string
	Required bool
	Values   []string // as sent, in order
	Options  []Option
}

// Option is one choice of a list field.
type Option struct {
	Label string
	Value string
}

// Limits bound what Parse accepts. Zero fields take the defaults.
type Limits struct {
	// Fields is the most fields a form may hold (default 128).
	Fields int
	// Values is the most values, and separately the most options, one
	// field may hold (default 256).
	Values int
	// Bytes bounds the text of a form: every var, label, value, option,
	// title and instruction together (default 64 KiB).
	Bytes int
}

// Defaults for Limits.
const (
	DefaultFields = 128
	DefaultValues = 256
	DefaultBytes  = 64 << 10
)

func (l Limits) withDefaults() Limits {
	defaults.Positive(&l.Fields, DefaultFields)
	defaults.Positive(&l.Values, DefaultValues)
	defaults.Positive(&l.Bytes, DefaultBytes)
	return l
}

func malformed(why string) *stanza.Error {
	return stanza.ErrBadRequest.WithText("data form: " + why)
}

// tooLarge is the error of a form past a limit: a local policy, which
// the sender may satisfy with a smaller form (RFC 6120 §8.3.3.12).
func tooLarge(why string) *stanza.Error {
	return stanza.ErrPolicyViolation.WithText("data form: " + why)
}

func validFormType(t string) bool {
	switch t {
	case "", TypeForm, TypeSubmit, TypeCancel, TypeResult:
		return true
	}
	return false
}

func validFieldType(t string) bool {
	switch t {
	case "", Boolean, Fixed, Hidden, JIDMulti, JIDSingle, ListMulti, ListSingle, TextMulti, TextPrivate, TextSingle:
		return true
	}
	return false
}

// Parse reads an <x xmlns='jabber:x:data'/> element. It returns a
// bad-request error for an element that is not a form or a form that
// XEP-0004 §3 does not allow (an unknown form or field type, a field
// without var that is not fixed, a var given twice, several values in a
// single-valued field), and policy-violation for one past a limit.
// Elements of other namespaces inside the form (XEP-0221 media, XEP-0122
// validation) are skipped.
func Parse(x *xmlstream.Element, lim Limits) (*Form, error) {
	if x == nil || x.Name != "x" || x.Space != NS {
		return nil, malformed("not a jabber:x:data form")
	}
	lim = lim.withDefaults()
	f := &Form{Type: x.Get("type")}
	if !validFormType(f.Type) {
		return nil, malformed("unknown form type " + strconv.Quote(f.Type))
	}
	fields := 0
	for _, c := range x.Children {
		if c.Name == "field" && c.Space == NS {
			fields++
		}
	}
	if fields > 0 {
		f.Fields = make([]Field, 0, min(fields, lim.Fields))
	}
	bytes := 0
	count := func(s string) error {
		if bytes += len(s); bytes > lim.Bytes {
			return tooLarge("more than " + strconv.Itoa(lim.Bytes) + " bytes of text")
		}
		return nil
	}
	seen := make(map[string]bool)
	for _, c := range x.Children {
		if c.Space != NS {
			continue
		}
		switch c.Name {
		case "title":
			f.Title = c.Text
			if err := count(c.Text); err != nil {
				return nil, err
			}
		case "instructions":
			f.Instructions = append(f.Instructions, c.Text)
			if err := count(c.Text); err != nil {
				return nil, err
			}
		case "field":
			if len(f.Fields) == lim.Fields {
				return nil, tooLarge("more than " + strconv.Itoa(lim.Fields) + " fields")
			}
			fd, err := parseField(c, lim, count)
			if err != nil {
				return nil, err
			}
			if fd.Var != "" {
				if seen[fd.Var] {
					return nil, malformed("field " + strconv.Quote(fd.Var) + " given twice")
				}
				seen[fd.Var] = true
			}
			f.Fields = append(f.Fields, fd)
		}
	}
	return f, nil
}

func parseField(c *xmlstream.Element, lim Limits, count func(string) error) (Field, error) {
	fd := Field{Var: c.Get("var"), Type: c.Get("type"), Label: c.Get("label")}
	name := strconv.Quote(fd.Var)
	if !validFieldType(fd.Type) {
		return fd, malformed("field " + name + " has unknown type " + strconv.Quote(fd.Type))
	}
	// §3.2: every field but a fixed one is identified by its var.
	if fd.Var == "" && fd.Type != Fixed {
		return fd, malformed("a field without var")
	}
	if err := count(fd.Var); err != nil {
		return fd, err
	}
	if err := count(fd.Label); err != nil {
		return fd, err
	}
	for _, v := range c.Children {
		if v.Space != NS {
			continue
		}
		switch v.Name {
		case "value":
			if len(fd.Values) == lim.Values {
				return fd, tooLarge("field " + name + " has more than " + strconv.Itoa(lim.Values) + " values")
			}
			fd.Values = append(fd.Values, v.Text)
			if err := count(v.Text); err != nil {
				return fd, err
			}
		case "option":
			if len(fd.Options) == lim.Values {
				return fd, tooLarge("field " + name + " has more than " + strconv.Itoa(lim.Values) + " options")
			}
			o := Option{Label: v.Get("label"), Value: v.ChildText("value", NS)}
			fd.Options = append(fd.Options, o)
			if err := count(o.Label); err != nil {
				return fd, err
			}
			if err := count(o.Value); err != nil {
				return fd, err
			}
		case "required":
			fd.Required = true
		case "desc":
			fd.Desc = v.Text
			if err := count(v.Text); err != nil {
				return fd, err
			}
		}
	}
	if len(fd.Values) > 1 && fd.single() {
		return fd, malformed("field " + name + " takes one value")
	}
	return fd, nil
}

// single reports whether the field's declared type takes one value
// (§3.3). A submitted form often omits types (the receiver knows them):
// an untyped field keeps what it was sent, and Value rejects several
// values where one is expected. Hidden fields too: a FORM_TYPE is
// single-valued by XEP-0068, but entity capabilities (XEP-0115 §5.4)
// must see a repeated one to judge it.
func (fd *Field) single() bool {
	switch fd.Type {
	case Boolean, JIDSingle, ListSingle, TextPrivate, TextSingle:
		return true
	}
	return false
}

// Field returns the field with a var, or nil.
func (f *Form) Field(name string) *Field {
	if f == nil {
		return nil
	}
	for i := range f.Fields {
		if f.Fields[i].Var == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Has reports whether the form holds a field.
func (f *Form) Has(name string) bool { return f.Field(name) != nil }

// FormType returns the value of the FORM_TYPE field, trimmed, or "" if
// there is none (or it holds several values).
func (f *Form) FormType() string {
	fd := f.Field(FormType)
	if fd == nil || len(fd.Values) != 1 {
		return ""
	}
	return strings.TrimSpace(fd.Values[0])
}

// Value returns the value of a single-valued field: "" if the field is
// absent or empty. A field given several values is an error.
func (f *Form) Value(name string) (string, error) {
	fd := f.Field(name)
	if fd == nil || len(fd.Values) == 0 {
		return "", nil
	}
	if len(fd.Values) > 1 {
		return "", malformed("field " + strconv.Quote(name) + " takes one value")
	}
	return fd.Values[0], nil
}

// Values returns every value of a field (jid-multi, list-multi,
// text-multi), as sent; nil if absent.
func (f *Form) Values(name string) []string {
	if fd := f.Field(name); fd != nil {
		return fd.Values
	}
	return nil
}

// Bool reads a boolean field (§3.3: "1" or "true", "0" or "false"). An
// absent field, or one without a value or with an empty one, is false.
func (f *Form) Bool(name string) (bool, error) {
	v, err := f.Value(name)
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(v) {
	case "1", "true":
		return true, nil
	case "0", "false", "":
		return false, nil
	}
	return false, malformed("field " + strconv.Quote(name) + " is not a boolean")
}

// JID reads a jid-single field: the zero JID if it is absent or empty, an
// error if its value is not a JID (RFC 7622).
func (f *Form) JID(name string) (jid.JID, error) {
	v, err := f.Value(name)
	if err != nil {
		return jid.JID{}, err
	}
	if v = strings.TrimSpace(v); v == "" {
		return jid.JID{}, nil
	}
	j, err := jid.Parse(v)
	if err != nil {
		return jid.JID{}, stanza.ErrJIDMalformed.WithText("data form: field " + strconv.Quote(name) + " is not a JID")
	}
	return j, nil
}

// TextMulti reads a text-multi field: its values are lines (§3.3),
// joined with newlines.
func (f *Form) TextMulti(name string) string {
	return strings.Join(f.Values(name), "\n")
}

// BoolValue is a boolean field's value as this server writes it.
func BoolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// New returns a form of a type whose first field is the hidden FORM_TYPE
// (omitted when formType is "").
func New(typ, formType string, fields ...Field) *Form {
	f := &Form{Type: typ}
	if formType != "" {
		f.Fields = append(f.Fields, Field{Var: FormType, Type: Hidden, Values: []string{formType}})
	}
	f.Fields = append(f.Fields, fields...)
	return f
}

// NewField returns a field.
func NewField(name, typ, label string, values ...string) Field {
	return Field{Var: name, Type: typ, Label: label, Values: values}
}

// ListField returns a list-single field whose options are their own
// labels.
func ListField(name, label, value string, options ...string) Field {
	fd := Field{Var: name, Type: ListSingle, Label: label, Values: []string{value}}
	for _, o := range options {
		fd.Options = append(fd.Options, Option{Label: o, Value: o})
	}
	return fd
}

// Element builds the <x/> element.
func (f *Form) Element() *xmlstream.Element {
	x := xmlstream.New("x", NS)
	if f.Type != "" {
		x.Attr = append(x.Attr, xmlstream.Attr{Name: "type", Value: f.Type})
	}
	if f.Title != "" {
		x.Add(xmlstream.NewText("title", NS, f.Title))
	}
	for _, in := range f.Instructions {
		x.Add(xmlstream.NewText("instructions", NS, in))
	}
	for i := range f.Fields {
		x.Add(f.Fields[i].Element())
	}
	return x
}

// Element builds the <field/> element.
func (fd *Field) Element() *xmlstream.Element {
	el := xmlstream.New("field", NS)
	for _, a := range [...]xmlstream.Attr{{Name: "var", Value: fd.Var}, {Name: "type", Value: fd.Type}, {Name: "label", Value: fd.Label}} {
		if a.Value != "" {
			el.Attr = append(el.Attr, a)
		}
	}
	if fd.Desc != "" {
		el.Add(xmlstream.NewText("desc", NS, fd.Desc))
	}
	if fd.Required {
		el.Add(xmlstream.New("required", NS))
	}
	for _, v := range fd.Values {
		el.Add(xmlstream.NewText("value", NS, v))
	}
	for _, o := range fd.Options {
		opt := xmlstream.New("option", NS)
		if o.Label != "" {
			opt.Attr = append(opt.Attr, xmlstream.Attr{Name: "label", Value: o.Label})
		}
		el.Add(opt.Add(xmlstream.NewText("value", NS, o.Value)))
	}
	return el
}
