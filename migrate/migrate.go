// Package migrate re-signs existing signed light skeletons for another scheme — by default for
// kernels with raw-bytes load-time verification, which reject every skeleton signed the 6.18 way.
//
// For each skeleton it detects the scheme, verifies the old signature and metadata hash against
// the old signer's certificates (refusing one that does not verify unless forced), removes the
// check block and (unless asked to keep them) the host-override blocks, re-signs for the target
// scheme and writes the result atomically. The result is byte-identical to what today's upstream
// generator produces for the same object and key.
//
// Safety rules: inputs are never modified unless InPlace, which first keeps a backup; every
// write goes to a temporary file in the target directory that is fsynced and renamed, so a
// target is absent, old or complete, never partial; a file whose target already holds the
// migrated result is left untouched, so re-running changes nothing.
package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/policy"
)

// DefaultBackupSuffix is appended to a file's name for its backup under InPlace.
const DefaultBackupSuffix = ".orig"

// Options configure a migration.
type Options struct {
	// Out is the directory the sources are mirrored into. Exactly one of Out and InPlace.
	Out string
	// InPlace replaces each source file, keeping a backup named source+BackupSuffix unless
	// NoBackup.
	InPlace      bool
	BackupSuffix string
	NoBackup     bool
	// Signer signs the migrated skeletons.
	Signer *bpfsig.Signer
	// Trust holds the old signer's certificates. Nil means the signer's own certificate.
	Trust *bpfsig.Trust
	// Target is the scheme asked for explicitly (zero: none); Policy chooses per program. They
	// combine as policy.Resolve says, the same rule as bpfsig sign's.
	Target compat.Target
	Policy *policy.Policy
	// KeepHostOverrides keeps the host-override blocks; their values stay outside the signature.
	KeepHostOverrides bool
	// DryRun writes nothing and reports what would happen.
	DryRun bool
	// Force re-signs skeletons whose old signature does not verify.
	Force bool
	// FailFast stops at the first refused or failed file.
	FailFast bool
	// Jobs is the number of files processed at once (0: the number of CPUs).
	Jobs int
	// Progress, if set, is called after each file with the count done and the total.
	Progress func(done, total int)
}

// Outcome is what happened to one file.
type Outcome string

const (
	Migrated Outcome = "migrated"
	UpToDate Outcome = "up-to-date"
	Refused  Outcome = "refused"
	Failed   Outcome = "failed"
	// Skipped files were not reached: FailFast stopped the run, or it was interrupted (the
	// context was cancelled).
	Skipped Outcome = "skipped"
)

