package wire

import (
	"bytes"
	"testing"
)

// FuzzParseConsole feeds arbitrary console output to the parser: it must never panic, and every
// result it returns must re-render to a line it parses back identically.
func FuzzParseConsole(f *testing.F) {
	f.Add([]byte(MarkBegin + "n\n" + FormatResult(Result{Index: 0, Status: 1, Ret: -129, Errno: 129}) + MarkEnd + "n 1\n"))
	f.Add([]byte("noise " + MarkResult + `{"i":1,"status":2,"errno":22,"detail":"x"}` + "\r\n"))
	f.Add([]byte(MarkFatal + "boom\n" + MarkEnd + "n x\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseConsole(bytes.NewReader(in), "n")
		if err != nil {
			return
		}
		for _, r := range c.Results {
			c2, err := ParseConsole(bytes.NewReader([]byte(FormatResult(r))), "n")
			if err != nil || len(c2.Results) != 1 || c2.Results[0] != r {
				t.Fatalf("result %+v does not round-trip: %v", r, err)
			}
		}
	})
}
