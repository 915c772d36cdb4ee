package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConsole(t *testing.T) {
	r1 := Result{Index: 0, Status: 1, Ret: -129, Errno: 129}
	r2 := Result{Index: 1, Status: 2, Errno: 22, Detail: "keyring lookup returned NULL"}
	out := "SeaBIOS junk\r\n[    0.1] kernel line\n" + MarkBegin + "n1\n" +
		FormatResult(r1) +
		"[    1.2] interleaved " + FormatResult(r2) + // a kernel message before the marker on one line
		MarkBegin + "other\n" + MarkEnd + "other 7\n" + MarkEnd + "n1 2\r\n"
	c, err := ParseConsole(strings.NewReader(out), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Begun || !c.Ended || c.Count != 2 || len(c.Results) != 2 || len(c.Fatal) != 0 {
		t.Fatalf("got %+v", c)
	}
	if c.Results[0] != r1 || c.Results[1] != r2 {
		t.Fatalf("results %+v", c.Results)
	}
}

func TestParseConsoleErrors(t *testing.T) {
	tests := []struct {
		name, in  string
		malformed bool
		fatal     int
		ended     bool
	}{
		{"bad json", MarkResult + "{nope\n", true, 0, false},
		{"unknown field", MarkResult + `{"i":1,"x":2}` + "\n", true, 0, false},
		{"bad end", MarkEnd + "\n", true, 0, false},
		{"fatal", MarkFatal + "load: boom\n", false, 1, false},
		{"empty", "", false, 0, false},
		{"wrong nonce end", MarkEnd + "zz 3\n", false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConsole(strings.NewReader(tt.in), "n1")
			if got := errors.Is(err, ErrMalformed); got != tt.malformed {
				t.Fatalf("err = %v, malformed want %v", err, tt.malformed)
			}
			if len(c.Fatal) != tt.fatal || c.Ended != tt.ended {
				t.Fatalf("got %+v", c)
			}
		})
	}
}
