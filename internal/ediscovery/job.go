package ediscovery

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"parley/internal/durable"
)

// Job states.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Job is an export and its progress, kept in <Dir>/<ID>/job.json: what a
// restart needs to go on where it stopped.
type Job struct {
	ID       string    `json:"id"`
	Query    Query     `json:"query"`
	Actor    string    `json:"actor"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
	Status   string    `json:"status"`
	Error    string    `json:"error,omitempty"`
	Progress Progress  `json:"progress"`
	// File is the export's zip once done, and SHA256 its digest.
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Cursor is the search's position after the last part written;
	// Parts how many are written (parts/NNNNNN.jsonl).
	Cursor string `json:"cursor,omitempty"`
	Parts  int    `json:"parts"`
}

// Progress counts what an export has done so far.
type Progress struct {
	Phase              string `json:"phase"` // searching, packing, done
	Messages           int    `json:"messages"`
	Related            int    `json:"related"`
	Attachments        int    `json:"attachments"`
	AttachmentsMissing int    `json:"attachments_missing"`
	Resumed            int    `json:"resumed"` // times a restart took the job up again
}

// ErrNoJob is an unknown job ID.
var ErrNoJob = errors.New("ediscovery: no such export job")

func (s *Service) jobDir(id string) string { return filepath.Join(s.o.Dir, id) }

// validID accepts only the IDs this package makes (hex), so that an ID
// from a request never reaches the file system as a path.
func validID(id string) bool {
	_, err := hex.DecodeString(id)
	return err == nil && len(id) == 32
}

// Export starts exporting q as actor and returns the job; its progress
// is read with Job. The start is recorded in the audit log first.
func (s *Service) Export(ctx context.Context, q Query, actor string) (Job, error) {
	if s.o.Dir == "" || s.o.Key == nil {
		return Job{}, errors.New("ediscovery: exports need a directory and the audit key")
	}
	q, _, err := q.normalize(s.o.Domain)
	if err != nil {
		return Job{}, err
	}
	var b [16]byte
	rand.Read(b[:])
	j := Job{ID: hex.EncodeToString(b[:]), Query: q, Actor: actor, Created: s.o.Now().UTC(), Status: StatusRunning,
		Progress: Progress{Phase: "searching"}}
	if err := os.MkdirAll(filepath.Join(s.jobDir(j.ID), "parts"), 0o700); err != nil {
		return Job{}, fmt.Errorf("ediscovery: %w", err)
	}
	if err := s.record(ctx, actor, "export-started", j.ID, q, nil); err != nil {
		os.RemoveAll(s.jobDir(j.ID))
		return Job{}, err
	}
	if err := s.save(j); err != nil {
		return Job{}, err
	}
	s.start(j)
	return j, nil
}

// Job returns an export job's state.
func (s *Service) Job(id string) (Job, error) {
	if !validID(id) {
		return Job{}, ErrNoJob
	}
	b, err := os.ReadFile(filepath.Join(s.jobDir(id), "job.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, fmt.Errorf("ediscovery: %w", err)
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return Job{}, fmt.Errorf("ediscovery: job %s: %w", id, err)
	}
	return j, nil
}

// Jobs returns every export job, newest first.
func (s *Service) Jobs() ([]Job, error) {
	ents, err := os.ReadDir(s.o.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ediscovery: %w", err)
	}
	var out []Job
	for _, e := range ents {
		if !e.IsDir() || !validID(e.Name()) {
			continue
		}
		j, err := s.Job(e.Name())
		if errors.Is(err, ErrNoJob) {
			continue // being created
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b Job) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// ErrJobRunning is a job that cannot be deleted while it runs.
var ErrJobRunning = errors.New("ediscovery: the export is running")

// Delete removes an export that is not running (done or failed): its
// zip, parts and copied attachments. The deletion is recorded in the
// audit log first, as done by actor.
func (s *Service) Delete(ctx context.Context, id, actor string) error {
	j, err := s.Job(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[id] || j.Status == StatusRunning {
		return ErrJobRunning
	}
	if err := s.record(ctx, actor, "export-deleted", id, j.Query, map[string]string{"zip_sha256": j.SHA256}); err != nil {
		return err
	}
	if err := os.RemoveAll(s.jobDir(id)); err != nil {
		return fmt.Errorf("ediscovery: %w", err)
	}
	return nil
}

// Resume starts the jobs that were running when the server stopped;
// each goes on after its last durable part.
func (s *Service) Resume() error {
	jobs, err := s.Jobs()
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Status == StatusRunning {
			j.Progress.Resumed++
			if err := s.save(j); err != nil {
				return err
			}
			s.start(j)
		}
	}
	return nil
}

// save writes the job's state durably (temporary file, fsync, rename).
func (s *Service) save(j Job) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(s.jobDir(j.ID), "job.json"), b)
}

// writeFileSync replaces path with b, so that a crash leaves the old or
// the new file, whole.
func writeFileSync(path string, b []byte) error {
	err := durable.WriteFile(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("ediscovery: %w", err)
	}
	return nil
}

// start runs j in the background unless it runs already.
func (s *Service) start(j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[j.ID] || s.ctx.Err() != nil {
		return
	}
	s.running[j.ID] = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, j.ID)
			s.mu.Unlock()
		}()
		s.run(s.ctx, j)
	}()
}

// run does the job from where it is; a job stopped by Close stays
// running on disk, to be resumed.
func (s *Service) run(ctx context.Context, j Job) {
	err := s.export(ctx, &j)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		s.o.Log.Error("ediscovery: export failed", "job", j.ID, "err", err)
		j.Status, j.Error, j.Finished = StatusFailed, err.Error(), s.o.Now().UTC()
		err = errors.Join(s.save(j), s.record(ctx, j.Actor, "export-failed", j.ID, j.Query, map[string]string{"error": err.Error()}))
		if err != nil {
			s.o.Log.Error("ediscovery: recording a failed export", "job", j.ID, "err", err)
		}
	}
}

// export writes the remaining parts, then packs the zip.
func (s *Service) export(ctx context.Context, j *Job) error {
	_, sc, err := j.Query.normalize(s.o.Domain)
	if err != nil {
		return err
	}
	seen, err := s.partKeys(j)
	if err != nil {
		return err
	}
	if err := s.o.Store.SyncArchive(ctx); err != nil { // what was delivered before
		return fmt.Errorf("ediscovery: %w", err)
	}
	for j.Progress.Phase == "searching" {
		pos, err := decodeCursor(j.Cursor)
		if err != nil {
			return err
		}
		msgs, next, more, err := s.scan(ctx, sc, pos, s.o.PageSize)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			seen[m.Archive+"/"+m.ID] = true
		}
		related, err := s.related(ctx, sc, msgs, seen)
		if err != nil {
			return err
		}
		lines := slices.Concat(msgs, related)
		attached, missing, err := s.attach(ctx, j, lines)
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			if err := s.writePart(j, j.Parts+1, lines); err != nil {
				return err
			}
			j.Parts++
		}
		j.Progress.Messages += len(msgs)
		j.Progress.Related += len(related)
		j.Progress.Attachments += attached
		j.Progress.AttachmentsMissing += missing
		if more {
			j.Cursor = next.String()
		} else {
			j.Progress.Phase = "packing"
		}
		if err := s.save(*j); err != nil {
			return err
		}
		if s.o.AfterPart != nil {
			s.o.AfterPart(*j)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return s.pack(ctx, j)
}

func partName(n int) string { return fmt.Sprintf("%06d.jsonl", n) }

// writePart writes one part of the export's messages durably.
func (s *Service) writePart(j *Job, n int, lines []Message) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, m := range lines {
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	return writeFileSync(filepath.Join(s.jobDir(j.ID), "parts", partName(n)), []byte(b.String()))
}

// readParts calls f with every message of j's written parts, in order.
func (s *Service) readParts(j *Job, f func(m Message) error) error {
	for n := 1; n <= j.Parts; n++ {
		file, err := os.Open(filepath.Join(s.jobDir(j.ID), "parts", partName(n)))
		if err != nil {
			return fmt.Errorf("ediscovery: %w", err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var m Message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				file.Close()
				return fmt.Errorf("ediscovery: part %d: %w", n, err)
			}
			if err := f(m); err != nil {
				file.Close()
				return err
			}
		}
		err = sc.Err()
		file.Close()
		if err != nil {
			return fmt.Errorf("ediscovery: part %d: %w", n, err)
		}
	}
	return nil
}

// partKeys returns archive/id of every message the written parts hold,
// so that a resumed job does not write a related message twice.
func (s *Service) partKeys(j *Job) (map[string]bool, error) {
	seen := map[string]bool{}
	err := s.readParts(j, func(m Message) error {
		seen[m.Archive+"/"+m.ID] = true
		return nil
	})
	return seen, err
}

// copyTo copies r to a new file at path, synced.
func copyTo(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return durable.WriteFile(path, 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}
