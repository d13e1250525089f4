package directory

import (
	"context"
	"encoding/base64"
	"net/http"

	"parley/internal/xmlstream"
)

// nsVCard is vcard-temp (XEP-0054).
const nsVCard = "vcard-temp"

// MaxPhoto bounds a directory photo served in a vCard; a larger one is
// left out (base64 in the vCard must stay within vcard's 64 KiB).
const MaxPhoto = 40 << 10

// VCard is vcard.Options.Fallback: a directory user's vCard built from
// the directory's attributes, read when asked (nil for other users and
// while the directory is unavailable).
func (d *Directory) VCard(ctx context.Context, username string) *xmlstream.Element {
	if !d.IsDirectoryAccount(username) && !d.isKnown(username) {
		return nil
	}
	e, err := d.Lookup(ctx, username)
	if err != nil {
		d.log.Debug("directory vCard unavailable", "user", username, "err", err)
		return nil
	}
	return e.VCard()
}

// VCard is the entry as a vcard-temp element (XEP-0054): FN, TITLE,
// ORG (ORGNAME, ORGUNIT), TEL, EMAIL and PHOTO where set.
func (e Entry) VCard() *xmlstream.Element {
	v := xmlstream.New("vCard", nsVCard)
	text := func(name, s string) *xmlstream.Element { return xmlstream.NewText(name, nsVCard, s) }
	if e.Name != "" {
		v.Add(text("FN", e.Name))
	}
	if e.Title != "" {
		v.Add(text("TITLE", e.Title))
	}
	if e.Org != "" || e.Department != "" {
		org := xmlstream.New("ORG", nsVCard)
		if e.Org != "" {
			org.Add(text("ORGNAME", e.Org))
		}
		if e.Department != "" {
			org.Add(text("ORGUNIT", e.Department))
		}
		v.Add(org)
	}
	if e.Phone != "" {
		v.Add(xmlstream.New("TEL", nsVCard).Add(xmlstream.New("WORK", nsVCard), xmlstream.New("VOICE", nsVCard), text("NUMBER", e.Phone)))
	}
	if e.Email != "" {
		v.Add(xmlstream.New("EMAIL", nsVCard).Add(xmlstream.New("INTERNET", nsVCard), text("USERID", e.Email)))
	}
	if len(e.Photo) > 0 && len(e.Photo) <= MaxPhoto {
		v.Add(xmlstream.New("PHOTO", nsVCard).Add(text("TYPE", http.DetectContentType(e.Photo)),
			text("BINVAL", base64.StdEncoding.EncodeToString(e.Photo))))
	}
	return v
}
