// Package durable writes files so that a crash, of the process or of the
// machine, leaves each one as it was or whole as written, never torn: the
// new content goes to a temporary file beside it, which is synced and
// renamed (or, for a file made once, linked) into place, and then the
// directory is synced so that the new name itself survives.
package durable

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path (or creates it, with perm) with
// what write writes. The temporary file is path+".tmp"; when writing it
// fails it is removed, and path is left as it was.
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	err = write(f)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir makes the entries of dir durable: a file created in it or
// renamed into it is still there after a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CreateOnce makes a file at path holding data, unless one is there
// already: then it reports created false and leaves that file as it is.
// Two processes starting on one data directory may both try; one wins and
// the other reads a whole file, never a half-written one, because data is
// written and synced under a temporary name and then linked into place,
// which fails where path exists (O_EXCL alone would let the loser read the
// winner's file before its bytes are in).
func CreateOnce(path string, perm os.FileMode, data []byte) (created bool, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err = errors.Join(err, f.Chmod(perm), f.Sync(), f.Close()); err != nil {
		return false, err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, SyncDir(dir)
}
