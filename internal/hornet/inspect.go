package hornet

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// Status is Hornet's upstream status, for README and `inspect` output.
const Status = "Hornet LSM v7 (Blaise Boscaccy, posted 2026-05-07; NAKed by the BPF maintainers): " +
	"dropped from linux-next and refused by Linus Torvalds in June 2026; in no released kernel"

// Info describes a signature that carries the Hornet attribute.
type Info struct {
	// Entries are the attribute's map entries, read strictly ([ParseValue]); EntriesErr says
	// why they could not be (the signature is still Hornet-shaped).
	Entries    []Entry
	EntriesErr error
	// SigningTime is the signingTime attribute, zero when absent (bpfsig's default; gen_sig
	// always writes one).
	SigningTime time.Time
	Signature   *cms.Signature
}

// ErrNotHornet reports a signature without the Hornet attribute.
var ErrNotHornet = errors.New("hornet: signature has no Hornet attribute (" + OIDString + ")")

// Inspect parses sig and reports its Hornet attribute. It returns ErrNotHornet for a valid
// CMS signature without one (a bpftool or `bpfsig sign` signature, say) and the cms error
// for one that does not parse. Detection from content: a light skeleton whose opts_sig holds
// such a signature is Hornet-signed; its header lines are otherwise those of a bpftool -S
// skeleton (gen_sig's output replaces the opts_sig literal, see doc).
func Inspect(sig []byte) (*Info, error) {
	s, err := cms.Parse(sig)
	if err != nil {
		return nil, fmt.Errorf("hornet: %w", err)
	}
	info := &Info{Signature: s}
	found := false
	for _, a := range s.SignedAttributes {
		switch {
		case bytes.Equal(a.RawType, oidContents):
			found = true
			if len(a.Values) != 1 {
				info.EntriesErr = fmt.Errorf("hornet: attribute has %d values, gen_sig writes 1", len(a.Values))
				continue
			}
			info.Entries, info.EntriesErr = ParseValue(a.Values[0])
		case a.Type.Equal(cms.OIDSigningTime) && len(a.Values) == 1:
			info.SigningTime = parseTime(a.Values[0])
		}
	}
	if !found {
		return nil, ErrNotHornet
	}
	return info, nil
}

// IsHornet reports whether sig parses and carries the Hornet attribute.
func IsHornet(sig []byte) bool {
	_, err := Inspect(sig)
	return err == nil
}

func parseTime(der []byte) time.Time {
	if len(der) < 2 {
		return time.Time{}
	}
	body := string(der[2:])
	var layout string
	switch {
	case der[0] == 0x17 && len(body) == 13:
		layout = "060102150405Z"
	case der[0] == 0x18 && len(body) == 15:
		layout = "20060102150405Z"
	default:
		return time.Time{}
	}
	t, err := time.Parse(layout, body)
	if err != nil {
		return time.Time{}
	}
	if der[0] == 0x17 && t.Year() >= 2050 { // RFC 5652: UTCTime YY 50..99 is 19YY
		t = t.AddDate(-100, 0, 0)
	}
	return t
}
