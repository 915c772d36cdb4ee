package twophase

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/policy"
)

// ManifestName is the manifest's file name in a TBS directory.
const ManifestName = "manifest.json"

// ManifestVersion is the manifest format's version.
const ManifestVersion = 1

// TBSSuffix and SigSuffix name a skeleton's to-be-signed bytes and its signature: NAME.tbs
// and NAME.sig, NAME being the skeleton's path relative to the source it was reached from.
// A signature named NAME.tbs.p7s (what `sign-file -d` writes next to NAME.tbs) is taken too.
const (
	TBSSuffix = ".tbs"
	SigSuffix = ".sig"
	P7SSuffix = ".tbs.p7s"
)

// Manifest binds each .tbs file of a TBS directory to the skeleton it was made from.
type Manifest struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// Entry is one skeleton of a manifest.
type Entry struct {
	// Name is the skeleton's path relative to its source argument, with forward slashes;
	// the TBS file is Name+".tbs" in the TBS directory and its signature Name+".sig".
	Name string `json:"name"`
	// Source is the path the skeleton was read from.
	Source string `json:"source"`
	// TBS is the TBS file's path inside the TBS directory (Name+".tbs").
	TBS          string `json:"tbs"`
	SourceSHA256 string `json:"source_sha256"`
	TBSSHA256    string `json:"tbs_sha256"`
	TBSSize      int    `json:"tbs_size"`
	Scheme       string `json:"scheme"`
	Generation   string `json:"generation,omitempty"`
	// KeepHostOverrides records that the conversion kept the host-override blocks.
	KeepHostOverrides bool `json:"keep_host_overrides,omitempty"`
}

// Target returns the entry's scheme and generation.
func (e *Entry) Target() (bpfsig.Target, error) {
	return bpfsig.ParseTarget(e.Scheme, e.Generation)
}

// LoadManifest reads and checks a manifest: the version, and every name a clean relative
// path without "..", so that no entry can point outside the directory.
func LoadManifest(file string) (*Manifest, error) {
	b, err := fsio.ReadFile(file, 64<<20)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("%s: manifest version %d (want %d)", file, m.Version, ManifestVersion)
	}
	seen := map[string]bool{}
	for i, e := range m.Entries {
		if err := checkName(e.Name); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", file, i, err)
		}
		if e.TBS != e.Name+TBSSuffix {
			return nil, fmt.Errorf("%s: entry %d (%s): tbs %q is not %q", file, i, e.Name, e.TBS, e.Name+TBSSuffix)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("%s: entry %q appears twice", file, e.Name)
		}
		seen[e.Name] = true
		for _, h := range []string{e.SourceSHA256, e.TBSSHA256} {
			if d, err := hex.DecodeString(h); err != nil || len(d) != sha256.Size {
				return nil, fmt.Errorf("%s: entry %s: %q is not a SHA-256 in hex", file, e.Name, h)
			}
		}
		if _, err := e.Target(); err != nil {
			return nil, fmt.Errorf("%s: entry %s: %w", file, e.Name, err)
		}
	}
	return &m, nil
}

func checkName(n string) error {
	if n == "" || path.IsAbs(n) || strings.Contains(n, "\\") || path.Clean(n) != n || n == "." || n == ".." || strings.HasPrefix(n, "../") {
		return fmt.Errorf("name %q is not a clean relative path inside the directory", n)
	}
	return nil
}

// ErrOutputInSource is wrapped by WriteTree's and AttachTree's error for an output directory
// that is, or lies inside, a source directory.
var ErrOutputInSource = errors.New("output directory is, or is inside, a source directory")

// TreeOptions configure WriteTree and AttachTree.
type TreeOptions struct {
	// Target is the scheme asked for explicitly (zero: none); Policy chooses per program;
	// policy.Resolve combines them. AttachTree takes each skeleton's target from the manifest
	// and refuses one whose resolved target (when a target or policy is given) differs.
	Target            bpfsig.Target
	Policy            *policy.Policy
	KeepHostOverrides bool
	// Check, when set, is called with each skeleton before it is converted; an error refuses
	// the skeleton (migrate verifies the old signature here).
	Check func(*bpfsig.Skeleton) error
	// BackupSuffix names the backups directory walks leave out (default ".orig", migrate's).
	BackupSuffix string
}

