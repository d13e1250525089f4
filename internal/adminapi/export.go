package adminapi

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"parley/internal/store"
)

// exportPage is how many archived messages one store query reads.
const exportPage = 500

// exportMe serves GET /api/v1/me/export: everything the server keeps for
// the token's account that its owner may see, as one ZIP archive of JSON
// files and the files they uploaded:
//
//	account.json      the JID and when the account was made
//	vcard.xml         the vCard (XEP-0054), if any
//	roster.json       the contacts, as the roster (RFC 6121) shows them
//	blocklist.json    the blocked JIDs (XEP-0191)
//	messages.jsonl    the message archive (XEP-0313), one message a line,
//	                  as MAM serves it (a retracted message as its tombstone)
//	pep.json          the PEP nodes and their items (XEP-0163): bookmarks
//	                  (XEP-0402), avatar, nickname...
//	private.json      private XML storage (XEP-0049; legacy bookmarks)
//	uploads.json      the files uploaded (XEP-0363) and not expired,
//	uploads/ID/NAME   with their bytes
//
// The archive is streamed: an error after the first bytes cuts it short
// (a ZIP without its central directory, which no reader takes for whole).
func exportMe(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.activeUser(r)
	if err != nil {
		return err
	}
	bare := u.Username + "@" + a.o.Ops.Domain.String()
	setTarget(r, bare)
	stamp := a.o.Now().UTC()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.zip"`, u.Username, stamp.Format("20060102")))
	w.WriteHeader(http.StatusOK)
	x := &exporter{a: a, ctx: r.Context(), user: u.Username, bare: bare, zw: zip.NewWriter(w), stamp: stamp}
	if err := x.run(u); err != nil {
		// The status is sent: cut the archive short and say why in the log.
		a.o.Log.Error("adminapi: export", "user", u.Username, "err", err)
		return errCutShort
	}
	return nil
}

// errCutShort is a handler's answer when it failed after its status was
// sent: guard audits the failure and aborts the response.
var errCutShort = errors.New("adminapi: response cut short")

type exporter struct {
	a     *API
	ctx   context.Context
	user  string // username
	bare  string // bare JID
	zw    *zip.Writer
	stamp time.Time
}

func (x *exporter) run(u store.User) error {
	d := x.a.o.Data
	steps := []func() error{
		func() error {
			return x.json("account.json", struct {
				JID      string    `json:"jid"`
				Created  time.Time `json:"created"`
				Exported time.Time `json:"exported"`
			}{x.bare, u.Created.UTC(), x.stamp})
		},
		x.vcard,
		x.roster,
		func() error {
			b, err := d.Blocklist(x.ctx, x.user)
			if b == nil {
				b = []string{}
			}
			return errors.Join(err, x.json("blocklist.json", b))
		},
		x.messages,
		x.pep,
		x.private,
		x.uploads,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return x.zw.Close()
}

func (x *exporter) create(name string) (io.Writer, error) {
	return x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.stamp})
}

