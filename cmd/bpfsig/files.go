package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/migrate"
)

var jobsFlag = &cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "files at once (default: number of CPUs)"}

// expandArgs replaces each directory argument by the light skeleton headers under it, with
// the walk rules of migrate (fsio.Walk: links that leave the tree, FIFOs and devices are
// reported on stderr and left out; the same file reached twice is taken once). A file given by
// name is kept whatever it is, so that reading it reports the precise error.
func expandArgs(c *cli.Context, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a)
			continue
		}
		w, err := fsio.Walk([]string{a}, fsio.WalkOptions{Match: migrate.IsSkeleton, BackupSuffix: migrate.DefaultBackupSuffix})
		if err != nil {
			return nil, err
		}
		for _, f := range w.Files {
			out = append(out, f.Path)
		}
		for _, s := range w.Skipped {
			fmt.Fprintf(c.App.ErrWriter, "bpfsig: skipped %s: %s\n", quoteName(s.Path), s.Reason)
		}
	}
	return out, nil
}

// quoteName prints a file name so that it cannot be mistaken for other output: a name with
// control characters or bytes that are not UTF-8 is written as a Go string literal.
func quoteName(p string) string {
	if !utf8.ValidString(p) {
		return strconv.Quote(p)
	}
	for _, r := range p {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return strconv.Quote(p)
		}
	}
	return p
}

// parallel runs f(0..n-1) on jobs goroutines (0: the number of CPUs).
func parallel(n, jobs int, f func(i int)) {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(jobs, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}
