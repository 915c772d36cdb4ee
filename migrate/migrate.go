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
	"sort"
	"strings"
	"sync"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/par"
	"github.com/bpfsig/bpfsig/policy"
)

// DefaultBackupSuffix is appended to a file's name for its backup under InPlace.
const DefaultBackupSuffix = bpfsig.DefaultBackupSuffix

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
	// Overwrite replaces an existing target even when it is not a skeleton of the same
	// program (by default such a target is refused).
	Overwrite bool
	// KernelMatrix fills each result's LoadsOn, StopsLoadingOn and StartsLoadingOn (every
	// application procedure × kernel profile, old file and new; in a dry run the new file is
	// signed in memory for it).
	KernelMatrix bool
	// Jobs is the number of files processed at once (0: the number of CPUs).
	Jobs int
	// Progress, if set, is called after each file with the count done and the total.
	Progress func(done, total int)
	// Report names the file the caller will write the run's report to (Run does not write
	// it). Plan refuses, as a usage error, a report that would replace an input, a target or
	// a backup, by any spelling or link.
	Report string
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
	// Duplicate files were reached a second time (another spelling, an overlapping source, a
	// link inside the tree): the file is migrated once, under the name it was first reached
	// by. A duplicate is not a failure.
	Duplicate Outcome = "duplicate"
)

// Result is the report on one file.
type Result struct {
	Source string `json:"source"`
	Target string `json:"target"`
	// SourceBase64 and TargetBase64 hold the names' bytes when they are not valid UTF-8.
	SourceBase64  string   `json:"source_base64,omitempty"`
	TargetBase64  string   `json:"target_base64,omitempty"`
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
	// LoadsOn lists the application procedures and kernel profiles the new file loads on;
	// StopsLoadingOn those the old file loaded on and the new one does not; StartsLoadingOn
	// the reverse. Filled when Options.KernelMatrix is set, so that a fleet with mixed kernels
	// and application builds can plan.
	LoadsOn         []Platform `json:"loads_on,omitempty"`
	StopsLoadingOn  []Platform `json:"stops_loading_on,omitempty"`
	StartsLoadingOn []Platform `json:"starts_loading_on,omitempty"`
}

// Platform is an application built with a libbpf load procedure, on a kernel of a profile.
type Platform struct {
	Procedure string `json:"procedure"`
	Kernel    string `json:"kernel"`
}

func (p Platform) String() string { return "libbpf " + p.Procedure + " on " + p.Kernel }