func (x *exporter) json(name string, v any) error {
	f, err := x.create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (x *exporter) vcard() error {
	v, err := x.a.o.Data.VCard(x.ctx, x.user)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := x.create("vcard.xml")
	if err == nil {
		_, err = f.Write(v)
	}
	return err
}

// rosterItem is a contact as the roster shows it (RFC 6121 §2.1.2):
// items that only hold a pending request state are not contacts.
type rosterItem struct {
	JID          string   `json:"jid"`
	Name         string   `json:"name,omitempty"`
	Groups       []string `json:"groups,omitempty"`
	Subscription string   `json:"subscription"`
	Ask          bool     `json:"ask_subscribe,omitempty"`
	PendingIn    bool     `json:"asked_to_subscribe,omitempty"`
}

func (x *exporter) roster() error {
	items, _, err := x.a.o.Data.Roster(x.ctx, x.user)
	if err != nil {
		return err
	}
	out := []rosterItem{}
	for _, it := range items {
		if !it.Hidden {
			out = append(out, rosterItem{it.JID, it.Name, it.Groups, it.Subscription, it.AskOut, it.PendingIn})
		}
	}
	return x.json("roster.json", out)
}

// messages writes the archive page by page, oldest first.
func (x *exporter) messages() error {
	f, err := x.create("messages.jsonl")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	q := store.ArchiveQuery{Limit: exportPage}
	for {
		p, err := x.a.o.Data.QueryArchive(x.ctx, x.user, q)
		if err != nil {
			return err
		}
		for _, m := range p.Messages {
			if err := enc.Encode(struct {
				ID     string    `json:"id"`
				Stamp  time.Time `json:"stamp"`
				With   string    `json:"with"`
				Stanza string    `json:"stanza"`
			}{m.ID, m.Stamp.UTC(), m.With, string(m.Stanza)}); err != nil {
				return err
			}
		}
		if p.Complete || len(p.Messages) == 0 {
			return nil
		}
		q.After = p.Messages[len(p.Messages)-1].ID
	}
}

func (x *exporter) pep() error {
	nodes, err := x.a.o.Data.PEPNodes(x.ctx, x.user)
	if err != nil {
		return err
	}
	type item struct {
		ID      string    `json:"id"`
		Updated time.Time `json:"updated"`
		Payload string    `json:"payload"`
	}
	type node struct {
		Node   string `json:"node"`
		Access string `json:"access_model"`
		Items  []item `json:"items"`
	}
	out := []node{}
	for _, n := range nodes {
		items, err := x.a.o.Data.PEPItems(x.ctx, x.user, n.Node, nil, 0)
		if err != nil && !errors.Is(err, store.ErrNotFound) { // removed meanwhile
			return err
		}
		e := node{Node: n.Node, Access: n.AccessModel, Items: []item{}}
		for _, it := range items {
			e.Items = append(e.Items, item{it.ID, it.Updated.UTC(), string(it.Payload)})
		}
		out = append(out, e)
	}
	return x.json("pep.json", out)
}

func (x *exporter) private() error {
	keys, err := x.a.o.Data.PrivateXMLKeys(x.ctx, x.user)
	if err != nil {
		return err
	}
	out := map[string]string{}
	for _, k := range keys {
		v, err := x.a.o.Data.PrivateXML(x.ctx, x.user, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		out[k] = string(v)
	}
	return x.json("private.json", out)
}

// uploads writes the stored, unexpired files the account uploaded.
func (x *exporter) uploads() error {
	all, err := x.a.o.Data.UserUploads(x.ctx, x.user, x.stamp)
	if err != nil {
		return err
	}
	type upload struct {
		ID          string    `json:"id"`
		Name        string    `json:"name"`
		Size        int64     `json:"size"`
		ContentType string    `json:"content_type,omitempty"`
		Created     time.Time `json:"created"`
		Expires     time.Time `json:"expires"`
		File        string    `json:"file,omitempty"` // its path in this archive
	}
	out := []upload{}
	for _, u := range all {
		e := upload{ID: u.ID, Name: u.Name, Size: u.Size, ContentType: u.ContentType, Created: u.Created.UTC(), Expires: u.Expires.UTC()}
		if x.a.o.Blobs != nil {
			ok, err := x.blob(u, "uploads/"+u.ID+"/"+safeName(u.Name))
			if err != nil {
				return err
			}
			if ok {
				e.File = "uploads/" + u.ID + "/" + safeName(u.Name)
			}
		}
		out = append(out, e)
	}
	return x.json("uploads.json", out)
}

// blob copies an upload's bytes into the archive; false if they are gone
// (removed meanwhile).
func (x *exporter) blob(u store.Upload, name string) (bool, error) {
	src, err := x.a.o.Blobs.Open(u.ID)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer src.Close()
	// Stored: the files are mostly compressed media already.
	dst, err := x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: u.Created})
	if err != nil {
		return false, err
	}
	_, err = io.Copy(dst, src)
	return err == nil, err
}

// safeName is an uploaded file's name as a path element of the archive:
// no directories, no "..", nothing empty.
func safeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == ".." || name == "/" || name == "" {
		return "file"
	}
	return name
}
