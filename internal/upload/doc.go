// Package upload is the HTTP File Upload service (XEP-0363) at
// upload.<domain>: it hands out slots over XMPP (a signed, single-use,
// expiring PUT URL and an unguessable GET URL), receives the files over
// HTTP into a blob store, serves them back with headers that keep a
// browser from running them, and removes them when they expire or their
// owner's account is deleted.
//
// The metadata of every upload is in the store (store.Uploads); the bytes
// are behind Blobs (files under <data>/uploads by default).
package upload
