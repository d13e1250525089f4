package config

import "fmt"

// Quotas bound what one account or one session may keep on the server
// (docs/SECURITY.md). Zero means the documented default of the module
// that enforces it, so a file that leaves a key out keeps the default.
type Quotas struct {
	// DirectedPresence is how many entities one session may have sent
	// directed available presence to at once (RFC 6121 §4.6); beyond it
	// directed presence is refused with policy-violation.
	DirectedPresence int `toml:"directed_presence"`
}

func (q *Quotas) validate() []error {
	var errs []error
	for _, k := range []struct {
		key string
		v   int64
	}{
		{"quotas.directed_presence", int64(q.DirectedPresence)},
	} {
		if k.v < 0 {
			errs = append(errs, &KeyError{Key: k.key, Msg: fmt.Sprintf("%d is negative (0 means the default)", k.v)})
		}
	}
	return errs
}
