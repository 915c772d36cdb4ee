package migrate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/twophase"
)

// A two-phase migration signs with a key bpfsig never holds. Phase one (RunTBS) checks each
// skeleton's old signature as Run does and, instead of signing, writes the bytes the target
// scheme's signature will cover into a TBS directory with a manifest (package twophase).
// Phase two (RunAttach) takes the signatures made over them elsewhere, refuses a skeleton that
// changed since phase one, verifies each signature against the new signer's certificate with
// the kernel's rules and writes the migrated skeletons as Run would (--out mirrored, or in
// place with a backup).

// SignatureOptions configure phase two.
type SignatureOptions struct {
	// Sigs is the directory of NAME.sig files laid out as phase one laid out NAME.tbs;
	// Manifest the manifest (default Sigs/manifest.json).
	Sigs, Manifest string
	// Cert is the new signer's certificate.
	Cert *x509.Certificate
	// Format is the signatures' format; Normalize re-encodes a CMS to the kernel-profile form
	// (see twophase.Options). The signer id form asked for is Options.Signer's, else SKID.
	Format    twophase.Format
	Normalize bool
	SignerID  bpfsig.SignerIDForm
}

// RunTBS is phase one: for each skeleton under srcs, the old signature is verified against
// opts.Trust (required: there is no signing certificate to default to; refused unless Force,
// as Run), and the to-be-signed bytes of its conversion (opts.Target, opts.Policy) are
// written to dir/NAME.tbs, with dir/manifest.json. Out, InPlace, Signer, DryRun, Jobs and
// Overwrite do not apply.
func RunTBS(srcs []string, dir string, opts Options) (*Summary, error) {
	if opts.Trust == nil {
		return nil, usageErr("phase one needs the old signers' certificates (--trust): there is no signing certificate to check the old signatures against")
	}
	if dir == "" {
		return nil, usageErr("phase one needs a TBS directory")
	}
	forced := map[string][]string{}
	to := twophase.TreeOptions{Target: opts.Target, Policy: opts.Policy, KeepHostOverrides: opts.KeepHostOverrides,
		BackupSuffix: opts.BackupSuffix, Check: checkOld(&opts, forced)}
	_, res, err := twophase.WriteTree(srcs, dir, to)
	if err != nil {
		if errors.Is(err, twophase.ErrOutputInSource) {
			return nil, usageErr("%v", err)
		}
		return nil, err
	}
	return summarize(res, forced, func(r *twophase.FileResult) string { return "to be signed: " + r.Output }), nil
}

