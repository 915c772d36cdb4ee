package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// Debugging aids, not part of the interface: with BPFSIG_CPUPROFILE=FILE the whole process
// (start-up, walk, reads, verification, output) is profiled into FILE in pprof's format;
// with BPFSIG_MEMPROFILE=FILE a heap profile of everything allocated is written at exit.
// `go tool pprof bpfsig FILE` reads them. A profile that cannot be started or written is
// reported on standard error and otherwise ignored: it never changes output or exit code.
const (
	cpuProfileEnv = "BPFSIG_CPUPROFILE"
	memProfileEnv = "BPFSIG_MEMPROFILE"
)

// startProfiles starts what the environment asks for and returns the function that ends it.
func startProfiles(stderr io.Writer) (stop func()) {
	var stops []func()
	if p := os.Getenv(cpuProfileEnv); p != "" {
		if f, err := os.Create(p); err != nil {
			fmt.Fprintf(stderr, "bpfsig: %s: %v\n", cpuProfileEnv, err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			fmt.Fprintf(stderr, "bpfsig: %s: %v\n", cpuProfileEnv, err)
		} else {
			stops = append(stops, func() {
				pprof.StopCPUProfile()
				if err := f.Close(); err != nil {
					fmt.Fprintf(stderr, "bpfsig: %s: %v\n", cpuProfileEnv, err)
				}
			})
		}
	}
	if p := os.Getenv(memProfileEnv); p != "" {
		runtime.MemProfileRate = 4096
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(stderr, "bpfsig: %s: %v\n", memProfileEnv, err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
