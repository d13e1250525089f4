// Package digest mails users a summary of the messages they missed: the
// 1:1 messages and room mentions that reached their account while none of
// their clients was connected (router.OnUnattended, the hook push
// notifications use). A user opts in with an ad-hoc command (XEP-0050)
// that records an email address; nobody gets mail otherwise.
//
// Messages are batched: the first one a user misses starts a window
// (Options.Delay); at its end, if no client of the user came online
// meanwhile, one mail lists who wrote and how often. Bodies are left out
// unless the site allows them ([digest] include_body), since mail leaves
// the site's control. A mail that the SMTP server refuses or cannot take
// is tried again a few times, then dropped with an error in the log.
package digest
