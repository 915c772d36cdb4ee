// Command outside is a program outside the bpfsig module that does, with its public packages
// only, what the bpfsig command does on the bundled fixtures: open and inspect, verify (as
// detected and on a kernel profile), sign for every scheme, write atomically, compare, migrate a
// tree under a policy, walk trees, two-phase signing (one file and a tree) with signatures made
// elsewhere, keygen and a restricted keyring, signed map values, fs-verity digests and
// signatures, (on Linux as root) the running kernel, and (with BPFSIG_ORACLE=1) the VM kernel as
// signature judge. It prints one "ok", "skip" or "FAIL" line per check and exits 1 if any failed.
//
//	go run . [REPO]     # REPO: the bpfsig source tree (default ../..), for its testdata
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/fsverity"
	"github.com/bpfsig/bpfsig/keygen"
	"github.com/bpfsig/bpfsig/livekernel"
	"github.com/bpfsig/bpfsig/mapvalue"
	"github.com/bpfsig/bpfsig/migrate"
	"github.com/bpfsig/bpfsig/oracle"
	"github.com/bpfsig/bpfsig/policy"
	"github.com/bpfsig/bpfsig/twophase"
)

var failures int

func check(name string, err error, detail string, args ...any) {
	if err != nil {
		failures++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	fmt.Printf("ok   %s: %s\n", name, fmt.Sprintf(detail, args...))
}

func skip(name, why string) { fmt.Printf("skip %s: %s\n", name, why) }

func main() {
	repo := "../.."
	if len(os.Args) > 1 {
		repo = os.Args[1]
	}
	tmp, err := os.MkdirTemp("", "bpfsig-outside-")
	if err != nil {
		fmt.Println("FAIL tempdir:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	run(repo, tmp)
	if failures > 0 {
		fmt.Printf("%d check(s) failed\n", failures)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}

func run(repo, tmp string) {
	fixtures := filepath.Join(repo, "testdata", "minimal")
	keyFile := filepath.Join(repo, "testdata", "keys", "test-rsa2048.key.pem")
	certFile := filepath.Join(repo, "testdata", "keys", "test-rsa2048.crt.pem")

	// open + inspect
	sks := map[string]*bpfsig.Skeleton{}
	for _, n := range []string{"unsigned", "legacy-v1", "legacy-v2", "raw", "chain"} {
		sk, err := bpfsig.Open(filepath.Join(fixtures, n+".skel.h"))
		if err != nil {
			check("open "+n, err, "")
			continue
		}
		sks[n] = sk
		r := sk.Inspect()
		var e error
		if r.Error != "" {
			e = errors.New(r.Error)
		}
		check("inspect "+n, e, "scheme %s generation %s, %d insn slots, %d maps, %d progs", r.Scheme, r.Generation, r.InsnSlots, r.Loader.Maps, r.Loader.Programs)
	}
	if len(sks) != 5 {
		return
	}
	var dis bytes.Buffer
	err := sks["legacy-v2"].Disasm(&dis)
	if err == nil && dis.Len() == 0 {
		err = errors.New("empty disassembly")
	}
	check("disasm legacy-v2", err, "%d lines", strings.Count(dis.String(), "\n"))
	if si, err := bpfsig.ParseSignature(sks["raw"].Sig()); err != nil {
		check("signature raw", err, "")
	} else {
		check("signature raw", nil, "%s %s/%s", si.Signer, si.Algorithm, si.Digest)
	}

	// verify as detected and on a kernel profile
	trust, err := bpfsig.LoadTrust(certFile)
	if err != nil {
		check("trust", err, "")
		return
	}
	check("trust", nil, "%d certificate(s)", len(trust.Certs))
	for _, n := range []string{"legacy-v1", "legacy-v2", "raw", "chain"} {
		v := bpfsig.Verify(sks[n], trust)
		check("verify "+n, okVerdict(v), "%s %s", v.Artifact, v.Generation)
	}
	if v := bpfsig.Verify(sks["unsigned"], trust); v.OK() {
		check("verify unsigned", errors.New("an unsigned skeleton verified"), "")
	} else {
		check("verify unsigned", nil, "rejected: %s", v.Reason)
	}
	// On a 6.18 kernel the legacy skeletons load; a raw one, whose signature covers the
	// metadata too, is refused: 6.18 checks it over the instructions alone.
	for _, c := range [][2]string{{"legacy-v2", "OK"}, {"raw", "rejected at admission EKEYREJECTED"}} {
		n, want := c[0], c[1]
		sk := sks[n]
		v, err := bpfsig.VerifyOnKernel(sk, "6.18", bpfsig.HostProcedure(sk), trust)
		if err == nil && verdictString(v) != want {
			err = fmt.Errorf("%s, want %s", verdictString(v), want)
		}
		check("verify --kernel 6.18 "+n, err, "%s", want)
	}

	// sign for every scheme, write atomically, read back
	signer, err := bpfsig.LoadSigner(keyFile, certFile)
	check("signer", err, "%s", signerName(signer))
	if signer == nil {
		return
	}
	for _, t := range []bpfsig.Target{{Scheme: bpfsig.Raw}, {Scheme: bpfsig.Legacy, Generation: bpfsig.V1}, {Scheme: bpfsig.Chain}, {Scheme: "hornet"}} {
		name := "sign " + string(t.Scheme)
		out, err := bpfsig.Sign(sks["unsigned"], signer, t)
		if err != nil {
			check(name, err, "")
			continue
		}
		path := filepath.Join(tmp, string(t.Scheme)+".skel.h")
		if err := out.WriteFile(path); err != nil {
			check(name, err, "")
			continue
		}
		back, err := bpfsig.Open(path)
		if err == nil && !bytes.Equal(back.Bytes(), out.Bytes()) {
			err = errors.New("written file differs from the signed skeleton")
		}
		if err == nil {
			err = okVerdict(bpfsig.Verify(back, trust))
		}
		check(name, err, "%s %s, %d-byte signature, written and verified", back.Scheme(), back.Generation(), len(back.Sig()))
	}

	// compare: as-is, application × kernel matrix, tamper
	vs, err := compare.AsIs(sks["legacy-v2"], trust)
	check("compare as-is legacy-v2", err, "%s", verdictList(vs))
	km, err := compare.Kernels(sks["legacy-v2"], trust, nil, nil)
	loads := 0
	for _, c := range km {
		if c.Loads() {
			loads++
		}
	}
	check("compare kernels legacy-v2", err, "%d cells, loads on %d", len(km), loads)
	rows, err := compare.Tamper(sks["legacy-v2"], signer, compare.Scenarios, compare.Columns())
	agreeIntact := ""
	for _, r := range rows {
		if r.Scenario.Name == "intact" {
			for _, c := range r.Cells {
				if c.Verdict != nil {
					agreeIntact += fmt.Sprintf(" %s=%s", c.Column.Name, verdictString(c.Verdict))
				}
			}
		}
	}
	check("compare tamper legacy-v2", err, "%d scenarios; intact:%s", len(rows), agreeIntact)

	// migrate a temporary tree with a policy
	src, dst := filepath.Join(tmp, "src"), filepath.Join(tmp, "dst")
	err = os.MkdirAll(src, 0o755)
	for _, n := range []string{"legacy-v1", "legacy-v2"} {
		if err == nil {
			err = bpfsig.WriteFileAtomic(filepath.Join(src, n+".skel.h"), sks[n].Bytes(), 0o644)
		}
	}
	pol, perr := policy.ParsePolicy("policy.yaml", []byte("default:\n  scheme: raw\nrules:\n  - path: legacy-v1.skel.h\n    scheme: legacy\n    generation: v2\n"))
	if err == nil {
		err = perr
	}
	if err == nil {
		var sum *migrate.Summary
		sum, err = migrate.Run(context.Background(), []string{src}, migrate.Options{Out: dst, Signer: signer, Trust: trust, Policy: pol})
		if err == nil && !sum.OK() {
			err = fmt.Errorf("migration not OK: %s", sum)
		}
		if err == nil {
			got := ""
			for _, f := range []string{"legacy-v1", "legacy-v2"} {
				sk, oerr := bpfsig.Open(filepath.Join(dst, f+".skel.h"))
				if oerr != nil {
					err = oerr
					break
				}
				if verr := okVerdict(bpfsig.Verify(sk, trust)); verr != nil {
					err = verr
				}
				got += fmt.Sprintf(" %s→%s %s", f, sk.Scheme(), sk.Generation())
			}
			check("migrate with policy", err, "%d migrated:%s", sum.Migrated, got)
		} else {
			check("migrate with policy", err, "")
		}
	} else {
		check("migrate with policy", err, "")
	}

	// tbs + attach, the signature made outside bpfsig's signer (a sign-file style PKCS#7)
	p, err := bpfsig.Prepare(sks["unsigned"], bpfsig.Target{Scheme: bpfsig.Raw})
	if err == nil {
		err = bpfsig.WriteFileAtomic(filepath.Join(tmp, "app.tbs"), p.Content(), 0o644)
	}
	var detached []byte
	if err == nil {
		detached, err = localSignature(p.Content(), signer)
	}
	if err == nil {
		var sig *twophase.Signature
		sig, err = twophase.ParseSignature(detached, twophase.Auto)
		if err == nil {
			var res *twophase.Result
			res, err = twophase.AttachVerified(p, sig, signer.Cert, twophase.Options{Normalize: true})
			if err == nil {
				err = okVerdict(bpfsig.Verify(res.Skeleton, trust))
				check("tbs + attach", err, "%d bytes to sign; attached %s (normalized %t), verifies", len(p.Content()), res.Signer, res.Normalized)
			} else {
				check("tbs + attach", err, "")
			}
		} else {
			check("tbs + attach", err, "")
		}
	} else {
		check("tbs + attach", err, "")
	}

	// the directory arguments of verify/inspect, and tbs DIR / attach DIR for a tree
	w, err := bpfsig.WalkSkeletons(src)
	if err == nil && len(w.Files) != 2 {
		err = fmt.Errorf("walk found %v", w.Files)
	}
	check("walk tree", err, "%d headers under the migration source", len(w.Files))
	tbsDir, attached := filepath.Join(tmp, "tbs"), filepath.Join(tmp, "attached")
	man, frs, err := twophase.WriteTree([]string{src}, tbsDir, twophase.TreeOptions{Policy: pol})
	if err == nil && len(man.Entries) != 2 {
		err = fmt.Errorf("manifest has %d entries (%v)", len(man.Entries), frs)
	}
	for i := 0; err == nil && i < len(man.Entries); i++ {
		e := man.Entries[i]
		var tbs, sig []byte
		if tbs, err = os.ReadFile(filepath.Join(tbsDir, filepath.FromSlash(e.TBS))); err == nil {
			if sig, err = localSignature(tbs, signer); err == nil {
				err = bpfsig.WriteFileAtomic(filepath.Join(tbsDir, filepath.FromSlash(e.Name)+twophase.SigSuffix), sig, 0o644)
			}
		}
	}
	if err == nil {
		frs, err = twophase.AttachTree([]string{src}, twophase.AttachTreeOptions{Sigs: tbsDir, Cert: signer.Cert, Out: attached, Options: twophase.Options{Normalize: true}})
	}
	if err == nil && len(frs) != 2 {
		err = fmt.Errorf("attach reports %d files, want 2", len(frs))
	}
	got := ""
	for _, fr := range frs {
		if err == nil && fr.Outcome != twophase.Written {
			err = fmt.Errorf("%s: %s %s", fr.Source, fr.Outcome, fr.Reason)
		}
		if err == nil {
			sk, oerr := bpfsig.Open(fr.Output)
			if oerr == nil {
				oerr = okVerdict(bpfsig.Verify(sk, trust))
			}
			err = oerr
			got += fmt.Sprintf(" %s→%s", fr.Name, fr.Scheme)
		}
	}
	check("tbs + attach tree", err, "%d attached and verified:%s", len(frs), got)

	// keygen + restrict-to
	rootKey, rootCert, err := keygen.Generate(keygen.P256, keygen.CertOptions{Subject: "outside root", CA: true})
	if err != nil {
		check("keygen", err, "")
		return
	}
	delKey, delCert, err := keygen.Generate(keygen.P256, keygen.CertOptions{Issuer: rootKey, IssuerCert: rootCert})
	_, strayCert, err2 := keygen.Generate(keygen.P256, keygen.CertOptions{Subject: "stray"})
	if err == nil {
		err = err2
	}
	check("keygen", err, "root %q, delegated %q", rootCert.Subject.CommonName, delCert.Subject.CommonName)
	if err == nil {
		restricted, refused := bpfsig.NewTrust(delCert, strayCert).RestrictTo([]*x509.Certificate{rootCert})
		signed, serr := bpfsig.Sign(sks["unsigned"], &bpfsig.Signer{Key: delKey, Cert: delCert}, bpfsig.Target{Scheme: bpfsig.Raw})
		if serr == nil {
			serr = okVerdict(bpfsig.Verify(signed, restricted))
		}
		if serr == nil && (len(restricted.Certs) != 1 || len(refused) != 1) {
			serr = fmt.Errorf("restricted keyring kept %d, refused %d; want 1 and 1", len(restricted.Certs), len(refused))
		}
		detail := ""
		if len(refused) == 1 {
			detail = refused[0].Errno.Name()
		}
		check("restrict-to", serr, "delegated key kept and verifies; stray refused (%s)", detail)
	}

	// mapvalue sign/verify
	data := []byte("map value signed by the outside program\n")
	val, err := mapvalue.Sign(data, signer.Key, signer.Cert, mapvalue.SignOptions{ValueSize: 4096})
	if err == nil {
		var r *mapvalue.Result
		r, err = mapvalue.Verify(val, trust.Certs)
		if err == nil && r.VerifiedLen != len(data) {
			err = fmt.Errorf("verified length %d, want %d", r.VerifiedLen, len(data))
		}
		if err == nil {
			bad := bytes.Clone(val)
			bad[4] ^= 1
			_, verr := mapvalue.Verify(bad, trust.Certs)
			e, ok := bpfsig.ErrnoOf(verr)
			if verr == nil || !ok {
				err = fmt.Errorf("tampered value: %v (errno %v)", verr, ok)
			} else {
				check("mapvalue", nil, "%d-byte value, %d bytes verified by %s; tampered: %s", len(val), r.VerifiedLen, r.Signer, e.Name())
			}
		}
	}
	if err != nil {
		check("mapvalue", err, "")
	}

	// fs-verity digest
	fd, err := fsverity.DigestFile(filepath.Join(fixtures, "raw.skel.h"), fsverity.Params{})
	if err == nil {
		check("fsverity digest", nil, "%s", fd)
		// loader sign / verify: the signature over the formatted digest, as fsverity sign.
		sig, serr := fsverity.Sign(fd, signer.Key, signer.Cert, fsverity.SignOptions{})
		var who *fsverity.Signer
		if serr == nil {
			who, serr = fsverity.Verify(fd, sig, trust.Certs)
		}
		if serr == nil {
			other, _ := fsverity.DigestFile(filepath.Join(fixtures, "raw.skel.h"), fsverity.Params{Salt: []byte{1}})
			if _, verr := fsverity.Verify(other, sig, trust.Certs); verr == nil {
				serr = errors.New("the signature verified over another digest")
			}
		}
		if serr == nil {
			check("fsverity sign + verify", nil, "%d-byte signature by %s", len(sig), who.ID)
		} else {
			check("fsverity sign + verify", serr, "")
		}
	} else {
		check("fsverity digest", err, "")
	}

	// the running kernel
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		skip("probe", "needs Linux and root")
	} else {
		k, err := livekernel.Detect()
		if err != nil {
			check("probe", err, "")
		} else {
			check("probe", nil, "kernel %s usable %t verifies signatures %t", k.Probe.Kernel, k.Usable, k.CanVerify)
			if k.Usable {
				res, err := livekernel.Load(sks["unsigned"], livekernel.LoadOptions{LogSize: livekernel.DefaultLogSize})
				if err == nil && !res.OK {
					err = fmt.Errorf("unsigned fixture failed to load: %s", res.Cell)
				}
				if err == nil {
					check("load unsigned", nil, "%s, %d stages, created %d objects", res.Cell, len(res.Stages), len(res.Created))
				} else {
					check("load unsigned", err, "")
				}
				decided := 0
				var derr error
				for _, r := range rows {
					for _, c := range r.Cells {
						if c.Verdict == nil {
							continue
						}
						d, err := livekernel.Decide(k, r.Scenario.Name, c.Column.Name, c.Case, c.Verdict)
						if err != nil {
							derr = err
						} else if d.Decided {
							decided++
							if !d.Agree {
								derr = fmt.Errorf("%s/%s: model %s, live %s", d.Scenario, d.Column, d.Model, d.Live)
							}
						}
					}
				}
				check("compare --live", derr, "%d tamper cases decided live, all agree with the model", decided)
			}
		}
	}

	// verify --oracle vm: the VM kernel judges each signed fixture's signature over its
	// scheme's signed content (one boot, about 10 s; only with BPFSIG_ORACLE=1).
	vm, err := oracle.Find()
	switch {
	case err != nil:
		skip("oracle", err.Error())
	case os.Getenv("BPFSIG_ORACLE") != "1":
		skip("oracle", "VM found; set BPFSIG_ORACLE=1 to boot it")
	default:
		var cases []oracle.Case
		for _, n := range []string{"legacy-v1", "legacy-v2", "raw", "chain"} {
			sk := sks[n]
			st, lerr := compat.Lookup(sk.Scheme())
			if lerr != nil {
				check("oracle", lerr, "")
				return
			}
			cases = append(cases, oracle.Case{Name: n, Content: st.SignedContent(sk.Artifact()), Signature: sk.Sig(), Certs: [][]byte{trust.Certs[0].Raw}})
		}
		res, st, err := vm.Verify(context.Background(), cases)
		var got []string
		for _, r := range res {
			if r.Errno != 0 && err == nil {
				err = fmt.Errorf("%s: the kernel says %s, the model verified it", r.Name, r.Errno.Name())
			}
			got = append(got, r.Name+"=ok")
		}
		check("oracle", err, "VM kernel agrees: %s (%d cases, %.1fs)", strings.Join(got, " "), st.Cases, st.Boot.Seconds())
	}
}

// localSignature makes a detached PKCS#7 over content the way sign-file does for a module
// (issuer and serial, SHA-256, no signed attributes), taken from a signed map value: a
// signature bpfsig's skeleton signer did not make.
func localSignature(content []byte, s *bpfsig.Signer) ([]byte, error) {
	val, err := mapvalue.Sign(content, s.Key, s.Cert, mapvalue.SignOptions{})
	if err != nil {
		return nil, err
	}
	v, err := mapvalue.Parse(val)
	if err != nil {
		return nil, err
	}
	return v.Signature, nil
}

func okVerdict(v *compat.Verdict) error {
	if v == nil {
		return errors.New("no verdict")
	}
	if !v.OK() {
		return fmt.Errorf("%s", verdictString(v))
	}
	return nil
}

func verdictString(v *compat.Verdict) string {
	if v == nil {
		return "none"
	}
	if v.OK() {
		return "OK"
	}
	if v.Outcome == compat.Accepted {
		return "accepted (" + strings.Join(v.Conformance, "; ") + ")"
	}
	return fmt.Sprintf("rejected at %s %s", v.Stage, v.ErrnoName())
}

func verdictList(vs []*compat.Verdict) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%s=%s", v.Kernel, verdictString(v)))
	}
	return strings.Join(parts, " ")
}

func signerName(s *bpfsig.Signer) string {
	if s == nil || s.Cert == nil {
		return ""
	}
	return s.Cert.Subject.CommonName
}