// RunAttach is phase two: the skeletons under srcs (the same arguments as phase one) get the
// signatures in so.Sigs and are written to opts.Out, mirrored, or in place with a backup
// (opts.BackupSuffix, unless NoBackup). A skeleton whose source or conversion changed since
// phase one, whose signature is missing, or whose signature does not verify against so.Cert
// is refused and not written. An existing target under Out that is not a skeleton of the same
// program is refused unless Overwrite. Signer, Trust, DryRun, Force and Jobs do not apply.
func RunAttach(srcs []string, so SignatureOptions, opts Options) (*Summary, error) {
	if (opts.Out == "") == !opts.InPlace {
		return nil, usageErr("give exactly one of an output directory and in-place")
	}
	if so.Cert == nil || so.Sigs == "" {
		return nil, usageErr("phase two needs the signatures directory and the new signer's certificate")
	}
	if opts.BackupSuffix == "" {
		opts.BackupSuffix = DefaultBackupSuffix
	}
	out := fsio.Physical(opts.Out) // once: the targets are joined to it lexically
	write := func(name, src string, sk *bpfsig.Skeleton) (string, error) {
		target := src
		if !opts.InPlace {
			target = filepath.Join(out, filepath.FromSlash(name))
			if cur, err := fsio.ReadFile(target, fsio.SkeletonLimit); err == nil {
				orig, err := bpfsig.Open(src)
				if err != nil {
					return "", err
				}
				if why := notOurs(cur, target, orig); why != "" && !opts.Overwrite {
					return "", twophase.Refuse(fmt.Errorf("target %s %s; not replacing it (--overwrite replaces it)", target, why))
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
			if err := atomicfile.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", err
			}
		} else if !opts.NoBackup {
			orig, err := fsio.ReadFile(src, fsio.SkeletonLimit)
			if err != nil {
				return "", err
			}
			mode := fs.FileMode(0o644)
			if fi, err := os.Stat(src); err == nil {
				mode = fi.Mode().Perm()
			}
			if err := backup(src+opts.BackupSuffix, orig, mode); err != nil {
				return "", err
			}
		}
		if err := sk.WriteFile(target); err != nil {
			return "", err
		}
		return target, nil
	}
	if opts.Out != "" {
		if src, overlap, err := fsio.OutputOverlap(opts.Out, srcs); err != nil {
			return nil, err
		} else if overlap {
			return nil, usageErr("--out %s is, or is inside, the source directory %s: use --in-place to rewrite the sources (with backups)", opts.Out, src)
		}
	}
	form := so.SignerID
	if opts.Signer != nil {
		form = opts.Signer.ID
	}
	ao := twophase.AttachTreeOptions{
		TreeOptions: twophase.TreeOptions{Target: opts.Target, Policy: opts.Policy, BackupSuffix: opts.BackupSuffix},
		Options:     twophase.Options{SignerID: form, Normalize: so.Normalize},
		Sigs:        so.Sigs, Manifest: so.Manifest, Cert: so.Cert, Format: so.Format, Write: write,
	}
	res, err := twophase.AttachTree(srcs, ao)
	if err != nil {
		return nil, err
	}
	return summarize(res, nil, nil), nil
}

// checkOld is Run's rule on the old signature, as a twophase Check: an unsigned skeleton or
// one whose signature does not verify is refused unless Force (then the warning is kept in
// forced, by path).
func checkOld(opts *Options, forced map[string][]string) func(*bpfsig.Skeleton) error {
	return func(sk *bpfsig.Skeleton) error {
		if err := sk.LoaderError(); err != nil {
			return err
		}
		det, err := sk.Detection()
		if err != nil {
			return err
		}
		_, refusal, warning, err := checkOldSignature(sk, det.Scheme, opts, "its TBS is written", "TBS written anyway")
		switch {
		case err != nil:
			return err
		case refusal != "":
			return twophase.Refuse(errors.New(refusal))
		case warning != "":
			forced[sk.Path()] = append(forced[sk.Path()], warning)
		}
		return nil
	}
}

// summarize turns twophase results into a migration summary.
func summarize(res []*twophase.FileResult, forced map[string][]string, reason func(*twophase.FileResult) string) *Summary {
	s := &Summary{}
	for _, fr := range res {
		r := &Result{Source: fr.Source, Target: fr.Output, OldScheme: fr.From, OldGeneration: fr.FromGeneration, NewScheme: fr.Scheme, NewGeneration: fr.Generation, Signer: fr.Signer,
			Reason: fr.Reason, Warnings: append(forced[fr.Source], fr.Notes...), RemovedBlocks: []string{}}
		switch fr.Outcome {
		case twophase.Written:
			r.Outcome = Migrated
			r.Forced = len(forced[fr.Source]) > 0
			if reason != nil {
				r.Reason = reason(fr)
			}
			s.Migrated++
		case twophase.Refused:
			r.Outcome, r.Warnings = Refused, nil
			s.Refused++
		case twophase.Skipped:
			r.Outcome = Skipped
			s.Skipped++
		default:
			r.Outcome, r.Warnings = Failed, nil
			s.Failed++
		}
		r.SourceBase64, r.TargetBase64 = fsio.RawName(r.Source), fsio.RawName(r.Target)
		s.Files = append(s.Files, r)
	}
	return s
}
