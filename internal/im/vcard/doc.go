// Package vcard stores and serves XEP-0054 vcard-temp documents.
//
// A user sets only their own vCard; anyone may read any local account's
// (XEP-0054 §3.3, §6: vCards are world-readable). The document is kept as
// the raw bytes of the <vCard/> element, so what a client stored is what
// the next reader gets, extensions included, with no schema in between.
package vcard
