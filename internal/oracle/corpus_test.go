package oracle

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/keys"
)

// This file generates the differential corpus: signatures made with internal/cms over the
// fixtures' signed contents, with many keys and CMS shapes, plus mutations of each. The VM test
// (differential_test.go) has the kernel judge them and compares with cms.Verify.

// fixtureRoot is the project's shared test data.
const fixtureRoot = "../../testdata"

type corpusKey struct {
	name  string
	key   crypto.Signer
	cert  *x509.Certificate
	der   []byte
	wrong string // a key of the same family that did not sign
}

func readFixture(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadCorpusKey(t testing.TB, name, keyPath, certPath, wrong string) *corpusKey {
	t.Helper()
	k, err := keys.LoadSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := keys.LoadCertificates(certPath)
	if err != nil || len(certs) != 1 {
		t.Fatalf("%s: %v (%d certificates)", certPath, err, len(certs))
	}
	return &corpusKey{name: name, key: k, cert: certs[0], der: certs[0].Raw, wrong: wrong}
}

func corpusKeys(t testing.TB) map[string]*corpusKey {
	ks := map[string]*corpusKey{
		"rsa2048": loadCorpusKey(t, "rsa2048", filepath.Join(fixtureRoot, "keys", "test-rsa2048.key.pem"),
			filepath.Join(fixtureRoot, "keys", "test-rsa2048.crt.der"), "other-rsa2048"),
	}
	for _, n := range [][2]string{{"other-rsa2048", "rsa2048"}, {"rsa3072", "rsa4096"}, {"rsa4096", "rsa3072"}, {"p256", "p384"}, {"p384", "p256"}} {
		ks[n[0]] = loadCorpusKey(t, n[0], filepath.Join("testdata", "keys", n[0]+".key.pem"),
			filepath.Join("testdata", "keys", n[0]+".crt.der"), n[1])
	}
	return ks
}

// corpusContents are the signed contents of the three schemes, from the fixtures.
func corpusContents(t testing.TB) []struct {
	name    string
	content []byte
} {
	blob := func(n string) []byte { return readFixture(t, fixtureRoot, "blobs", n) }
	hi, hd := sha256.Sum256(blob("chain.insn")), sha256.Sum256(blob("chain.data"))
	root := sha256.Sum256(append(hi[:], hd[:]...))
	return []struct {
		name    string
		content []byte
	}{
		{"legacy", blob("legacy-v2.insn")},
		{"raw", append(blob("raw.insn"), blob("raw.data")...)},
		{"chain", root[:]},
	}
}

// corpusCase is a Case plus the certificates the model trusts (the keyring's content).
type corpusCase struct {
	Case
	trust []*x509.Certificate
}

// OIDs used by the mutations (DER content octets of the OBJECT IDENTIFIER).
var (
	oidMD5              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1             = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA512           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSAEnc           = cms.OIDRSAEncryption
	oidMD5WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidSHA1WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSAEnc = cms.OIDSHA256WithRSAEncryption
	oidECDSASHA256      = cms.OIDECDSAWithSHA256
	oidECDSASHA384      = cms.OIDECDSAWithSHA384
	oidIDData           = cms.OIDData
	oidSignedDataOID    = cms.OIDSignedData
	oidSMIMECapsAttr    = cms.OIDSMIMECapabilities
	oidMessageDigestA   = cms.OIDMessageDigest
	oidContentTypeA     = cms.OIDContentType
)

func oidNode(oid asn1.ObjectIdentifier) *derNode {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err) // constant OIDs
	}
	n, _, err := parseTLV(b)
	if err != nil {
		panic(err)
	}
	return n
}

// cmsTree locates the parts of a SignedData blob that mutations touch.
type cmsTree struct {
	root       *derNode // ContentInfo
	signedData *derNode
	encap      *derNode
	signerInfo *derNode
	digestAlg  *derNode // SignerInfo digestAlgorithm
	attrs      *derNode // [0] signed attributes, or nil
	sigAlg     *derNode
	sigValue   *derNode
}

