// Package wire is the format the oracle's host harness and its guest /init exchange: the batch of
// cases goes into the initramfs as one JSON file, and the guest prints one marked JSON line per
// result on the serial console.
package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CasesPath is where the batch lives in the guest's initramfs.
const CasesPath = "/cases.json"

// Console markers. Each starts a line; kernel messages may interleave with the guest's output,
// so parsers look for a marker anywhere in a line and ignore everything else.
const (
	MarkBegin  = "BPFSIG-ORACLE-BEGIN "  // + nonce
	MarkResult = "BPFSIG-ORACLE-RESULT " // + JSON Result
	MarkEnd    = "BPFSIG-ORACLE-END "    // + nonce + " " + count
	MarkFatal  = "BPFSIG-ORACLE-FATAL "  // + message: the guest gave up
)

// Keyring modes of a Case.
const (
	KeyringUser    = "user"    // a fresh keyring holding Certs, looked up with bpf_lookup_user_key
	KeyringSystem  = "system"  // bpf_lookup_system_key(SystemID)
	KeyringMissing = "missing" // a serial that resolves to no key
)

// Batch is the content of CasesPath.
type Batch struct {
	Nonce string `json:"nonce"` // echoed in the begin and end markers
	Cases []Case `json:"cases"`
}

// Case is one verification request. Byte slices are base64 in JSON.
type Case struct {
	Content   []byte   `json:"content"`
	Signature []byte   `json:"sig"`
	Certs     [][]byte `json:"certs,omitempty"` // DER X.509, added as "asymmetric" keys (user mode)
	Keyring   string   `json:"keyring"`         // Keyring*
	SystemID  int32    `json:"system_id,omitempty"`
}

// Result is one guest answer.
type Result struct {
	Index  int    `json:"i"`
	Status uint32 `json:"status"` // bpf.Status*; 0 when the guest failed before running the program
	Ret    int32  `json:"ret"`    // the kfunc's return value (negative errno) for bpf.StatusVerified
	Errno  int    `json:"errno"`  // the kernel's answer as a positive errno, 0 for success
	Detail string `json:"detail,omitempty"`
}

// FormatResult renders r as one console line (with trailing newline).
func FormatResult(r Result) string {
	b, err := json.Marshal(r)
	if err != nil { // cannot happen for this type
		return MarkFatal + "marshal result: " + err.Error() + "\n"
	}
	return MarkResult + string(b) + "\n"
}

// Console is what a guest run printed, parsed.
type Console struct {
	Begun   bool
	Ended   bool
	Count   int // count announced in the end marker
	Fatal   []string
	Results []Result
}

// ErrMalformed reports a marked console line that does not parse.
var ErrMalformed = errors.New("wire: malformed marked line")

// ParseConsole extracts the guest's marked lines for the given nonce from console output. Lines
// without a marker are ignored; a marked line that does not parse is an error.
func ParseConsole(r io.Reader, nonce string) (*Console, error) {
	c := &Console{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case markedRest(line, MarkResult) != nil:
			rest := *markedRest(line, MarkResult)
			var res Result
			dec := json.NewDecoder(bytes.NewReader([]byte(rest)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&res); err != nil {
				return c, fmt.Errorf("%w: %q: %v", ErrMalformed, truncate(line), err)
			}
			c.Results = append(c.Results, res)
		case markedRest(line, MarkBegin) != nil:
			if strings.TrimSpace(*markedRest(line, MarkBegin)) == nonce {
				c.Begun = true
			}
		case markedRest(line, MarkEnd) != nil:
			var n string
			var count int
			if _, err := fmt.Sscanf(*markedRest(line, MarkEnd), "%s %d", &n, &count); err != nil {
				return c, fmt.Errorf("%w: %q: %v", ErrMalformed, truncate(line), err)
			}
			if n == nonce {
				c.Ended, c.Count = true, count
			}
		case markedRest(line, MarkFatal) != nil:
			c.Fatal = append(c.Fatal, *markedRest(line, MarkFatal))
		}
	}
	return c, sc.Err()
}

func markedRest(line, mark string) *string {
	i := strings.Index(line, mark)
	if i < 0 {
		return nil
	}
	s := line[i+len(mark):]
	return &s
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
