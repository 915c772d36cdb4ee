package cms

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/kerrno"
	"golang.org/x/sys/unix"
)

// errName is the kernel errno name for err ("" for nil, "?" for an error without errno).
func errName(err error) string {
	if err == nil {
		return ""
	}
	if n := kerrno.Name(err); n != "" {
		return n
	}
	return "?"
}

// TestKernelTable reproduces every row of docs/spec.md §6's table of answers a real kernel
// gave (fixtures, test key, keyring holding only the named certificate).
func TestKernelTable(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	kp := testKeyPair(t)
	trust := []*x509.Certificate{kp.cert}
	other := genKeyPair(t, dir, "other", "rsa:2048")
	ec := genEC(t, dir, "p256", "P-256")

	var byName = map[string]fixture{}
	for _, f := range fixtures(t) {
		byName[f.name] = f
	}
	v2 := byName["legacy-v2"]
	raw := byName["raw"]
	chain := byName["chain"]
	rawInsn := readFile(t, testdata+"blobs/raw.insn")

	flipped := append([]byte{}, v2.content...)
	flipped[100] ^= 1

	// SignerInfo signature algorithm rsaEncryption → sha256WithRSAEncryption (same length).
	rsaEnc := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	if bytes.Count(v2.sig, rsaEnc) != 1 {
		t.Fatal("fixture does not contain rsaEncryption exactly once")
	}
	rewritten := bytes.Replace(v2.sig, rsaEnc, []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, 1)

	base := []string{"-nocerts", "-keyid", "-md", "sha256"}
	withAttrs := opensslSign(t, dir, kp, v2.content, append(base, "-nosmimecap")...)
	withSMIME := opensslSign(t, dir, kp, v2.content, base...)
	issuerSerial := opensslSign(t, dir, kp, v2.content, "-noattr", "-nosmimecap", "-nocerts", "-md", "sha256")
	embeddedCert := opensslSign(t, dir, kp, v2.content, "-noattr", "-nosmimecap", "-keyid", "-md", "sha256")
	embeddedContent := opensslSign(t, dir, kp, v2.content, "-noattr", "-nosmimecap", "-nocerts", "-keyid", "-md", "sha256", "-nodetach")
	ecSig := opensslSign(t, dir, ec, v2.content, "-noattr", "-nosmimecap", "-nocerts", "-keyid", "-md", "sha256")

	rows := []struct {
		vector  string
		content []byte
		sig     []byte
		trust   []*x509.Certificate
		want    string
	}{
		{"legacy-v2 opts_sig over opts_insn", v2.content, v2.sig, trust, ""},
		{"same, one instruction byte flipped", flipped, v2.sig, trust, "EKEYREJECTED"},
		{"same, keyring holds a different certificate", v2.content, v2.sig, []*x509.Certificate{other.cert}, "ENOKEY"},
		{"same, keyring empty", v2.content, v2.sig, nil, "ENOKEY"},
		{"signature truncated to 200 bytes", v2.content, v2.sig[:200], trust, "EBADMSG"},
		{"raw opts_sig over opts_insn ‖ opts_data", raw.content, raw.sig, trust, ""},
		{"raw opts_sig over opts_insn only", rawInsn, raw.sig, trust, "EKEYREJECTED"},
		{"chain opts_sig over H(H(insn) ‖ H(data))", chain.content, chain.sig, trust, ""},
		{"ECDSA P-256 legacy signature", v2.content, ecSig, []*x509.Certificate{ec.cert}, ""},
		{"SignerInfo algorithm rewritten to sha256WithRSAEncryption", v2.content, rewritten, trust, "ENOPKG"},
		{"openssl signature with signed attributes (contentType, signingTime, messageDigest)", v2.content, withAttrs, trust, ""},
		{"issuer+serial signer id", v2.content, issuerSerial, trust, ""},
		{"signer certificate embedded", v2.content, embeddedCert, trust, ""},
		{"signed attributes including smimeCapabilities (openssl default)", v2.content, withSMIME, trust, "EKEYREJECTED"},
		{"content embedded (not detached)", v2.content, embeddedContent, trust, "EBADMSG"},
	}
	for _, r := range rows {
		t.Run(r.vector, func(t *testing.T) {
			_, err := Verify(r.content, r.sig, r.trust)
			if got := errName(err); got != r.want {
				t.Fatalf("got %q (%v), kernel said %q", got, err, r.want)
			}
		})
	}
	// Our own signer's variants get the same answers as openssl's.
	for _, opts := range []SignOptions{{SignedAttributes: true, SigningTime: time.Now()}, {SignerID: IssuerSerial}, {IncludeCertificate: true}} {
		der, err := Sign(v2.content, kp.key, kp.cert, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(v2.content, der, trust); err != nil {
			t.Errorf("%+v: %v", opts, err)
		}
	}
}

// Further kernel rules, each derived from the kernel source (pkcs7_parser.c, pkcs7_verify.c,
// pkcs7_trust.c, system_keyring.c, the bpf syscall), with the exact errno.
func TestVerifyRules(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	kp := testKeyPair(t)
	trust := []*x509.Certificate{kp.cert}
	content := readFile(t, testdata+"blobs/legacy-v2.insn")
	good, err := Sign(content, kp.key, kp.cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	goodIS, err := Sign(content, kp.key, kp.cert, SignOptions{SignerID: IssuerSerial})
	if err != nil {
		t.Fatal(err)
	}
	sig := func(opts SignOptions) []byte {
		der, err := Sign(content, kp.key, kp.cert, opts)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	replace := func(der, old, new []byte) []byte {
		if bytes.Count(der, old) != 1 {
			t.Fatalf("pattern %x found %d times", old, bytes.Count(der, old))
		}
		return bytes.Replace(der, old, new, 1)
	}
	sha256OID := []byte{0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}
	md5OID := []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05}

	// Digest algorithm MD5 in the SignerInfo (the SignedData set keeps sha256).
	md5 := append([]byte{}, good...)
	i := bytes.LastIndex(md5, sha256OID)
	md5 = append(append(append([]byte{}, md5[:i-2]...), append([]byte{0x30, 0x0a}, md5OID...)...), md5[i+len(sha256OID):]...)
	md5 = fixLengths(t, md5, -1)

	// Flip the last byte of the RSA signature.
	badSig := append([]byte{}, good...)
	badSig[len(badSig)-1] ^= 1

	// BER: openssl -stream writes indefinite lengths (and embeds the content); toIndefinite
	// rewrites our DER with every constructed element in indefinite form.
	berEmbedded := opensslSign(t, dir, kp, content, "-noattr", "-nosmimecap", "-nocerts", "-keyid", "-md", "sha256", "-stream")
	ber := toIndefinite(t, good)

	// Signing time outside the certificate's validity, with the certificate embedded.
	early := sig(SignOptions{SignedAttributes: true, SigningTime: kp.cert.NotBefore.Add(-48 * time.Hour), IncludeCertificate: true, SignerID: IssuerSerial})
	earlyNoCert := sig(SignOptions{SignedAttributes: true, SigningTime: kp.cert.NotBefore.Add(-48 * time.Hour)})

	// Issuer+serial signature with the SignedData version (the first INTEGER) set to 3.
	v3v1 := append([]byte{}, goodIS...)
	v3v1[bytes.Index(v3v1, []byte{0x02, 0x01, 0x01})+2] = 3

	rows := []struct {
		name    string
		content []byte
		sig     []byte
		trust   []*x509.Certificate
		want    string
	}{
		{"oversized signature (> 8192)", content, append(append([]byte{}, good...), make([]byte, 8193-len(good))...), trust, "EINVAL"},
		{"exactly 8192 with trailing bytes (decoder ignores them)", content, append(append([]byte{}, good...), make([]byte, 8192-len(good))...), trust, ""},
		{"empty signature", content, nil, trust, "EBADMSG"},
		{"garbage", content, []byte("not a signature at all"), trust, "EBADMSG"},
		{"MD5 digest", content, md5, trust, "ENOPKG"},
		{"signature value corrupted", content, badSig, trust, "EKEYREJECTED"},
		{"SignedData v1 with SignerInfo v3", content, replace(good, []byte{0xa0, 0x82, 0x01, 0x64, 0x30, 0x82, 0x01, 0x60, 0x02, 0x01, 0x03}, []byte{0xa0, 0x82, 0x01, 0x64, 0x30, 0x82, 0x01, 0x60, 0x02, 0x01, 0x01}), trust, "EBADMSG"},
		{"SignedData v3 with SignerInfo v1", content, v3v1, trust, "EBADMSG"},
		{"SignedData version 2", content, replace(good, []byte{0x30, 0x82, 0x01, 0x60, 0x02, 0x01, 0x03}, []byte{0x30, 0x82, 0x01, 0x60, 0x02, 0x01, 0x02}), trust, "EINVAL"},
		{"outer content type not signedData", content, replace(good, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03}), trust, "EINVAL"},
		{"BER indefinite lengths everywhere", content, ber, trust, ""},
		{"BER with embedded content (openssl -stream)", content, berEmbedded, trust, "EBADMSG"},
		{"signing time before certificate validity, certificate embedded", content, early, trust, "EKEYREJECTED"},
		{"signing time before certificate validity, no certificate", content, earlyNoCert, trust, ""},
		{"signed attributes, content changed", append([]byte{1}, content...), sig(SignOptions{SignedAttributes: true}), trust, "EKEYREJECTED"},
		{"embedded certificate, key not in keyring", content, sig(SignOptions{IncludeCertificate: true, SignerID: IssuerSerial}), nil, "ENOKEY"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, err := Verify(r.content, r.sig, r.trust)
			if got := errName(err); got != r.want {
				t.Fatalf("got %q (%v), want %q", got, err, r.want)
			}
		})
	}
}

