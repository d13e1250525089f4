package config

// validateLimits checks the archive query limits of [archive]
// (docs/SECURITY.md): zero means mam's default, a negative value is an
// error.
func (a *Archive) validateLimits() []error {
	var errs []error
	notNegative(&errs, "archive.search_max_bytes", a.SearchBytes)
	notNegative(&errs, "archive.search_max_words", a.SearchWords)
	notNegative(&errs, "archive.query_timeout", a.QueryTimeout.Duration)
	return errs
}