func parseCMSTree(der []byte) (*cmsTree, error) {
	nodes, err := parseDER(der)
	if err != nil {
		return nil, err
	}
	if len(nodes) != 1 {
		return nil, fmt.Errorf("%d top-level nodes", len(nodes))
	}
	c := &cmsTree{root: nodes[0]}
	if c.signedData, err = c.root.at(1, 0); err != nil {
		return nil, err
	}
	sd := c.signedData.children
	if len(sd) < 4 {
		return nil, fmt.Errorf("SignedData has %d children", len(sd))
	}
	c.encap = sd[2]
	sis := sd[len(sd)-1]
	if c.signerInfo, err = sis.at(0); err != nil {
		return nil, err
	}
	si := c.signerInfo.children
	if len(si) < 5 {
		return nil, fmt.Errorf("SignerInfo has %d children", len(si))
	}
	c.digestAlg = si[2]
	i := 3
	if si[3].tag[0] == 0xa0 {
		c.attrs = si[3]
		i = 4
	}
	c.sigAlg, c.sigValue = si[i], si[i+1]
	return c, nil
}

type mutation struct {
	name    string
	content func([]byte) []byte           // nil: unchanged
	sig     func(*cmsTree, []byte) []byte // nil: unchanged; returns nil when not applicable
	ring    func(*corpusKey) (KeyringKind, []*corpusKey)
}

