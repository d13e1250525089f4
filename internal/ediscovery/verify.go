package ediscovery

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Kinds of Problem.
const (
	ProblemSignature = "signature" // the manifest's signature does not verify, or is missing
	ProblemEdited    = "edited"    // a file's size or digest is not the manifest's
	ProblemAdded     = "added"     // a file the manifest does not list
	ProblemRemoved   = "removed"   // a file the manifest lists is missing
)

// Problem is one way an export differs from what was signed.
type Problem struct {
	Kind string `json:"kind"`
	File string `json:"file"`
	Why  string `json:"why,omitempty"`
}

func (p Problem) String() string {
	s := p.Kind + ": " + p.File
	if p.Why != "" {
		s += " (" + p.Why + ")"
	}
	return s
}

// Report is what Verify found.
type Report struct {
	Manifest Manifest  `json:"manifest"`
	Files    int       `json:"files"` // files checked against the manifest
	Problems []Problem `json:"problems,omitempty"`
}

// OK reports whether the export is exactly what was signed.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// maxManifest bounds the manifest read into memory.
const maxManifest = 64 << 20

// VerifyFile is Verify of the export zip at path.
func VerifyFile(path string, pub ed25519.PublicKey) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Report{}, err
	}
	return Verify(f, st.Size(), pub)
}

// Verify checks an export zip against its manifest and the manifest's
// signature by pub (the audit key's public half): every file listed is
// there with its size and SHA-256, no other file is, and the manifest
// is the one that was signed. An error means the file is not an export
// at all (not a zip, no manifest).
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey) (Report, error) {
	var rep Report
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return rep, fmt.Errorf("ediscovery: verify: %w", err)
	}
	files := map[string][]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = append(files[f.Name], f)
	}
	manifest, err := readEntry(files, ManifestFile, maxManifest)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(manifest, &rep.Manifest); err != nil {
		return rep, fmt.Errorf("ediscovery: verify: %s: %w", ManifestFile, err)
	}
	if rep.Manifest.Format != FormatVersion {
		return rep, fmt.Errorf("ediscovery: verify: format %q, want %q", rep.Manifest.Format, FormatVersion)
	}
	sigText, err := readEntry(files, SignatureFile, 1024)
	sig, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	switch {
	case err != nil:
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemSignature, File: SignatureFile, Why: "missing"})
	case derr != nil || !ed25519.Verify(pub, append([]byte(signContext), manifest...), sig):
		why := "does not verify with the given public key"
		if rep.Manifest.PublicKey != base64.StdEncoding.EncodeToString(pub) {
			why += " (the manifest names another key)"
		}
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemSignature, File: ManifestFile, Why: why})
	}
	listed := map[string]bool{ManifestFile: true, SignatureFile: true}
	for _, want := range rep.Manifest.Files {
		listed[want.Name] = true
		fs := files[want.Name]
		if len(fs) == 0 {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemRemoved, File: want.Name})
			continue
		}
		rep.Files++
		n, sum, err := digest(fs[0])
		switch {
		case err != nil:
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemEdited, File: want.Name, Why: err.Error()})
		case n != want.Size || sum != want.SHA256:
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemEdited, File: want.Name,
				Why: fmt.Sprintf("%d bytes, SHA-256 %s; the manifest says %d bytes, %s", n, sum, want.Size, want.SHA256)})
		}
	}
	for _, f := range zr.File {
		switch {
		case !listed[f.Name]:
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemAdded, File: f.Name})
		case len(files[f.Name]) > 1:
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemAdded, File: f.Name, Why: "a second file of that name"})
			files[f.Name] = files[f.Name][:1] // reported once
		}
	}
	return rep, nil
}

func readEntry(files map[string][]*zip.File, name string, limit int64) ([]byte, error) {
	fs := files[name]
	if len(fs) == 0 {
		return nil, fmt.Errorf("ediscovery: verify: no %s: not an export", name)
	}
	rc, err := fs[0].Open()
	if err != nil {
		return nil, fmt.Errorf("ediscovery: verify: %s: %w", name, err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(rc, limit+1)); err != nil {
		return nil, fmt.Errorf("ediscovery: verify: %s: %w", name, err)
	}
	if int64(b.Len()) > limit {
		return nil, fmt.Errorf("ediscovery: verify: %s is larger than %d bytes", name, limit)
	}
	return b.Bytes(), nil
}

// digest reads a file of the zip to its end (archive/zip checks its
// CRC-32 there) and returns its size and SHA-256.
func digest(f *zip.File) (int64, string, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	return n, hex.EncodeToString(h.Sum(nil)), err
}