// Outcome is what happened to one skeleton of a tree.
type Outcome string

const (
	Written Outcome = "written"
	Refused Outcome = "refused"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
)

// FileResult is the report on one skeleton of a tree.
type FileResult struct {
	Source string `json:"source"`
	Name   string `json:"name,omitempty"`
	// From and FromGeneration are the scheme and generation the source was in.
	From           string   `json:"from,omitempty"`
	FromGeneration string   `json:"from_generation,omitempty"`
	Output         string   `json:"output,omitempty"`
	Scheme         string   `json:"scheme,omitempty"`
	Generation     string   `json:"generation,omitempty"`
	Signer         string   `json:"signer,omitempty"`
	Outcome        Outcome  `json:"outcome"`
	Reason         string   `json:"reason,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// IsSkeleton reports whether a directory walk takes name: *.skel.h and *.lskel.h
// (bpfsig.IsSkeleton).
func IsSkeleton(name string) bool { return bpfsig.IsSkeleton(name) }

func walk(srcs []string, backup string, exclude ...string) (*fsio.WalkResult, error) {
	if backup == "" {
		backup = bpfsig.DefaultBackupSuffix
	}
	wo := fsio.WalkOptions{Match: IsSkeleton, BackupSuffix: backup}
	for _, x := range exclude {
		if x != "" {
			wo.Exclude = append(wo.Exclude, x)
		}
	}
	return fsio.Walk(srcs, wo)
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// PrepareFile opens the skeleton at file and converts it for the target policy.Resolve
// gives (Check first, when set).
func PrepareFile(file string, o TreeOptions) (*bpfsig.Skeleton, *bpfsig.Prepared, error) {
	sk, err := bpfsig.Open(file)
	if err != nil {
		return nil, nil, err
	}
	if o.Check != nil {
		if err := o.Check(sk); err != nil {
			return sk, nil, err
		}
	}
	t, err := policy.Resolve(o.Target, o.Policy, sk.Path(), sk.Name())
	if err != nil {
		return sk, nil, err
	}
	p, err := bpfsig.Prepare(sk, t, bpfsig.KeepHostOverrides(o.KeepHostOverrides))
	if err != nil {
		return sk, nil, err
	}
	return sk, p, nil
}

// refusal marks a Check failure, reported as Refused rather than Failed.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// Refuse wraps err so that a Check failure is reported as Refused. Refuse(nil) is nil (no
// failure to report).
func Refuse(err error) error {
	if err == nil {
		return nil
	}
	return &refusal{err}
}

func outcomeOf(err error) Outcome {
	var r *refusal
	if errors.As(err, &r) || errors.Is(err, ErrRejected) {
		return Refused
	}
	return Failed
}

// WriteTree writes, for each skeleton under srcs (files, or directories walked for *.skel.h
// and *.lskel.h as migrate walks them), its TBS bytes to dir/NAME.tbs, and then the manifest
// of those written to dir/manifest.json. A skeleton that cannot be converted is reported and
// left out of the manifest. dir must be given ("." for the working directory) and must not be,
// or lie inside, a source directory.
func WriteTree(srcs []string, dir string, o TreeOptions) (*Manifest, []*FileResult, error) {
	if dir == "" {
		return nil, nil, errors.New("to-be-signed tree: no output directory given (use \".\" for the working directory)")
	}
	if src, overlap, err := fsio.OutputOverlap(dir, srcs); err != nil {
		return nil, nil, err
	} else if overlap {
		return nil, nil, fmt.Errorf("%w: --out %s is, or is inside, the source directory %s", ErrOutputInSource, dir, src)
	}
	w, err := walk(srcs, o.BackupSuffix, dir)
	if err != nil {
		return nil, nil, err
	}
	dir = fsio.Physical(dir) // once: the outputs are joined to it lexically
	m := &Manifest{Version: ManifestVersion, Entries: []Entry{}}
	var res []*FileResult
	seen := map[string]string{}
	for _, f := range w.Files {
		name := filepath.ToSlash(f.Rel)
		r := &FileResult{Source: f.Path, Name: name}
		res = append(res, r)
		if prev, dup := seen[name]; dup {
			r.Outcome, r.Reason = Failed, fmt.Sprintf("%s and %s have the same name %s in the TBS directory", prev, f.Path, name)
			continue
		}
		seen[name] = f.Path
		sk, p, err := PrepareFile(f.Path, o)
		if err != nil {
			r.Outcome, r.Reason = outcomeOf(err), err.Error()
			continue
		}
		t := p.Target()
		tbs := p.Content()
		r.From, r.FromGeneration = string(sk.Scheme()), sk.Generation().String()
		out := filepath.Join(dir, filepath.FromSlash(name)+TBSSuffix)
		if err := atomicfile.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			r.Outcome, r.Reason = Failed, err.Error()
			continue
		}
		if err := atomicfile.WriteFile(out, tbs, 0o644); err != nil {
			r.Outcome, r.Reason = Failed, err.Error()
			continue
		}
		r.Output, r.Outcome, r.Scheme, r.Generation = out, Written, string(t.Scheme), t.Generation.String()
		m.Entries = append(m.Entries, Entry{
			Name: name, Source: f.Path, TBS: name + TBSSuffix,
			SourceSHA256: hexSum(sk.Bytes()), TBSSHA256: hexSum(tbs), TBSSize: len(tbs),
			Scheme: string(t.Scheme), Generation: t.Generation.String(), KeepHostOverrides: o.KeepHostOverrides,
		})
	}
	for _, s := range w.Skipped {
		res = append(res, &FileResult{Source: s.Path, Outcome: Skipped, Reason: s.Reason})
	}
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Name < m.Entries[j].Name })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if err := atomicfile.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestName), append(b, '\n'), 0o644); err != nil {
		return nil, nil, err
	}
	return m, res, nil
}

// AttachTreeOptions configure AttachTree.
type AttachTreeOptions struct {
	TreeOptions
	Options
	// Sigs is the directory holding NAME.sig (or NAME.tbs.p7s) files laid out as WriteTree
	// laid out the .tbs files; Manifest is the manifest (default Sigs/manifest.json).
	Sigs, Manifest string
	// Cert is the signer's certificate; Format the signatures' format.
	Cert   *x509.Certificate
	Format Format
	// Out mirrors the skeletons into a directory; Write, when set, writes instead (one of
	// them is required). Write is given the skeleton's NAME, its source and the attached
	// skeleton, and returns the path written.
	Out   string
	Write func(name, source string, sk *bpfsig.Skeleton) (string, error)
}

// AttachTree attaches the signatures in o.Sigs to the skeletons under srcs and writes them.
// For each skeleton: its manifest entry (by NAME) must exist; its source bytes must have the
// SHA-256 recorded (else it changed since the TBS was written: refused); converted for the
// entry's target, its TBS bytes must have the recorded SHA-256 (else bpfsig converts it
// differently now: refused); a signature file must be there; and AttachVerified must accept
// the signature. A refused skeleton is not written; the others are.
func AttachTree(srcs []string, o AttachTreeOptions) ([]*FileResult, error) {
	if o.Cert == nil {
		return nil, errors.New("attach needs the signer's certificate")
	}
	if (o.Out == "") == (o.Write == nil) {
		return nil, errors.New("attach needs exactly one of an output directory and a writer")
	}
	mf := o.Manifest
	if mf == "" {
		mf = fsio.Join(o.Sigs, ManifestName)
	}
	m, err := LoadManifest(mf)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Entry{}
	for i := range m.Entries {
		byName[m.Entries[i].Name] = &m.Entries[i]
	}
	if o.Out != "" {
		if src, overlap, err := fsio.OutputOverlap(o.Out, srcs); err != nil {
			return nil, err
		} else if overlap {
			return nil, fmt.Errorf("%w: --out %s is, or is inside, the source directory %s", ErrOutputInSource, o.Out, src)
		}
	}
	w, err := walk(srcs, o.BackupSuffix, o.Out, o.Sigs)
	if err != nil {
		return nil, err
	}
	// Once: the outputs and signatures are joined to them lexically.
	o.Out, o.Sigs = fsio.Physical(o.Out), fsio.Physical(o.Sigs)
	var res []*FileResult
	for _, f := range w.Files {
		name := filepath.ToSlash(f.Rel)
		r := &FileResult{Source: f.Path, Name: name}
		res = append(res, r)
		if err := attachOne(f.Path, byName[name], mf, &o, r); err != nil {
			r.Outcome, r.Reason = outcomeOf(err), err.Error()
			r.Output, r.Signer, r.Notes = "", "", nil
		}
	}
	for _, s := range w.Skipped {
		res = append(res, &FileResult{Source: s.Path, Outcome: Skipped, Reason: s.Reason})
	}
	return res, nil
}

func attachOne(src string, e *Entry, mf string, o *AttachTreeOptions, r *FileResult) error {
	if e == nil {
		return Refuse(fmt.Errorf("%s: no entry %q in %s (run tbs on it first)", src, r.Name, mf))
	}
	raw, err := fsio.ReadFile(src, fsio.SkeletonLimit)
	if err != nil {
		return err
	}
	// The binding to phase one comes first: a changed source is refused as such, whatever
	// it has become.
	if got := hexSum(raw); got != e.SourceSHA256 {
		return Refuse(fmt.Errorf("%s: changed since its TBS was written (SHA-256 %s, the manifest has %s): run tbs again", src, got, e.SourceSHA256))
	}
	sk, err := bpfsig.Parse(src, raw)
	if err != nil {
		return err
	}
	if o.Check != nil {
		if err := o.Check(sk); err != nil {
			return err
		}
	}
	t, _ := e.Target() // checked by LoadManifest
	if o.TreeOptions.Target.Scheme != "" || o.Policy != nil {
		want, err := policy.Resolve(o.TreeOptions.Target, o.Policy, sk.Path(), sk.Name())
		if err != nil {
			return err
		}
		if tt, err := t.Validate(); err == nil && (want.Scheme != tt.Scheme || want.Generation != tt.Generation) {
			return Refuse(fmt.Errorf("%s: the TBS was made for %s %s, the target asked for now is %s %s", src, tt.Scheme, tt.Generation, want.Scheme, want.Generation))
		}
	}
	p, err := bpfsig.Prepare(sk, t, bpfsig.KeepHostOverrides(e.KeepHostOverrides))
	if err != nil {
		return err
	}
	if got := hexSum(p.Content()); got != e.TBSSHA256 {
		return Refuse(fmt.Errorf("%s: its conversion for %s now gives other TBS bytes (SHA-256 %s, the manifest has %s): run tbs again", src, t.Scheme, got, e.TBSSHA256))
	}
	sigFile, err := findSig(o.Sigs, e.Name)
	if err != nil {
		return Refuse(err)
	}
	b, err := fsio.ReadFile(sigFile, MaxSignatureFile)
	if err != nil {
		return err
	}
	sig, err := ParseSignature(b, o.Format)
	if err != nil {
		return fmt.Errorf("%s: %w", sigFile, err)
	}
	a, err := AttachVerified(p, sig, o.Cert, o.Options)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", src, sigFile, err)
	}
	var out string
	if o.Write != nil {
		if out, err = o.Write(e.Name, src, a.Skeleton); err != nil {
			return err
		}
	} else {
		out = filepath.Join(o.Out, filepath.FromSlash(e.Name))
		if err := atomicfile.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := a.Skeleton.WriteFile(out); err != nil {
			return err
		}
	}
	pt := p.Target()
	r.From, r.FromGeneration = string(sk.Scheme()), sk.Generation().String()
	r.Output, r.Outcome, r.Signer, r.Notes = out, Written, a.Signer, a.Notes
	r.Scheme, r.Generation = string(pt.Scheme), pt.Generation.String()
	return nil
}

// findSig returns dir/NAME.sig, or dir/NAME.tbs.p7s; both present is an error.
func findSig(dir, name string) (string, error) {
	var found []string
	for _, suf := range []string{SigSuffix, P7SSuffix} {
		p := filepath.Join(dir, filepath.FromSlash(name)+suf)
		if _, err := os.Lstat(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no signature for %s in %s (want %s%s)", name, dir, name, SigSuffix)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("both %s and %s exist: remove one", found[0], found[1])
}
