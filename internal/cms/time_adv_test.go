package cms

import (
	"errors"
	"testing"
	"time"

	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/bpfsig/bpfsig/compat"
)

// TestDecodeTimeKernelRulesAdv: signingTime decodes as the kernel's x509_decode_time does
// (torvalds/linux crypto/asymmetric_keys/x509_cert_parser.c): every refusal is EBADMSG.
func TestDecodeTimeKernelRulesAdv(t *testing.T) {
	u, g := cbasn1.UTCTime, cbasn1.GeneralizedTime
	tests := []struct {
		tag  cbasn1.Tag
		v    string
		want string // RFC 3339, "" for a refusal
	}{
		{u, "700101000000Z", "1970-01-01T00:00:00Z"},
		{u, "491231235959Z", "2049-12-31T23:59:59Z"},
		{u, "500101000000Z", ""}, // 1950: before 1970
		{u, "691231235959Z", ""}, // 1969
		{u, "000229000000Z", "2000-02-29T00:00:00Z"},
		{u, "010229000000Z", ""}, // 2001 is not a leap year
		{u, "260230000000Z", ""},
		{u, "261301000000Z", ""},
		{u, "260101240000Z", ""},
		{u, "260101006000Z", ""},
		{u, "260101000060Z", ""}, // no leap second
		{u, "2601010000000", ""}, // not Z
		{u, "26010100000Z", ""},  // short
		{u, "26-101000000Z", ""},
		{g, "20500101000000Z", "2050-01-01T00:00:00Z"},
		{g, "21000228000000Z", "2100-02-28T00:00:00Z"},
		{g, "21000229000000Z", ""}, // 2100 is not a leap year
		{g, "20260101000000Z", ""}, // GeneralizedTime inside 1950..2049
		{g, "19500101000000Z", ""},
		{g, "19491231235959Z", ""}, // before 1970
		{g, "00000101000000Z", ""},
		{g, "2050010100000Z", ""},
		{cbasn1.Tag(0x0c), "260101000000Z", ""},
	}
	for _, tt := range tests {
		got, err := decodeTime(tt.tag, []byte(tt.v))
		if tt.want == "" {
			if err == nil {
				t.Errorf("%v %q: decoded as %v, the kernel refuses it", tt.tag, tt.v, got)
			} else if !errors.Is(err, compat.EBADMSG) {
				t.Errorf("%v %q: %v, want EBADMSG", tt.tag, tt.v, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v %q: %v", tt.tag, tt.v, err)
		} else if s := got.UTC().Format(time.RFC3339); s != tt.want {
			t.Errorf("%v %q: %s, want %s", tt.tag, tt.v, s, tt.want)
		}
	}
}

// TestSignRefusesUndecodableTimeAdv: a signing time the kernel cannot decode is refused when
// signing; the earliest it decodes signs and parses back.
func TestSignRefusesUndecodableTimeAdv(t *testing.T) {
	for _, tt := range []struct {
		when time.Time
		ok   bool
	}{
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), false},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(1970, 1, 1, 5, 0, 0, 0, time.FixedZone("x", 5*3600)), true}, // 00:00 UTC
	} {
		_, err := buildSignedAttributes(make([]byte, 32), tt.when)
		if (err == nil) != tt.ok {
			t.Errorf("%v: error %v, want ok %v", tt.when, err, tt.ok)
		}
	}
}
