// Package vcard stores and serves XEP-0054 vcard-temp documents.
//
// A user sets only their own vCard; anyone may read any local account's
// (XEP-0054 §3.3, §6: vCards are world-readable). The document is kept as
// the raw bytes of the <vCard/> element, so what a client stored is what
// the next reader gets, extensions included, with no schema in between.
//
// With Options.PEP the module converts between the vCard's photo and the
// XEP-0084 avatar (XEP-0398, avatar.go): a published avatar becomes the
// PHOTO, a PHOTO set by a client is published as the avatar, and
// available presence carries the photo's hash (vcard-temp:x:update).
package vcard
