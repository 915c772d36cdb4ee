package bpfsig

import (
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/kerrno"
)

// WriteFileAtomic writes data to path atomically (a reader, or a crash, sees the old file or
// the whole new one) with permissions perm, as bpfsig writes every file it makes: a
// to-be-signed blob, a detached signature, a signed map value.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	return atomicfile.WriteFile(path, data, perm)
}

// ErrnoOf returns the Linux errno an error of bpfsig carries (the kernel's answer it models,
// such as EKEYREJECTED for a signature that does not verify), false for none.
func ErrnoOf(err error) (Errno, bool) { return kerrno.Of(err) }

// Disasm writes the loader's disassembly (opts_insn), its blocks labelled, as `bpfsig inspect
// --disasm` prints it. A loader of unknown shape is an error (LoaderError).
func (s *Skeleton) Disasm(w io.Writer) error {
	if err := s.LoaderError(); err != nil {
		return err
	}
	l := s.doc.Loader()
	if l == nil {
		return fmt.Errorf("%s: no loader to disassemble", s.Path())
	}
	return l.Disasm(w)
}

// SignatureInfo describes a DER PKCS#7 signature as the kernel's parser reads it, without
// judging it against a trust set.
type SignatureInfo struct {
	// IDForm is how the signer is named (SubjectKeyID or IssuerSerial); Signer is its
	// identifier ("skid:HEX" or "issuer:…,serial:HEX").
	IDForm SignerIDForm
	Signer string
	// Algorithm and Digest name the signature and digest algorithms ("rsa", "sha256").
	Algorithm, Digest string
}

// ParseSignature reads a detached DER PKCS#7 signature (a skeleton's opts_sig, a signed map
// value's signature part). A signature the kernel's parser refuses is an error carrying its
// errno (see ErrnoOf).
func ParseSignature(der []byte) (*SignatureInfo, error) {
	s, err := cms.Parse(der)
	if err != nil {
		return nil, err
	}
	return &SignatureInfo{IDForm: s.SignerID, Signer: s.SignerString(), Algorithm: s.AlgorithmName(), Digest: s.DigestName()}, nil
}

// DefaultBackupSuffix is appended to a file's name for the backup an in-place rewrite keeps;
// directory walks leave such files out.
const DefaultBackupSuffix = ".orig"

// IsSkeleton reports whether a file name is a light skeleton header's (*.skel.h, *.lskel.h),
// the names directory walks select.
func IsSkeleton(name string) bool {
	return strings.HasSuffix(name, ".skel.h") || strings.HasSuffix(name, ".lskel.h")
}

// Walked is what WalkSkeletons found.
type Walked struct {
	// Files are the headers, in argument order, each directory in name order.
	Files []string
	// Skipped are what the walks left out, with why: links that leave the tree, dangle or
	// loop; FIFOs, sockets and devices with a header's name (never opened); a file reached a
	// second time (SameAs set: nothing is missing, it was only not taken twice).
	Skipped []Skipped
	// Empty are the directories in which nothing was found. A caller asked to process a tree
	// reports these rather than succeed on nothing, as `bpfsig verify DIR` does.
	Empty []string
}

// Skipped is one entry a walk left out.
type Skipped struct {
	Path, Reason string
	SameAs       string
}

// WalkSkeletons expands paths as bpfsig's commands expand their arguments: a file (or a link
// to one) is taken whatever its name and must be a regular file; a directory is walked
// recursively for light skeleton headers, leaving out migrate's backups (*.orig). The same
// file reached twice is taken once. An unreadable directory or a missing path is an error
// naming it.
func WalkSkeletons(paths ...string) (*Walked, error) {
	w, err := fsio.Walk(paths, fsio.WalkOptions{Match: IsSkeleton, BackupSuffix: DefaultBackupSuffix})
	if err != nil {
		return nil, err
	}
	out := &Walked{Empty: w.Empty}
	for _, f := range w.Files {
		out.Files = append(out.Files, f.Path)
	}
	for _, s := range w.Skipped {
		out.Skipped = append(out.Skipped, Skipped{Path: s.Path, Reason: s.Reason, SameAs: s.SameAs})
	}
	return out, nil
}