// fixLengths re-encodes the three enclosing definite lengths around the SignerInfo after an
// edit changed its size by delta bytes: it re-parses via the BER normaliser after patching.
func fixLengths(t *testing.T, der []byte, delta int) []byte {
	t.Helper()
	// The blob's constructed elements before the edit point: ContentInfo (0), [0] (4),
	// SignedData (8), signerInfos SET and SignerInfo, all with 2-byte long-form lengths.
	for _, off := range []int{0, 15, 19, 54, 58} {
		if der[off+1] != 0x82 {
			t.Fatalf("unexpected length form at %d", off)
		}
		n := int(der[off+2])<<8 | int(der[off+3])
		n += delta
		der[off+2], der[off+3] = byte(n>>8), byte(n)
	}
	return der
}

// Errors always wrap a compat.Errno and never succeed on mangled input.
func TestVerifyErrorsWrapErrno(t *testing.T) {
	kp := testKeyPair(t)
	for _, f := range fixtures(t) {
		for cut := 0; cut < len(f.sig); cut += 7 {
			_, err := Verify(f.content, f.sig[:cut], []*x509.Certificate{kp.cert})
			if err == nil {
				t.Fatalf("%s cut at %d: accepted", f.name, cut)
			}
			var e compat.Errno
			if !errors.As(err, &e) {
				t.Fatalf("%s cut at %d: %v wraps no errno", f.name, cut, err)
			}
		}
	}
	d := sha256.Sum256(nil)
	if _, err := Verify(d[:], nil, nil); !errors.Is(err, unix.EBADMSG) {
		t.Fatalf("nil signature: %v", err)
	}
}

// toIndefinite re-encodes DER with every constructed element in indefinite-length form.
func toIndefinite(t testing.TB, der []byte) []byte {
	t.Helper()
	var out []byte
	for len(der) > 0 {
		tag := der[0]
		l := int(der[1])
		p := 2
		if l >= 0x80 {
			n := l & 0x7f
			l = 0
			for i := 0; i < n; i++ {
				l = l<<8 | int(der[p])
				p++
			}
		}
		content := der[p : p+l]
		if tag&0x20 != 0 {
			out = append(out, tag, 0x80)
			out = append(out, toIndefinite(t, content)...)
			out = append(out, 0, 0)
		} else {
			out = append(out, der[:p+l]...)
		}
		der = der[p+l:]
	}
	return out
}
