package xmlstream

import "parley/internal/defaults"

// Limits bound what one peer can make the server hold. A zero field means
// its default, so Limits{} is the default policy (DESIGN.md, "Limits").
type Limits struct {
	// MaxStanza is the largest top-level element (or stream header) in
	// bytes. Default 256 KiB.
	MaxStanza int
	// MaxDepth is the deepest element nesting inside a top-level element;
	// the stanza itself is depth 1 and the stream element is not counted.
	// Default 32.
	MaxDepth int
	// MaxAttrs is the most attributes one start tag may carry, namespace
	// declarations included. Default 64.
	MaxAttrs int
}

// Default limit values.
const (
	DefaultMaxStanza = 256 << 10
	DefaultMaxDepth  = 32
	DefaultMaxAttrs  = 64
)

// DefaultLimits returns the limits used when a field is zero.
func DefaultLimits() Limits {
	return Limits{MaxStanza: DefaultMaxStanza, MaxDepth: DefaultMaxDepth, MaxAttrs: DefaultMaxAttrs}
}

func (l Limits) withDefaults() Limits {
	defaults.Positive(&l.MaxStanza, DefaultMaxStanza)
	defaults.Positive(&l.MaxDepth, DefaultMaxDepth)
	defaults.Positive(&l.MaxAttrs, DefaultMaxAttrs)
	return l
}