// Result is the report on one file.
type Result struct {
	Source        string   `json:"source"`
	Target        string   `json:"target"`
	Backup        string   `json:"backup,omitempty"`
	OldScheme     string   `json:"old_scheme,omitempty"`
	OldGeneration string   `json:"old_generation,omitempty"`
	NewScheme     string   `json:"new_scheme,omitempty"`
	NewGeneration string   `json:"new_generation,omitempty"`
	RemovedBlocks []string `json:"removed_blocks"`
	KeptOverrides []string `json:"kept_overrides,omitempty"`
	Signer        string   `json:"signer,omitempty"`
	Outcome       Outcome  `json:"outcome"`
	DryRun        bool     `json:"dry_run,omitempty"`
	Forced        bool     `json:"forced,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	// Warnings are behaviour changes the user must know about.
	Warnings []string `json:"warnings,omitempty"`
}

// Summary is the report on a whole run.
type Summary struct {
	Migrated, UpToDate, Refused, Failed, Skipped int
	Files                                        []*Result
	// Interrupted reports that the run's context was cancelled before every file was done.
	Interrupted bool
}

// OK reports whether nothing was refused or failed.
func (s *Summary) OK() bool { return s.Refused == 0 && s.Failed == 0 && s.Skipped == 0 }

// String is the one-line summary.
func (s *Summary) String() string {
	out := fmt.Sprintf("%d migrated, %d up to date, %d refused, %d failed", s.Migrated, s.UpToDate, s.Refused, s.Failed)
	if s.Skipped > 0 {
		out += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	if s.Interrupted {
		out += " (interrupted)"
	}
	return out
}

// Job is one file to migrate.
type Job struct {
	Source string
	Target string
	Mode   fs.FileMode
}

// IsSkeleton reports whether name is a light skeleton header by its name.
func IsSkeleton(name string) bool {
	return strings.HasSuffix(name, ".skel.h") || strings.HasSuffix(name, ".lskel.h")
}

// Plan walks srcs (files, or directories walked recursively for skeleton headers) and returns
// the jobs in a stable order, with targets mirrored under opts.Out (or the sources themselves).
func Plan(srcs []string, opts *Options) ([]Job, error) {
	if (opts.Out == "") == !opts.InPlace {
		return nil, errors.New("give exactly one of an output directory and in-place")
	}
	var outAbs string
	if opts.Out != "" {
		var err error
		if outAbs, err = filepath.Abs(opts.Out); err != nil {
			return nil, err
		}
	}
	var jobs []Job
	seen := map[string]string{}
	add := func(src, rel string, mode fs.FileMode) error {
		tgt := src
		if !opts.InPlace {
			tgt = filepath.Join(opts.Out, rel)
		}
		if prev, dup := seen[tgt]; dup {
			return fmt.Errorf("%s and %s would both be written to %s", prev, src, tgt)
		}
		seen[tgt] = src
		jobs = append(jobs, Job{Source: src, Target: tgt, Mode: mode})
		return nil
	}
	for _, src := range srcs {
		st, err := os.Lstat(src)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if st.Mode()&fs.ModeSymlink != 0 && opts.InPlace {
				return nil, fmt.Errorf("%s: a symbolic link cannot be migrated in place", src)
			}
			if st, err = os.Stat(src); err != nil {
				return nil, err
			}
			if err := add(src, filepath.Base(src), st.Mode().Perm()); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if outAbs != "" {
					if abs, _ := filepath.Abs(p); abs == outAbs {
						return filepath.SkipDir
					}
				}
				return nil
			}
			if !IsSkeleton(d.Name()) || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			return add(p, rel, info.Mode().Perm())
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Source < jobs[j].Source })
	return jobs, nil
}

// Run migrates every skeleton under srcs. Cancelling ctx (on SIGINT, say) stops starting new
// files: those in flight finish, the rest are reported Skipped, and Run returns the partial
// summary with no error; Interrupted is set.
func Run(ctx context.Context, srcs []string, opts Options) (*Summary, error) {
	if opts.Signer == nil {
		return nil, errors.New("migration needs a signer")
	}
	if opts.BackupSuffix == "" {
		opts.BackupSuffix = DefaultBackupSuffix
	}
	if opts.Trust == nil {
		opts.Trust = bpfsig.NewTrust(opts.Signer.Cert)
	}
	jobs, err := Plan(srcs, &opts)
	if err != nil {
		return nil, err
	}
	jobsN := opts.Jobs
	if jobsN <= 0 {
		jobsN = runtime.NumCPU()
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]*Result, len(jobs))
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < jobsN; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var r *Result
				if ctx.Err() != nil {
					why := "not reached: the run stopped at the first failure"
					if parent.Err() != nil {
						why = "not reached: the run was interrupted"
					}
					r = &Result{Source: jobs[i].Source, Target: jobs[i].Target, Outcome: Skipped, Reason: why, RemovedBlocks: []string{}}
				} else {
					r = One(jobs[i], &opts)
				}
				results[i] = r
				if opts.FailFast && (r.Outcome == Refused || r.Outcome == Failed) {
					cancel()
				}
				mu.Lock()
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(jobs))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	s := &Summary{Files: results, Interrupted: parent.Err() != nil}
	for _, r := range results {
		switch r.Outcome {
		case Migrated:
			s.Migrated++
		case UpToDate:
			s.UpToDate++
		case Refused:
			s.Refused++
		case Failed:
			s.Failed++
		case Skipped:
			s.Skipped++
		}
	}
	return s, nil
}

// One migrates a single file, in one pass: parse once; verify the old signature first (a
// refused file is never signed); resolve the target; convert; compare with an existing target
// (an up-to-date file is never signed); sign only when a file will be written.
func One(j Job, opts *Options) *Result {
	r := &Result{Source: j.Source, Target: j.Target, RemovedBlocks: []string{}, DryRun: opts.DryRun}
	fail := func(o Outcome, format string, args ...any) *Result {
		r.Outcome, r.Reason = o, fmt.Sprintf(format, args...)
		r.Warnings = nil // a file that failed changed nothing
		return r
	}
	sk, err := bpfsig.Open(j.Source)
	if err != nil {
		return fail(Failed, "%v", err)
	}
	if err := sk.LoaderError(); err != nil {
		return fail(Failed, "%v", err)
	}
	det, err := sk.Detection()
	if err != nil {
		return fail(Failed, "%v", err)
	}
	r.OldScheme, r.OldGeneration = string(det.Scheme), det.Generation.String()

	// The old signature must hold before anything is signed.
	if det.Scheme == compat.Unsigned {
		if !opts.Force {
			return fail(Refused, "not signed: nothing vouches for it (sign it with `bpfsig sign`, or --force)")
		}
		r.Forced = true
		r.Warnings = append(r.Warnings, "FORCED: the input was not signed; it is signed now without any earlier signature vouching for it")
	} else {
		v, err := bpfsig.VerifyAs(sk, "", opts.Trust, compat.Conditions{})
		if err != nil {
			return fail(Failed, "%v", err)
		}
		r.Signer = v.Signer
		if !v.OK() {
			why := v.Reason
			if len(v.Conformance) > 0 {
				why = strings.Join(v.Conformance, "; ")
			}
			if !opts.Force {
				return fail(Refused, "old %s signature does not verify (%s%s): %s", det.Scheme, v.Stage, errnoSuffix(v), why)
			}
			r.Forced = true
			r.Warnings = append(r.Warnings, fmt.Sprintf("FORCED: old %s signature does not verify (%s): re-signed anyway", det.Scheme, why))
		}
	}

	target, err := policy.Resolve(opts.Target, opts.Policy, j.Source, sk.Name())
	if err != nil {
		return fail(Failed, "%v", err)
	}
	p, err := bpfsig.Prepare(sk, target, bpfsig.KeepHostOverrides(opts.KeepHostOverrides))
	if err != nil {
		return fail(Failed, "%v", err)
	}
	target = p.Target()
	r.NewScheme, r.NewGeneration = string(target.Scheme), target.Generation.String()

	// A target that already holds the result is left alone: this is what makes re-running safe
	// (and, in place, what recognises a file migrated by an earlier run).
	if cur, err := os.ReadFile(j.Target); err == nil {
		if upToDate(cur, j.Target, p, opts) {
			r.Outcome = UpToDate
			if j.Target != j.Source {
				r.Reason = "target already holds the migrated skeleton"
			} else {
				r.Reason = "already migrated"
			}
			r.Warnings = nil
			return r
		}
		if j.Target != j.Source {
			if _, err := bpfsig.Parse(j.Target, cur); err != nil {
				return fail(Failed, "target %s exists and is not a light skeleton; not overwriting it", j.Target)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(Failed, "%v", err)
	}

	describeChanges(r, p.Changes())
	if opts.DryRun {
		r.Outcome = Migrated
		r.Reason = "dry run: nothing written"
		return r
	}
	out, err := p.Sign(opts.Signer)
	if err != nil {
		return fail(Failed, "%v", err)
	}
	if opts.InPlace && !opts.NoBackup {
		r.Backup = j.Source + opts.BackupSuffix
		if err := backup(r.Backup, sk.Bytes(), j.Mode); err != nil {
			return fail(Failed, "%v", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(j.Target), 0o755); err != nil {
		return fail(Failed, "%v", err)
	}
	if err := atomicfile.WriteFile(j.Target, out.Bytes(), j.Mode); err != nil {
		return fail(Failed, "%v", err)
	}
	r.Outcome = Migrated
	return r
}

// upToDate reports whether the existing target cur already is the migration's result: a
// skeleton of the target scheme and generation with the converted loader and metadata, whose
// signature verifies under the new signer. For ECDSA signers, whose signatures differ at every
// signing, byte equality cannot tell; nothing here signs.
func upToDate(cur []byte, path string, p *bpfsig.Prepared, opts *Options) bool {
	sk, err := bpfsig.Parse(path, cur)
	if err != nil || sk.LoaderError() != nil {
		return false
	}
	t := p.Target()
	if sk.Scheme() != t.Scheme || sk.Generation() != t.Generation {
		return false
	}
	if !bytes.Equal(sk.Insn(), p.Insn()) || !bytes.Equal(sk.Data(), p.Data()) {
		return false
	}
	return bpfsig.Verify(sk, bpfsig.NewTrust(opts.Signer.Cert)).OK()
}

// backup writes the original next to the source, refusing to replace a different backup.
func backup(path string, orig []byte, mode fs.FileMode) error {
	if cur, err := os.ReadFile(path); err == nil {
		if bytes.Equal(cur, orig) {
			return nil
		}
		return fmt.Errorf("backup %s exists and differs from the file it would back up; not overwriting it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.WriteFile(path, orig, mode)
}

// describeChanges fills the removed blocks and the behaviour warnings.
func describeChanges(r *Result, ch bpfsig.Changes) {
	if g := ch.RemovedCheck; g != compat.NoGeneration && g != ch.InsertedCheck {
		r.RemovedBlocks = append(r.RemovedBlocks, "check "+g.String())
	}
	for _, k := range ch.RemovedOverrides {
		r.RemovedBlocks = append(r.RemovedBlocks, "override: "+k)
	}
	r.KeptOverrides = append(r.KeptOverrides, ch.KeptOverrides...)
	if n := len(ch.RemovedOverrides); n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("behaviour change: %d host-override block(s) removed (%s): values a program sets before load (skel->rodata, skel->bss, max_entries) are no longer applied; the signed values are", n, strings.Join(ch.RemovedOverrides, ", ")))
	}
	if len(r.KeptOverrides) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("host-override blocks kept (%s): the values they let the host set are outside the signature", strings.Join(r.KeptOverrides, ", ")))
	}
}

func errnoSuffix(v *compat.Verdict) string {
	if n := v.ErrnoName(); n != "" {
		return " " + n
	}
	if v.Retval != nil {
		return fmt.Sprintf(" retval %d", *v.Retval)
	}
	return ""
}

// CheckReportPath checks, before any work, that a report can be written to path: its parent
// directory exists and is a directory, and path is not a directory.
func CheckReportPath(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: directory %s: %w", path, dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	f, err := os.CreateTemp(dir, ".bpfsig-report-check-*")
	if err != nil {
		return fmt.Errorf("%s: directory %s is not writable: %w", path, dir, errors.Unwrap(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