// Summary is the report on a whole run.
type Summary struct {
	Migrated, UpToDate, Refused, Failed, Skipped, Duplicates int
	Files                                                    []*Result
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
	if s.Duplicates > 0 {
		out += fmt.Sprintf(", %d duplicate(s) taken once", s.Duplicates)
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

// IsSkeleton reports whether name is a light skeleton header by its name (bpfsig.IsSkeleton).
func IsSkeleton(name string) bool { return bpfsig.IsSkeleton(name) }

// ErrUsage is wrapped by errors in the options rather than in the files: an output directory
// that is a source, a backup suffix that would make backups skeletons, a target that is one of
// the inputs. The command line exits 2 on them.
var ErrUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Plan walks srcs (files, or directories walked recursively for skeleton headers; see
// fsio.Walk for the rules on symbolic links, duplicates and backups) and returns the jobs in a
// stable order, with targets mirrored under opts.Out (or the sources themselves), and what
// the walk left out, as Skipped results (Duplicate for a file or directory reached again).
//
// It refuses, as usage errors: --out that is, or resolves to, or lies inside a source
// directory; a target whose directory does (through a link under --out); a target that is
// one of the inputs (by any spelling, link or hard link) unless in place; two sources with
// the same target; a backup suffix ending in .skel.h or .lskel.h or holding a path
// separator; a report (opts.Report) that would replace an input, a target or a backup. A
// directory source holding no skeleton header is a Failed result: a run on nothing does not
// succeed.
func Plan(srcs []string, opts *Options) ([]Job, []*Result, error) {
	if opts == nil { // the zero Options: neither an output directory nor in-place
		opts = &Options{}
	}
	if (opts.Out == "") == !opts.InPlace {
		return nil, nil, usageErr("give exactly one of an output directory and in-place")
	}
	suffix := opts.BackupSuffix
	if suffix == "" {
		suffix = DefaultBackupSuffix
	}
	if strings.ContainsAny(suffix, `/\`) || strings.ContainsRune(suffix, 0) {
		return nil, nil, usageErr("backup suffix %q holds a path separator: a backup is a file next to its source", suffix)
	}
	if IsSkeleton(suffix) || IsSkeleton("x"+suffix) {
		return nil, nil, usageErr("backup suffix %q would make backups light skeletons that later walks migrate", suffix)
	}
	wo := fsio.WalkOptions{Match: IsSkeleton, BackupSuffix: suffix}
	if opts.Out != "" {
		if fi, err := os.Stat(opts.Out); err == nil && !fi.IsDir() {
			return nil, nil, usageErr("--out %s is a %s, not a directory", opts.Out, fsio.Kind(fi.Mode()))
		}
		src, overlap, err := fsio.OutputOverlap(opts.Out, srcs)
		if err != nil {
			return nil, nil, err
		}
		if overlap {
			return nil, nil, usageErr("--out %s is, or is inside, the source directory %s: migrated files would land in the tree being read; use --in-place to rewrite the sources (with backups)", opts.Out, src)
		}
		wo.Exclude = []string{opts.Out}
	}
	w, err := fsio.Walk(srcs, wo)
	if err != nil {
		return nil, nil, err
	}
	var skipped []*Result
	for _, d := range w.Empty {
		skipped = append(skipped, &Result{Source: d, Outcome: Failed, Reason: "directory holds no light skeleton header (*.skel.h, *.lskel.h): nothing to migrate", RemovedBlocks: []string{}})
	}
	for _, sk := range w.Skipped {
		if sk.SameAs != "" {
			skipped = append(skipped, &Result{Source: sk.Path, Outcome: Duplicate, Reason: sk.Reason + ": taken once, under that name", RemovedBlocks: []string{}})
			continue
		}
		skipped = append(skipped, &Result{Source: sk.Path, Outcome: Skipped, Reason: "not migrated: " + sk.Reason, RemovedBlocks: []string{}})
	}
	inputs := make([]string, len(w.Files))
	for i, f := range w.Files {
		inputs[i] = f.Path
	}
	var jobs []Job
	seen := map[string]string{}
	checkedDirs := map[string]bool{}
	ids := fsio.NewFileSet(inputs)
	var res fsio.Resolver          // the targets share few directories: resolve each once
	out := fsio.Physical(opts.Out) // once: the targets are joined to it lexically
	for _, f := range w.Files {
		tgt := f.Path
		if !opts.InPlace {
			tgt = filepath.Join(out, f.Rel)
			if in, same, err := ids.Find(tgt); err != nil {
				return nil, nil, err
			} else if same {
				return nil, nil, usageErr("target %s is the input %s: use --in-place to rewrite sources (with backups)", tgt, in)
			}
			// A link inside the output tree (out/x -> ../src) must not lead a new file into
			// a source tree, where it would mix with what is read (and be migrated later).
			if d := filepath.Dir(tgt); !checkedDirs[d] {
				checkedDirs[d] = true
				if src, overlap, err := fsio.OutputOverlap(d, srcs); err != nil {
					return nil, nil, err
				} else if overlap {
					return nil, nil, usageErr("target %s lies in the source directory %s (through a link under --out %s): use --in-place to rewrite the sources (with backups)", tgt, src, opts.Out)
				}
			}
		}
		key := filepath.Clean(tgt)
		if r, err := res.Resolve(tgt); err == nil {
			key = r
		}
		if prev, dup := seen[key]; dup {
			return nil, nil, usageErr("%s and %s would both be written to %s", prev, f.Path, tgt)
		}
		seen[key] = f.Path
		jobs = append(jobs, Job{Source: f.Path, Target: tgt, Mode: f.Info.Mode().Perm()})
	}
	if opts.Report != "" {
		if err := checkReport(opts, jobs, seen); err != nil {
			return nil, nil, err
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Source < jobs[j].Source })
	return jobs, skipped, nil
}

// checkReport refuses a report path that names an input, a target or a backup of the
// plan: writing the report there would destroy a file the run reads or writes. targets maps
// each target's resolved path to its source.
func checkReport(opts *Options, jobs []Job, targets map[string]string) error {
	var files []string
	for _, j := range jobs {
		files = append(files, j.Source, j.Target)
		if opts.InPlace && !opts.NoBackup {
			files = append(files, j.Source+opts.BackupSuffix)
		}
	}
	if f, same, err := fsio.FindSame(opts.Report, files); err != nil {
		return err
	} else if same {
		return usageErr("--report %s is %s, a file this run reads or writes: the report would replace it", opts.Report, f)
	}
	// Targets and backups that do not exist yet have no identity: compare resolved names.
	key, err := fsio.Resolve(opts.Report)
	if err != nil {
		return fmt.Errorf("--report %s: %w", opts.Report, err)
	}
	if src, ok := targets[key]; ok {
		return usageErr("--report %s is the target of %s: the report would replace it", opts.Report, src)
	}
	if opts.InPlace && !opts.NoBackup {
		for _, j := range jobs {
			if b, err := fsio.Resolve(j.Source + opts.BackupSuffix); err == nil && b == key {
				return usageErr("--report %s is the backup of %s: the report would replace it", opts.Report, j.Source)
			}
		}
	}
	return nil
}

// batchSize is the number of files committed together: durability is paid once per batch,
// and the open temporaries stay few (at most three batches are open: one filling, one
// queued, one committing).
const batchSize = 64

// Run migrates every skeleton under srcs. Cancelling ctx (on SIGINT, say) stops starting new
// files: those in flight finish and are committed, the rest are reported Skipped, and Run
// returns the partial summary with no error; Interrupted is set.
//
// The work is a pipeline, so that every CPU signs while files are written and made
// durable: opts.Jobs workers take the next file as they finish one (read, parse, verify,
// convert, compare with the target, sign), and hand what is to be written to one writer,
// which stages the files into batches of batchSize (atomicfile.Batch: a temporary per
// file), and to one committer, which commits each full batch (durability, renames, a sync
// of each directory once) while the next one fills. No worker waits for a batch, nor for
// another worker's file; no lock is held across a signature. A result becomes Migrated
// only once its batch is committed (a failed commit makes its files Failed). A crash leaves
// every target old or complete; leftover temporaries of a killed run are removed by the
// next run that writes into the same directory.
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
	jobs, skipped, err := Plan(srcs, &opts)
	if err != nil {
		return nil, err
	}
	if !opts.DryRun {
		cleanLeftovers(jobs)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := func(r *Result) {
		if opts.FailFast && (r.Outcome == Refused || r.Outcome == Failed) {
			cancel()
		}
	}
	results := make([]*Result, len(jobs))
	wr := startWriter(failed)
	var mu sync.Mutex // orders the Progress calls
	done := 0
	par.Do(len(jobs), opts.Jobs, func(i int) {
		var r *Result
		var w *write
		if ctx.Err() != nil {
			why := "not reached: the run stopped at the first failure"
			if parent.Err() != nil {
				why = "not reached: the run was interrupted"
			}
			r = &Result{Source: jobs[i].Source, Target: jobs[i].Target, Outcome: Skipped, Reason: why, RemovedBlocks: []string{}}
		} else {
			r, w = one(jobs[i], &opts)
		}
		results[i] = r
		failed(r)
		if w != nil {
			wr.write(w) // from here on r belongs to the writer until it is done
		}
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, len(jobs))
			mu.Unlock()
		}
	})
	wr.close()
	s := &Summary{Files: append(results, skipped...), Interrupted: parent.Err() != nil}
	for _, r := range s.Files {
		r.SourceBase64, r.TargetBase64 = fsio.RawName(r.Source), fsio.RawName(r.Target)
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
		case Duplicate:
			s.Duplicates++
		}
	}
	return s, nil
}

// cleanLeftovers removes the temporaries a killed run left in the target directories (never
// one a concurrent run holds locked).
func cleanLeftovers(jobs []Job) {
	dirs := map[string]bool{}
	for _, j := range jobs {
		dirs[filepath.Dir(j.Target)] = true
	}
	for d := range dirs {
		atomicfile.Cleanup(d) // a directory that does not exist yet has nothing to clean
	}
}

// write is a migrated file still to be written; its result says Migrated until the write
// fails.
type write struct {
	r    *Result
	path string
	data []byte
	mode fs.FileMode
	was  fs.FileInfo // the target before anything was read (nil: absent); see one
}

// fail marks w's file Failed by err: a file that was not written changed nothing.
func (w *write) fail(err error) {
	w.r.Outcome, w.r.Reason, w.r.Warnings = Failed, err.Error(), nil
}

// writer is the pipeline's writing end: a goroutine that makes directories and stages files
// into batches, and a goroutine that commits full batches in order.
type writer struct {
	in      chan *write
	commits chan *batch
	done    chan struct{}
	failed  func(*Result)
}

// batch is a committed unit: the staged files and the writes they carry.
type batch struct {
	b      *atomicfile.Batch
	writes []*write
}

// startWriter starts the writer's goroutines; failed is told of each file that fails.
func startWriter(failed func(*Result)) *writer {
	w := &writer{in: make(chan *write, batchSize), commits: make(chan *batch, 1), done: make(chan struct{}), failed: failed}
	go w.stage()
	go w.commit()
	return w
}

// write hands w to the writer; it blocks only while a full batch waits to be committed.
func (wr *writer) write(w *write) { wr.in <- w }

// close waits until every file handed over is committed (or failed).
func (wr *writer) close() {
	close(wr.in)
	<-wr.done
}

func (wr *writer) stage() {
	made := map[string]bool{} // directories known to exist
	cur := &batch{b: atomicfile.NewBatch()}
	for w := range wr.in {
		if dir := filepath.Dir(w.path); !made[dir] {
			if err := atomicfile.MkdirAll(dir, 0o755); err != nil {
				w.fail(err)
				wr.failed(w.r)
				continue
			}
			made[dir] = true
		}
		if err := cur.b.StageUnchanged(w.path, w.data, w.mode, w.was); err != nil {
			w.fail(err)
			wr.failed(w.r)
			continue
		}
		w.data = nil // staged: the bytes are in the temporary
		cur.writes = append(cur.writes, w)
		if len(cur.writes) >= batchSize {
			wr.commits <- cur
			cur = &batch{b: atomicfile.NewBatch()}
		}
	}
	if len(cur.writes) > 0 {
		wr.commits <- cur
	}
	close(wr.commits)
}

// beforeCommit, when set (by tests), runs before each batch is committed, with its paths.
var beforeCommit func(paths []string)

func (wr *writer) commit() {
	defer close(wr.done)
	for bt := range wr.commits {
		if beforeCommit != nil {
			paths := make([]string, len(bt.writes))
			for i, w := range bt.writes {
				paths[i] = w.path
			}
			beforeCommit(paths)
		}
		// Each file is judged by its own part of the commit's error: a file renamed into
		// place is Migrated even when another of the batch could not be.
		if err := bt.b.Commit(); err != nil {
			for _, w := range bt.writes {
				placed, ferr := atomicfile.Placed(err, w.path)
				switch {
				case ferr == nil:
				case placed: // written, but its directory's sync failed: not known durable
					w.r.Outcome, w.r.Reason = Failed, ferr.Error()+" (the new file is in place but may not survive a crash)"
					wr.failed(w.r)
				default:
					w.fail(ferr)
					wr.failed(w.r)
				}
			}
		}
	}
}

// One migrates a single file and writes it at once; see Run for the rules.
func One(j Job, opts *Options) *Result {
	if opts == nil {
		opts = &Options{}
	}
	r, w := one(j, opts)
	if w != nil {
		if err := atomicfile.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
			w.fail(err)
		} else if err := atomicfile.WriteFile(w.path, w.data, w.mode); err != nil {
			w.fail(err)
		}
	}
	return r
}

// one migrates a single file, in one pass: parse once; verify the old signature first (a
// refused file is never signed); resolve the target; convert; compare with an existing target
// (an up-to-date file is never signed); sign only when a file will be written. It returns the
// result and, for a file to be written, the write (the result then says Migrated, to be
// revised should the write fail). The target is looked at before anything is read (in
// place, before the source is): should it change before the commit — a source edited while
// the run signs, a file put at the target — it is not replaced by a result built from what
// was read before.
func one(j Job, opts *Options) (*Result, *write) {
	was, err := os.Stat(j.Target)
	if err != nil {
		was = nil // absent; another failure is convert's to report when it reads the target
	}
	r, data := convert(j, opts)
	if data == nil {
		return r, nil
	}
	return r, &write{r: r, path: j.Target, data: data, mode: j.Mode, was: was}
}

// convert is one's work short of the write: it returns the result and, when a file is to be
// written, its bytes.
func convert(j Job, opts *Options) (*Result, []byte) {
	r := &Result{Source: j.Source, Target: j.Target, RemovedBlocks: []string{}, DryRun: opts.DryRun}
	fail := func(o Outcome, format string, args ...any) (*Result, []byte) {
		r.Outcome, r.Reason = o, fmt.Sprintf(format, args...)
		r.Warnings = nil // a file that failed changed nothing
		return r, nil
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
	signer, refusal, forced, err := checkOldSignature(sk, det.Scheme, opts, "it is signed now", "re-signed anyway")
	r.Signer = signer
	switch {
	case err != nil:
		return fail(Failed, "%v", err)
	case refusal != "":
		return fail(Refused, "%s", refusal)
	case forced != "":
		r.Forced = true
		r.Warnings = append(r.Warnings, forced)
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
	if cur, err := fsio.ReadFile(j.Target, fsio.SkeletonLimit); err == nil {
		if upToDate(cur, j.Target, p, opts) {
			r.Outcome = UpToDate
			if j.Target != j.Source {
				r.Reason = "target already holds the migrated skeleton"
			} else {
				r.Reason = "already migrated"
			}
			r.Warnings = nil
			return r, nil
		}
		if j.Target != j.Source && !opts.Overwrite {
			if why := notOurs(cur, j.Target, sk); why != "" {
				return fail(Refused, "target %s %s; not replacing it (--overwrite replaces it)", j.Target, why)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(Failed, "%v", err)
	}

	describeChanges(r, p.Changes())
	if opts.DryRun && !opts.KernelMatrix {
		r.Outcome = Migrated
		r.Reason = "dry run: nothing written"
		return r, nil
	}
	out, err := p.Sign(opts.Signer)
	if err != nil {
		return fail(Failed, "%v", err)
	}
	if opts.KernelMatrix {
		if err := platforms(r, sk, opts.Trust, out, bpfsig.NewTrust(opts.Signer.Cert)); err != nil {
			return fail(Failed, "%v", err)
		}
	}
	if opts.DryRun {
		r.Outcome = Migrated
		r.Reason = "dry run: nothing written"
		return r, nil
	}
	if opts.InPlace && !opts.NoBackup {
		r.Backup = j.Source + opts.BackupSuffix
		if err := backup(r.Backup, sk.Bytes(), j.Mode); err != nil {
			return fail(Failed, "%v", err)
		}
	}
	r.Outcome = Migrated
	return r, out.Bytes()
}

// platforms fills r's LoadsOn, StopsLoadingOn and StartsLoadingOn from the application ×
// kernel matrices of the old and the new file.
func platforms(r *Result, old *bpfsig.Skeleton, oldTrust *bpfsig.Trust, nw *bpfsig.Skeleton, newTrust *bpfsig.Trust) error {
	loads := func(sk *bpfsig.Skeleton, trust *bpfsig.Trust) (map[Platform]bool, []Platform, error) {
		set := map[Platform]bool{}
		var all []Platform
		for _, proc := range bpfsig.Procedures() {
			for _, k := range bpfsig.KernelProfiles() {
				v, err := bpfsig.OnKernel(sk, k, proc, trust, compat.Conditions{})
				if err != nil {
					return nil, nil, err
				}
				pl := Platform{Procedure: string(proc), Kernel: k}
				all = append(all, pl)
				set[pl] = v.Outcome == compat.Accepted
			}
		}
		return set, all, nil
	}
	was, all, err := loads(old, oldTrust)
	if err != nil {
		return err
	}
	now, _, err := loads(nw, newTrust)
	if err != nil {
		return err
	}
	for _, pl := range all {
		switch {
		case now[pl]:
			r.LoadsOn = append(r.LoadsOn, pl)
			if !was[pl] {
				r.StartsLoadingOn = append(r.StartsLoadingOn, pl)
			}
		case was[pl]:
			r.StopsLoadingOn = append(r.StopsLoadingOn, pl)
		}
	}
	return nil
}

// notOurs says why an existing target is not ours to replace ("" when it is): it must be a
// light skeleton of the same program as the source — the same object name, and the same
// loader and metadata once signatures and check and override blocks are set aside — that
// this migration would produce or supersede.
func notOurs(cur []byte, path string, src *bpfsig.Skeleton) string {
	old, err := bpfsig.Parse(path, cur)
	if err != nil {
		return "exists and is not a light skeleton"
	}
	if old.Name() != src.Name() {
		return fmt.Sprintf("holds a different program (object %q, the source's is %q)", old.Name(), src.Name())
	}
	a, errA := bpfsig.Prepare(old, compat.Target{Scheme: compat.Raw})
	b, errB := bpfsig.Prepare(src, compat.Target{Scheme: compat.Raw})
	if errA != nil || errB != nil {
		return "holds a skeleton whose loader bpfsig cannot compare with the source's"
	}
	if !bytes.Equal(a.Insn(), b.Insn()) || !bytes.Equal(a.Data(), b.Data()) {
		return fmt.Sprintf("holds a different build of %s (its loader or metadata differs from the source's)", src.Name())
	}
	return ""
}

// checkOldSignature is the rule that an old signature must hold before its file is converted:
// it returns the verified signer, or why the file is refused, or — under Force — the warning
// that says what was done anyway (done names it for an unsigned input: "it is signed now";
// anyway for a failed signature: "re-signed anyway").
func checkOldSignature(sk *bpfsig.Skeleton, scheme compat.Scheme, opts *Options, done, anyway string) (signer, refusal, forced string, err error) {
	if scheme == compat.Unsigned {
		if !opts.Force {
			return "", "not signed: nothing vouches for it (sign it with `bpfsig sign`, or --force)", "", nil
		}
		return "", "", "FORCED: the input was not signed; " + done + " without any earlier signature vouching for it", nil
	}
	v, err := bpfsig.VerifyAs(sk, "", opts.Trust, compat.Conditions{})
	if err != nil {
		return "", "", "", err
	}
	if v.OK() {
		return v.Signer, "", "", nil
	}
	why := v.Reason
	if len(v.Conformance) > 0 {
		why = strings.Join(v.Conformance, "; ")
	}
	if !opts.Force {
		return v.Signer, fmt.Sprintf("old %s signature does not verify (%s%s): %s", scheme, v.Stage, errnoSuffix(v), why), "", nil
	}
	return v.Signer, "", fmt.Sprintf("FORCED: old %s signature does not verify (%s): %s", scheme, why, anyway), nil
}

// upToDate reports whether the existing target cur already is the migration's result: a
// skeleton of the target scheme and generation with the converted loader and metadata, whose
// signature verifies under the new signer, and which is byte for byte the converted source
// with that signature attached. For ECDSA signers, whose signatures differ at every
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
	if !bpfsig.Verify(sk, bpfsig.NewTrust(opts.Signer.Cert)).OK() {
		return false
	}
	// The whole file, not only its blobs: with the target's own signature attached, the
	// migration must produce exactly the target. A target declaring another object name, or
	// whose C code differs (a host-side initial value edited), is not the result.
	want, err := p.Attach(sk.Sig())
	return err == nil && bytes.Equal(want.Bytes(), cur)
}

// backup writes the original next to the source, refusing to replace a different backup.
func backup(path string, orig []byte, mode fs.FileMode) error {
	if cur, err := fsio.ReadFile(path, fsio.SkeletonLimit); err == nil {
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
//
// An existing path that is not a regular file (a directory, FIFO, socket, device) or a
// dangling link is refused too, so that no migration runs whose report cannot be written.
func CheckReportPath(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	if _, err := atomicfile.Target(path); err != nil {
		return err
	}
	// The directory the report will be renamed into, as the system resolves the name
	// (filepath.Dir would take "l/../r.json" for ./r.json whatever l points to).
	dir, _ := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	dir = fsio.Physical(dir)
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
