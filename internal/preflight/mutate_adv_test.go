package preflight

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
)

// TestMutatedMetadataAdv: every fixture's metadata blob with bytes flipped (a stride through
// the whole blob, three patterns each) or cut short is analyzed or refused, never a panic;
// the result is the same when asked twice; the analysis does not depend on the profile;
// findings come errors first; and the mainline profile only adds to what every kernel
// refuses.
func TestMutatedMetadataAdv(t *testing.T) {
	files := []string{fixture("unsigned"), fixture("legacy-v1"), fixture("legacy-v2"), fixture("raw"), fixture("chain"),
		filepath.Join(testdata, "manyprogs", "manyprogs-33.lskel.h")}
	var refused, withError int
	for _, path := range files {
		f := parseFile(t, path)
		base := FromFile(f, AnyKernel)
		data := base.Data
		var cases [][]byte
		stride := max(1, len(data)/400)
		for i := 0; i < len(data); i += stride {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				m := bytes.Clone(data)
				m[i] ^= x
				cases = append(cases, m)
			}
		}
		for _, n := range []int{0, 1, 7, 8, len(data) / 3, len(data) / 2, len(data) - 8, len(data) - 1} {
			if n >= 0 && n < len(data) {
				cases = append(cases, bytes.Clone(data[:n]))
			}
		}
		cases = append(cases, append(bytes.Clone(data), make([]byte, 64)...))
		for ci, d := range cases {
			any, main := base, base
			any.Data, main.Data = d, d
			main.Profile = Mainline
			inv1, fs1, err1 := Check(any)
			inv2, fs2, err2 := Check(any)
			if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() || !reflect.DeepEqual(inv1, inv2) || !reflect.DeepEqual(fs1, fs2) {
				t.Fatalf("%s case %d: two checks of the same input differ", path, ci)
			}
			invM, fsM, errM := Check(main)
			if (err1 == nil) != (errM == nil) {
				t.Fatalf("%s case %d: the analysis depends on the profile: %v / %v", path, ci, err1, errM)
			}
			if err1 != nil {
				refused++
				continue
			}
			if len(fsM) > 0 && fsM[0].Severity == Error {
				withError++
			}
			if !reflect.DeepEqual(inv1, invM) {
				t.Fatalf("%s case %d: the inventory depends on the profile", path, ci)
			}
			for _, fs := range [][]Finding{fs1, fsM} {
				for i := 1; i < len(fs); i++ {
					if fs[i].Severity > fs[i-1].Severity {
						t.Fatalf("%s case %d: findings not errors first: %v before %v", path, ci, fs[i-1], fs[i])
					}
				}
			}
			for _, a := range fs1 {
				found := false
				for _, b := range fsM {
					if reflect.DeepEqual(a, b) {
						found = true
						break
					}
				}
				if !found {
					t.Fatalf("%s case %d: %v is found for every kernel but not for mainline", path, ci, a)
				}
			}
		}
	}
	// The table reaches both outcomes: loaders the analysis refuses and ones it flags.
	if refused == 0 || withError == 0 {
		t.Errorf("the mutations reached %d refusals and %d error findings: the table tests too little", refused, withError)
	}
	t.Logf("%d refused by the analysis, %d with an error finding", refused, withError)
}
