package ediscovery

import (
	"archive/zip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/internal/durable"
)

// Names in an export's zip.
const (
	MessagesFile  = "messages.jsonl"
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
	// FormatVersion names the layout; a reader refuses others.
	FormatVersion = "parley-ediscovery-export/1"
)

// signContext prefixes what a manifest signature covers, so that the
// audit key's signature of a manifest can never pass for a checkpoint's
// (audit signs "parley audit checkpoint v1\x00"...) or the reverse.
const signContext = "parley ediscovery manifest v1\x00"

// Manifest describes an export: what was asked, by whom, when, what it
// holds, and the digest of every other file of the zip.
type Manifest struct {
	Format    string    `json:"format"`
	Job       string    `json:"job"`
	Server    string    `json:"server"`
	Query     Query     `json:"query"`
	Actor     string    `json:"actor"`
	Created   time.Time `json:"created"`
	Completed time.Time `json:"completed"`
	Counts    Counts    `json:"counts"`
	// MissingAttachments are the uploads messages share that the server
	// no longer holds (expired or deleted).
	MissingAttachments []string `json:"missing_attachments,omitempty"`
	Files              []File   `json:"files"`
	// PublicKey is the signing key (base64 of the Ed25519 public key), to
	// be compared with the audit.pub kept off the server.
	PublicKey string `json:"public_key"`
}

// Counts are what an export holds.
type Counts struct {
	Messages           int `json:"messages"`            // found by the search
	Related            int `json:"related"`             // corrections and retractions of those
	Attachments        int `json:"attachments"`         // files, each once
	AttachmentsMissing int `json:"attachments_missing"` // references to uploads no longer stored
	EML                int `json:"eml"`
}

// File is one file of the export and its digest.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Sign signs a manifest with the audit key.
func Sign(key ed25519.PrivateKey, manifest []byte) []byte {
	return ed25519.Sign(key, append([]byte(signContext), manifest...))
}

// pack writes the zip from the parts and attachments: messages.jsonl,
// attachments/, eml/, then the signed manifest.
func (s *Service) pack(ctx context.Context, j *Job) error {
	out := filepath.Join(s.jobDir(j.ID), "export.zip")
	zsum := sha256.New()
	man := Manifest{Format: FormatVersion, Job: j.ID, Server: s.o.Domain, Query: j.Query, Actor: j.Actor,
		Created: j.Created, Completed: s.o.Now().UTC(),
		PublicKey: base64.StdEncoding.EncodeToString(s.o.Key.Public().(ed25519.PublicKey))}
	err := durable.WriteFile(out, 0o600, func(w io.Writer) error {
		zw := zip.NewWriter(io.MultiWriter(w, zsum))
		err := s.packFiles(ctx, j, zw, &man)
		if err == nil {
			err = writeManifest(zw, s.o.Key, man)
		}
		return errors.Join(err, zw.Close())
	})
	if err != nil {
		return fmt.Errorf("ediscovery: pack: %w", err)
	}
	j.File, j.SHA256 = out, hex.EncodeToString(zsum.Sum(nil))
	j.Status, j.Progress.Phase, j.Finished = StatusDone, "done", man.Completed
	err = s.record(ctx, j.Actor, "export-finished", j.ID, j.Query, map[string]string{
		"messages": strconv.Itoa(man.Counts.Messages), "related": strconv.Itoa(man.Counts.Related),
		"attachments": strconv.Itoa(man.Counts.Attachments), "eml": strconv.Itoa(man.Counts.EML),
		"zip_sha256": j.SHA256})
	if err != nil {
		return err
	}
	return s.save(*j)
}

// packFiles adds every file but the manifest, each listed in man.
func (s *Service) packFiles(ctx context.Context, j *Job, zw *zip.Writer, man *Manifest) error {
	// messages.jsonl: the parts, one after another.
	w, done, err := addFile(zw, MessagesFile, man)
	if err != nil {
		return err
	}
	for n := 1; n <= j.Parts; n++ {
		if err := copyFile(w, filepath.Join(s.jobDir(j.ID), "parts", partName(n))); err != nil {
			return err
		}
	}
	done()
	var msgs []Message
	if err := s.readParts(j, func(m Message) error {
		msgs = append(msgs, m)
		switch m.Related {
		case "":
			man.Counts.Messages++
		default:
			man.Counts.Related++
		}
		for _, u := range m.Attachments {
			id, ok := uploadRef(u)
			if ok && !slices.ContainsFunc(m.AttachmentFiles, func(f string) bool { return strings.HasPrefix(f, "attachments/"+id+"/") }) {
				man.MissingAttachments = append(man.MissingAttachments, u)
			}
		}
		return ctx.Err()
	}); err != nil {
		return err
	}
	man.Counts.AttachmentsMissing = len(man.MissingAttachments)
	// attachments/: each stored upload once.
	var atts []string
	root := s.jobDir(j.ID)
	err = filepath.WalkDir(filepath.Join(root, "attachments"), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil && d.Type().IsRegular() && filepath.Ext(p) != ".tmp" {
			rel, _ := filepath.Rel(root, p)
			atts = append(atts, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return err
	}
	slices.Sort(atts)
	man.Counts.Attachments = len(atts)
	for _, a := range atts {
		w, done, err := addFile(zw, a, man)
		if err != nil {
			return err
		}
		if err := copyFile(w, filepath.Join(root, filepath.FromSlash(a))); err != nil {
			return err
		}
		done()
	}
	// eml/: one RFC 5322 message per conversation and day.
	for _, c := range conversations(msgs, s.o.Domain) {
		w, done, err := addFile(zw, c.fileName(), man)
		if err != nil {
			return err
		}
		if _, err := w.Write(c.eml(s.o.Domain)); err != nil {
			return err
		}
		done()
		man.Counts.EML++
	}
	return nil
}

// addFile starts a file in the zip; done records its size and digest in
// man.
func addFile(zw *zip.Writer, name string, man *Manifest) (io.Writer, func(), error) {
	zf, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: man.Completed})
	if err != nil {
		return nil, nil, err
	}
	cw := &countingHash{h: sha256.New()}
	return io.MultiWriter(zf, cw), func() {
		man.Files = append(man.Files, File{Name: name, Size: cw.n, SHA256: hex.EncodeToString(cw.h.Sum(nil))})
	}, nil
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeManifest adds manifest.json and its signature.
func writeManifest(zw *zip.Writer, key ed25519.PrivateKey, man Manifest) error {
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestFile, b}, {SignatureFile, []byte(base64.StdEncoding.EncodeToString(Sign(key, b)) + "\n")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: man.Completed})
		if err != nil {
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			return err
		}
	}
	return nil
}
