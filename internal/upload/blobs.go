package upload

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"parley/internal/durable"
)

// Blobs keeps the bytes of uploads by slot ID.
type Blobs interface {
	// Put stores exactly size bytes read from r under id, durably, or
	// nothing: a short or longer body is an error and leaves no file.
	Put(id string, r io.Reader, size int64) error
	// Open returns the stored bytes; fs.ErrNotExist if there are none.
	Open(id string) (io.ReadSeekCloser, error)
	// Delete removes them; a missing file is not an error.
	Delete(id string) error
}

// ErrBody is Put's error for a body that is not of the declared length or
// could not be read to its end (the client's fault, not the store's).
var ErrBody = errors.New("upload: the body is not the slot's size")

// bodyReader tells read errors (the client's) from write errors (ours).
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// Dir is Blobs as files in a directory (<data>/uploads), one per upload,
// under a subdirectory named by the ID's first two characters so that no
// directory grows huge.
type Dir string

var _ Blobs = Dir("")

func (d Dir) path(id string) (string, error) {
	// IDs are the service's own base64url strings; anything else must
	// not reach the file system.
	if len(id) < 3 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "", fmt.Errorf("upload: bad blob id %q", id)
	}
	return filepath.Join(string(d), id[:2], id), nil
}

// Put writes to a temporary file in the target directory, syncs it and
// renames it into place, then syncs the directory, so that a crash leaves
// either the whole file or none (a stray temporary file at worst).
func (d Dir) Put(id string, r io.Reader, size int64) (err error) {
	p, err := d.path(id)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	body := &bodyReader{r: r}
	n, err := io.Copy(f, io.LimitReader(body, size))
	if body.err != nil {
		return fmt.Errorf("%w: %v", ErrBody, body.err)
	}
	if err != nil {
		return fmt.Errorf("upload: write %s: %w", id, err)
	}
	if n != size {
		return ErrBody
	}
	// One byte more than declared is a longer body.
	if k, _ := r.Read(make([]byte, 1)); k > 0 {
		return ErrBody
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("upload: sync %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("upload: close %s: %w", id, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}

// tempPrefix starts the names of files being written.
const tempPrefix = ".put-"

// RemoveTemp removes files that a crash left half-written (temporary
// files last changed before before) and reports how many it removed.
func (d Dir) RemoveTemp(before time.Time) (int, error) {
	shards, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	n := 0
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		dir := filepath.Join(string(d), sh.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return n, fmt.Errorf("upload: %w", err)
		}
		for _, f := range files {
			if !strings.HasPrefix(f.Name(), tempPrefix) {
				continue
			}
			if fi, err := f.Info(); err == nil && fi.ModTime().Before(before) {
				if err := os.Remove(filepath.Join(dir, f.Name())); err == nil {
					n++
				}
			}
		}
	}
	return n, nil
}

// Open opens the stored file.
func (d Dir) Open(id string) (io.ReadSeekCloser, error) {
	p, err := d.path(id)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	return os.Open(p)
}

// Delete removes the stored file.
func (d Dir) Delete(id string) error {
	p, err := d.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}