func flipAt(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// treeMut clones the tree, applies f and re-encodes; f returns false when not applicable.
func treeMut(f func(c *cmsTree) bool) func(*cmsTree, []byte) []byte {
	return func(t *cmsTree, _ []byte) []byte {
		c, err := parseCMSTree(t.root.encode())
		if err != nil || !f(c) {
			return nil
		}
		return c.root.encode()
	}
}

func setOID(n *derNode, oid asn1.ObjectIdentifier) bool {
	if len(n.children) == 0 {
		return false
	}
	n.children[0] = oidNode(oid)
	return true
}

// setInt replaces a small INTEGER's value.
func setInt(n *derNode, v byte) bool {
	if n.tag[0] != 0x02 {
		return false
	}
	n.value = []byte{v}
	return true
}

func findAttr(attrs *derNode, oid asn1.ObjectIdentifier) *derNode {
	if attrs == nil {
		return nil
	}
	want := oidNode(oid).encode()
	for _, a := range attrs.children {
		if len(a.children) > 0 && bytes.Equal(a.children[0].encode(), want) {
			return a
		}
	}
	return nil
}

// rawLenDelta adds d to the last length octet of the TLV at offset off of b (a header mutation
// that leaves every other byte alone).
func rawLenDelta(b []byte, off int, d int) []byte {
	if off+1 >= len(b) {
		return nil
	}
	i := off + 1
	if b[off]&0x1f == 0x1f {
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return nil
	}
	last := i
	if b[i]&0x80 != 0 {
		last = i + int(b[i]&0x7f)
	}
	if last >= len(b) {
		return nil
	}
	c := bytes.Clone(b)
	c[last] = byte(int(c[last]) + d)
	return c
}

// tlvOffsets returns the offset of every TLV header in a DER blob, in encoding order.
func tlvOffsets(b []byte) []int {
	var offs []int
	var walk func(b []byte, base int)
	walk = func(b []byte, base int) {
		for off := 0; off < len(b); {
			n, rest, err := parseTLV(b[off:])
			if err != nil {
				return
			}
			offs = append(offs, base+off)
			hdr := len(b[off:]) - len(rest) - len(contentOf(n))
			if n.cons {
				walk(b[off+hdr:off+hdr+len(contentOf(n))], base+off+hdr)
			}
			off = len(b) - len(rest)
		}
	}
	walk(b, 0)
	return offs
}

func contentOf(n *derNode) []byte {
	if !n.cons {
		return n.value
	}
	var c []byte
	for _, k := range n.children {
		c = append(c, k.encode()...)
	}
	return c
}

func truncTo(n int) func(*cmsTree, []byte) []byte {
	return func(_ *cmsTree, b []byte) []byte {
		if n <= 0 || n >= len(b) {
			return nil
		}
		return bytes.Clone(b[:n])
	}
}

func ringOf(kind KeyringKind) func(*corpusKey) (KeyringKind, []*corpusKey) {
	return func(*corpusKey) (KeyringKind, []*corpusKey) { return kind, nil }
}

func mutations(keys map[string]*corpusKey) []mutation {
	return []mutation{
		{name: "content-flip-first", content: func(b []byte) []byte { return flipAt(b, 0) }},
		{name: "content-flip-last", content: func(b []byte) []byte { return flipAt(b, len(b)-1) }},
		{name: "content-drop-last", content: func(b []byte) []byte { return bytes.Clone(b[:len(b)-1]) }},
		{name: "content-append-zero", content: func(b []byte) []byte { return append(bytes.Clone(b), 0) }},
		{name: "content-empty", content: func([]byte) []byte { return []byte{} }},

		{name: "sigvalue-flip-first", sig: treeMut(func(c *cmsTree) bool { c.sigValue.value[0] ^= 0x01; return true })},
		{name: "sigvalue-flip-last", sig: treeMut(func(c *cmsTree) bool { c.sigValue.value[len(c.sigValue.value)-1] ^= 0x80; return true })},
		{name: "sigvalue-drop-last", sig: treeMut(func(c *cmsTree) bool { c.sigValue.value = c.sigValue.value[:len(c.sigValue.value)-1]; return true })},
		{name: "sigvalue-empty", sig: treeMut(func(c *cmsTree) bool { c.sigValue.value = nil; return true })},

		{name: "outer-tag-set", sig: func(_ *cmsTree, b []byte) []byte { c := bytes.Clone(b); c[0] = 0x31; return c }},
		{name: "outer-len-plus1", sig: func(_ *cmsTree, b []byte) []byte { return rawLenDelta(b, 0, 1) }},
		{name: "outer-len-minus1", sig: func(_ *cmsTree, b []byte) []byte { return rawLenDelta(b, 0, -1) }},
		{name: "signerinfo-len-plus1", sig: func(_ *cmsTree, b []byte) []byte { return rawLenDelta(b, signerInfoOffset(b), 1) }},
		{name: "signerinfo-len-minus1", sig: func(_ *cmsTree, b []byte) []byte { return rawLenDelta(b, signerInfoOffset(b), -1) }},

		{name: "signeddata-version-swapped", sig: treeMut(func(c *cmsTree) bool { return setInt(c.signedData.children[0], 4-c.signedData.children[0].value[0]) })},
		{name: "signerinfo-version-swapped", sig: treeMut(func(c *cmsTree) bool { return setInt(c.signerInfo.children[0], 4-c.signerInfo.children[0].value[0]) })},
		{name: "both-versions-2", sig: treeMut(func(c *cmsTree) bool {
			return setInt(c.signedData.children[0], 2) && setInt(c.signerInfo.children[0], 2)
		})},

		{name: "digestalg-md5", sig: treeMut(func(c *cmsTree) bool { return setOID(c.digestAlg, oidMD5) })},
		{name: "digestalg-sha1", sig: treeMut(func(c *cmsTree) bool { return setOID(c.digestAlg, oidSHA1) })},
		{name: "digestalg-sha512", sig: treeMut(func(c *cmsTree) bool { return setOID(c.digestAlg, oidSHA512) })},
		{name: "sigalg-sha256WithRSAEncryption", sig: treeMut(func(c *cmsTree) bool { return setOID(c.sigAlg, oidSHA256WithRSAEnc) })},
		{name: "sigalg-md5WithRSAEncryption", sig: treeMut(func(c *cmsTree) bool { return setOID(c.sigAlg, oidMD5WithRSA) })},
		{name: "sigalg-sha1WithRSAEncryption", sig: treeMut(func(c *cmsTree) bool { return setOID(c.sigAlg, oidSHA1WithRSA) })},
		{name: "sigalg-rsaEncryption", sig: treeMut(func(c *cmsTree) bool { return setOID(c.sigAlg, oidRSAEnc) })},
		{name: "sigalg-ecdsa-with-SHA256", sig: treeMut(func(c *cmsTree) bool { return setOID(c.sigAlg, oidECDSASHA256) })},
		{name: "sigalg-ecdsa-with-SHA384", sig: treeMut(func(c *cmsTree) bool { return setOID(c.sigAlg, oidECDSASHA384) })},
		{name: "sigalg-params-dropped", sig: treeMut(func(c *cmsTree) bool {
			if len(c.sigAlg.children) < 2 {
				return false
			}
			c.sigAlg.children = c.sigAlg.children[:1]
			return true
		})},

		{name: "econtenttype-signeddata", sig: treeMut(func(c *cmsTree) bool { return setOID(c.encap, oidSignedDataOID) })},
		{name: "contenttype-data", sig: treeMut(func(c *cmsTree) bool { c.root.children[0] = oidNode(oidIDData); return true })},
		{name: "no-signerinfos", sig: treeMut(func(c *cmsTree) bool {
			sd := c.signedData.children
			sd[len(sd)-1].children = nil
			return true
		})},
		{name: "two-signerinfos", sig: treeMut(func(c *cmsTree) bool {
			sd := c.signedData.children
			sd[len(sd)-1].children = append(sd[len(sd)-1].children, c.signerInfo.clone())
			return true
		})},
		{name: "trailing-garbage", sig: func(_ *cmsTree, b []byte) []byte { return append(bytes.Clone(b), bytes.Repeat([]byte{0xa5}, 16)...) }},

		{name: "truncate-minus1", sig: func(_ *cmsTree, b []byte) []byte { return truncTo(len(b)-1)(nil, b) }},
		{name: "truncate-half", sig: func(_ *cmsTree, b []byte) []byte { return truncTo(len(b)/2)(nil, b) }},
		{name: "truncate-200", sig: truncTo(200)},
		{name: "truncate-16", sig: truncTo(16)},

		{name: "attr-messagedigest-flip", sig: treeMut(func(c *cmsTree) bool {
			a := findAttr(c.attrs, oidMessageDigestA)
			if a == nil {
				return false
			}
			v := a.children[1].children[0]
			v.value[0] ^= 0x01
			return true
		})},
		{name: "attr-messagedigest-removed", sig: treeMut(func(c *cmsTree) bool {
			return removeAttr(c.attrs, oidMessageDigestA)
		})},
		{name: "attr-contenttype-signeddata", sig: treeMut(func(c *cmsTree) bool {
			a := findAttr(c.attrs, oidContentTypeA)
			if a == nil {
				return false
			}
			a.children[1].children[0] = oidNode(oidSignedDataOID)
			return true
		})},
		{name: "attr-smimecap-added", sig: treeMut(func(c *cmsTree) bool {
			if c.attrs == nil {
				return false
			}
			set := &derNode{tag: []byte{0x31}, cons: true, children: []*derNode{{tag: []byte{0x30}, cons: true}}}
			c.attrs.children = append(c.attrs.children, &derNode{tag: []byte{0x30}, cons: true,
				children: []*derNode{oidNode(oidSMIMECapsAttr), set}})
			return true
		})},

		{name: "keyring-wrong-key", ring: func(k *corpusKey) (KeyringKind, []*corpusKey) { return UserKeyring, []*corpusKey{keys[k.wrong]} }},
		{name: "keyring-wrong-and-right", ring: func(k *corpusKey) (KeyringKind, []*corpusKey) {
			return UserKeyring, []*corpusKey{keys[k.wrong], k}
		}},
		{name: "keyring-empty", ring: ringOf(EmptyKeyring)},
		{name: "keyring-builtin", ring: ringOf(BuiltinKeyring)},
	}
}

func removeAttr(attrs *derNode, oid asn1.ObjectIdentifier) bool {
	a := findAttr(attrs, oid)
	if a == nil {
		return false
	}
	for i, c := range attrs.children {
		if c == a {
			attrs.children = append(attrs.children[:i], attrs.children[i+1:]...)
			return true
		}
	}
	return false
}

// signerInfoOffset returns the offset of the first SignerInfo's header in b, or -1.
func signerInfoOffset(b []byte) int {
	t, err := parseCMSTree(b)
	if err != nil {
		return -1
	}
	enc := t.signerInfo.encode()
	return bytes.LastIndex(b, enc)
}

// buildCorpus makes the differential corpus. Names are unique and stable; ECDSA signature bytes
// are random, everything else is deterministic.
func buildCorpus(t testing.TB) []corpusCase {
	keys := corpusKeys(t)
	contents := corpusContents(t)
	muts := mutations(keys)
	rng := rand.New(rand.NewPCG(1, 2))
	signingTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	var out []corpusCase
	add := func(name string, content, sig []byte, kind KeyringKind, ring []*corpusKey) {
		c := corpusCase{Case: Case{Name: name, Content: content, Signature: sig, Keyring: kind}}
		if kind == UserKeyring {
			for _, k := range ring {
				c.Certs = append(c.Certs, k.der)
				c.trust = append(c.trust, k.cert)
			}
		}
		out = append(out, c)
	}

	type base struct {
		name    string
		content []byte
		key     *corpusKey
		opts    cms.SignOptions
	}
	var bases []base
	for _, ct := range contents {
		for _, kn := range []string{"rsa2048", "rsa3072", "rsa4096", "p256", "p384"} {
			for _, sid := range []cms.SignerIDForm{cms.SubjectKeyID, cms.IssuerSerial} {
				for _, certs := range []bool{false, true} {
					for _, attrs := range []bool{false, true} {
						o := cms.SignOptions{SignerID: sid, IncludeCertificate: certs, SignedAttributes: attrs}
						if attrs && certs {
							o.SigningTime = signingTime
						}
						name := fmt.Sprintf("%s/%s/%s/certs=%v/attrs=%v", ct.name, kn, sid, certs, attrs)
						bases = append(bases, base{name, ct.content, keys[kn], o})
					}
				}
			}
		}
	}
	for _, kn := range []string{"rsa2048", "rsa4096", "p256", "p384"} {
		for _, h := range []crypto.Hash{crypto.SHA384, crypto.SHA512} {
			for _, attrs := range []bool{false, true} {
				o := cms.SignOptions{Digest: h, SignedAttributes: attrs}
				bases = append(bases, base{fmt.Sprintf("legacy/%s/%v/attrs=%v", kn, h, attrs), contents[0].content, keys[kn], o})
			}
		}
	}

	for _, b := range bases {
		sig, err := cms.Sign(b.content, b.key.key, b.key.cert, b.opts)
		if err != nil {
			t.Logf("skip base %s: cms.Sign: %v", b.name, err)
			continue
		}
		tree, err := parseCMSTree(sig)
		if err != nil {
			t.Fatalf("base %s: cannot parse own signature: %v", b.name, err)
		}
		self := []*corpusKey{b.key}
		add(b.name, b.content, sig, UserKeyring, self)
		for _, m := range muts {
			content, s, kind, ring := b.content, sig, UserKeyring, self
			if m.content != nil {
				content = m.content(b.content)
			}
			if m.sig != nil {
				if s = m.sig(tree, sig); s == nil {
					continue // not applicable to this shape
				}
			}
			if m.ring != nil {
				kind, ring = m.ring(b.key)
			}
			add(b.name+"/"+m.name, content, s, kind, ring)
		}
		// Seeded random damage: byte flips anywhere and length-octet changes of random TLVs.
		offs := tlvOffsets(sig)
		for i := 0; i < 3; i++ {
			pos := rng.IntN(len(sig))
			c := bytes.Clone(sig)
			c[pos] ^= byte(1 + rng.IntN(255))
			add(fmt.Sprintf("%s/random-flip-%d@%d", b.name, i, pos), b.content, c, UserKeyring, self)
		}
		for i := 0; i < 2; i++ {
			off := offs[rng.IntN(len(offs))]
			d := []int{-1, 1, 2}[rng.IntN(3)]
			if c := rawLenDelta(sig, off, d); c != nil {
				add(fmt.Sprintf("%s/random-len-%d%+d@%d", b.name, i, d, off), b.content, c, UserKeyring, self)
			}
		}
	}

	// Oversize signatures: a valid signature padded with trailing bytes (which the kernel's
	// decoder ignores) to the bpf(2) limit and past it.
	for _, kn := range []string{"rsa2048", "rsa4096", "p256", "p384"} {
		k := keys[kn]
		sig, err := cms.Sign(contents[0].content, k.key, k.cert, cms.SignOptions{})
		if err != nil {
			t.Fatalf("oversize %s: %v", kn, err)
		}
		for _, size := range []int{cms.MaxSignatureSize, cms.MaxSignatureSize + 1, 12000} {
			padded := append(bytes.Clone(sig), make([]byte, size-len(sig))...)
			add(fmt.Sprintf("legacy/%s/oversize-%d", kn, size), contents[0].content, padded, UserKeyring, []*corpusKey{k})
		}
	}
	return out
}

func TestCorpusShape(t *testing.T) {
	cases := buildCorpus(t)
	if len(cases) < 2000 {
		t.Fatalf("corpus has %d cases, want at least 2000", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		if len(c.Content) > MaxContent || len(c.Signature) > MaxSignature {
			t.Errorf("%s: too large for the oracle (%d/%d)", c.Name, len(c.Content), len(c.Signature))
		}
		if (c.Keyring == UserKeyring) != (len(c.trust) > 0) || len(c.trust) != len(c.Certs) {
			t.Errorf("%s: keyring %v with %d certs / %d trusted", c.Name, c.Keyring, len(c.Certs), len(c.trust))
		}
	}
	if _, _, err := encodeBatch(casesOf(cases)); err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus: %d cases", len(cases))
}

func casesOf(cs []corpusCase) []Case {
	out := make([]Case, len(cs))
	for i, c := range cs {
		out[i] = c.Case
	}
	return out
}

func TestMutationHelpers(t *testing.T) {
	sig := readFixture(t, fixtureRoot, "blobs", "legacy-v2.sig")
	tree, err := parseCMSTree(sig)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tree.sigAlg.children[0].encode(), oidSelftestRSA) {
		t.Errorf("sigAlg OID = %x, want rsaEncryption", tree.sigAlg.children[0].encode())
	}
	if len(tree.sigValue.value) != 256 {
		t.Errorf("signature value of %d bytes, want 256 (RSA-2048)", len(tree.sigValue.value))
	}
	offs := tlvOffsets(sig)
	if len(offs) == 0 || offs[0] != 0 {
		t.Fatalf("tlvOffsets = %v", offs)
	}
	if off := signerInfoOffset(sig); off <= 0 || sig[off] != 0x30 {
		t.Errorf("signerInfoOffset = %d", off)
	}
	// The outer length is in long form (82 xx xx): the mutation changes the low octet only.
	got := rawLenDelta(sig, 0, 1)
	if len(got) != len(sig) || got[3] != sig[3]+1 || !bytes.Equal(got[4:], sig[4:]) {
		t.Errorf("rawLenDelta changed the wrong byte")
	}
}

var oidSelftestRSA = oidNode(oidRSAEnc).encode()
