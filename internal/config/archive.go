package config

import "fmt"

// validateLimits checks the archive query limits of [archive]
// (docs/SECURITY.md): zero means mam's default, a negative value is an
// error.
func (a *Archive) validateLimits() []error {
	var errs []error
	for _, k := range []struct {
		key string
		v   int64
	}{
		{"archive.search_max_bytes", int64(a.SearchBytes)},
		{"archive.search_max_words", int64(a.SearchWords)},
		{"archive.query_timeout", int64(a.QueryTimeout.Duration)},
	} {
		if k.v < 0 {
			errs = append(errs, &KeyError{Key: k.key, Msg: fmt.Sprintf("%d is negative (0 means the default)", k.v)})
		}
	}
	return errs
}
