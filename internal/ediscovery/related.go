package ediscovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"parley/internal/store"
)

// relatedWindow is how many later messages of a conversation, after the
// last message found in it, are read for corrections and retractions
// (mam looks for the message a retraction names among the newest 500).
const relatedWindow = 100

// relatedPage is how many messages one read of a conversation takes.
const relatedPage = 500

// related returns the corrections (XEP-0308) and retractions (XEP-0424,
// XEP-0425 by the room) of msgs that are not among seen, from the same
// archive's conversation, and adds them to seen: a search for words finds
// the original but not the correction that changed them. Each
// conversation of the page is read once, from its first message found
// to relatedWindow messages after its last.
//
// A related message the search finds itself (in scope, with the words)
// is left to the search, so that it is reported as found, once.
func (s *Service) related(ctx context.Context, sc scope, msgs []Message, seen map[string]bool) ([]Message, error) {
	type conv struct{ owner, with string }
	var order []conv
	byConv := map[conv][]Message{}
	for _, m := range msgs {
		if m.MessageID == "" || m.Replaces != "" || m.Retracts != "" || m.owner == "" {
			continue
		}
		c := conv{m.owner, m.with}
		if byConv[c] == nil {
			order = append(order, c)
		}
		byConv[c] = append(byConv[c], m)
	}
	var out []Message
	for _, c := range order {
		found, err := s.relatedIn(ctx, sc, c.owner, c.with, byConv[c], seen)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// relatedIn reads one conversation for the corrections and retractions
// of ms (in archive order).
func (s *Service) relatedIn(ctx context.Context, sc scope, owner, with string, ms []Message, seen map[string]bool) ([]Message, error) {
	byID := map[string]Message{}
	first := ms[0].Stamp
	for _, m := range ms {
		byID[m.MessageID] = m
		if m.Stamp.Before(first) {
			first = m.Stamp
		}
	}
	last := ms[len(ms)-1]
	var out []Message
	q := store.ArchiveQuery{With: with, Start: first, Limit: relatedPage}
	beyond := -1 // messages read after the last found; -1 until it is passed
	for {
		p, err := s.o.Store.QueryArchive(ctx, owner, q)
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ediscovery: %w", err)
		}
		for _, a := range p.Messages {
			if beyond >= 0 {
				if beyond++; beyond > relatedWindow {
					return out, nil
				}
			}
			if a.ID == last.ID {
				beyond = 0
			}
			// Parse only what can be a correction or a retraction.
			if !bytes.Contains(a.Stanza, []byte(nsCorrect)) && !bytes.Contains(a.Stanza, []byte("urn:xmpp:message-retract:")) {
				continue
			}
			r := fromArchive(store.FoundMessage{ArchivedMessage: a}, s.o.Domain)
			k := r.Archive + "/" + r.ID
			target := r.Replaces
			r.Related = "correction"
			if target == "" {
				target, r.Related = r.Retracts, "retraction"
			}
			m, ok := byID[target]
			if !ok || target == "" || seen[k] || bareOf(r.From) != bareOf(m.From) || sc.finds(a) {
				continue
			}
			r.RelatedTo = m.Archive + "/" + m.ID
			seen[k] = true
			out = append(out, r)
		}
		if p.Complete || len(p.Messages) == 0 {
			return out, nil
		}
		q.After = p.Messages[len(p.Messages)-1].ID
	}
}

// uploadRef returns the upload a URL names (the upload service's
// /upload/ID/NAME), or false.
func uploadRef(raw string) (id string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), "/upload/")
	if !ok {
		return "", false
	}
	id, _, ok = strings.Cut(rest, "/")
	return id, ok && id != ""
}

// attachmentName is the file an upload is exported as: attachments/ID/
// and its name reduced to one safe path element.
func attachmentName(id, name string) string {
	name = strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, path.Base(name))
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return path.Join("attachments", id, name)
}

// attach copies the still-stored uploads that lines share into the job's
// attachments (once each) and names them in the lines; it returns how
// many files it copied and how many references name an upload that is
// gone.
func (s *Service) attach(ctx context.Context, j *Job, lines []Message) (found, missing int, err error) {
	for i := range lines {
		m := &lines[i]
		for _, u := range m.Attachments {
			id, ok := uploadRef(u)
			if !ok {
				continue
			}
			name, copied, err := s.copyUpload(ctx, j, id)
			if err != nil {
				return found, missing, err
			}
			if name == "" {
				missing++
				continue
			}
			if copied {
				found++
			}
			m.AttachmentFiles = append(m.AttachmentFiles, name)
		}
	}
	return found, missing, nil
}

// copyUpload copies upload id into the job's directory unless it is
// there (copied says it was not), and returns its name in the export;
// "" when it is not stored.
func (s *Service) copyUpload(ctx context.Context, j *Job, id string) (name string, copied bool, err error) {
	if s.o.Blobs == nil || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "", false, nil
	}
	up, err := s.o.Store.Upload(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && up.State != store.UploadStored {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("ediscovery: upload %s: %w", id, err)
	}
	name = attachmentName(id, up.Name)
	dst := filepath.Join(s.jobDir(j.ID), filepath.FromSlash(name))
	if fileExists(dst) {
		return name, false, nil
	}
	r, err := s.o.Blobs.Open(id)
	if err != nil {
		return "", false, nil // gone since (expired, cleaned up)
	}
	defer r.Close()
	if err := copyTo(dst, r); err != nil {
		return "", false, fmt.Errorf("ediscovery: attachment %s: %w", id, err)
	}
	return name, true, nil
}
