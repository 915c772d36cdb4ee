package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/bpfsig/bpfsig/compat"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MaxSignatureSize is the largest signature_size a 6.18.y kernel accepts in BPF_PROG_LOAD;
// larger signatures get EINVAL before any parsing.
const MaxSignatureSize = 8192

// verifyState is the per-call bookkeeping the kernel keeps in its structures.
type verifyState struct {
	m       *message
	content []byte
	trust   []trustedKey
	si      map[*signerInfo]*signerState
	certs   map[*embeddedCert]*certState
}

type signerState struct {
	digest      []byte // digest that the signature covers
	signer      *embeddedCert
	unsupported bool
}

type certState struct {
	signer   *embeddedCert
	seen     bool
	verified bool
}

// trustedKey is a certificate in the emulated keyring, with the ids the kernel gives the
// key (asymmetric_key_ids: id[0] serial||issuer, id[1] subjectKeyIdentifier).
type trustedKey struct {
	cert *x509.Certificate
	pub  *kernelPubKey
	id0  []byte
	id1  []byte
}

// Verify checks der, a detached CMS signature over content, the way a 6.18 kernel checks a
// BPF program signature against a keyring holding the trust certificates
// (bpf_prog_verify_signature → verify_pkcs7_signature), and returns the kernel's errno:
//
//  1. len(der) > MaxSignatureSize: EINVAL (the bpf syscall's own check, before parsing).
//  2. pkcs7_parse_message: see [Parse] (EBADMSG, EINVAL, ENOPKG, EKEYREJECTED).
//  3. pkcs7_supply_detached_data: a blob that carries its own content: EBADMSG.
//  4. pkcs7_verify: eContentType must be id-data (EKEYREJECTED). For each SignerInfo the
//     content is digested (a digest Go cannot compute: ENOPKG, which only fails the whole
//     check when every SignerInfo has it); with signed attributes the messageDigest must have
//     the digest's length (EBADMSG) and value (EKEYREJECTED). If a certificate embedded in
//     the blob matches the signer by issuer+serial (the kernel does not match embedded
//     certificates by SKID), the signing time must lie in its validity (EKEYREJECTED) and the
//     signature is checked with it, the raw error being returned (EKEYREJECTED for a wrong
//     digest; for RSA, EINVAL for a wrong length or a decrypted block that does not start
//     00 01-ish as rsassa_pkcs1_verify sees it, EBADMSG for bad padding; see [kernelVerify]).
//  5. pkcs7_validate_trust: the key must be in trust, found by the embedded chain's ids or,
//     failing that, directly by the signer identifier (SKID or issuer+serial); embedded
//     certificates are never trusted themselves. No match: ENOKEY. A match whose check
//     fails, for whatever reason: EKEYREJECTED. A signer id that is empty (for example a
//     v3 SignerInfo naming issuer+serial) makes the keyring search fail with EINVAL.
//
// The Signature is returned whenever the blob parsed, also with an error.
func Verify(content, der []byte, trust []*x509.Certificate) (*Signature, error) {
	if len(der) > MaxSignatureSize {
		return nil, errno(compat.EINVAL, "signature of %d bytes exceeds the kernel's limit of %d", len(der), MaxSignatureSize)
	}
	return VerifyAnySize(content, der, trust)
}

// pkcs7Verify is pkcs7_verify with usage VERIFYING_BPF_SIGNATURE.
func (st *verifyState) pkcs7Verify() error {
	if !st.m.dataType.Equal(oidData) {
		return errno(compat.EKEYREJECTED, "invalid BPF signature: content type %v is not pkcs7-data", st.m.dataType)
	}
	// enopkg is the answer while no SignerInfo could be checked; noneYet means it is still
	// the generic one, built only if it is returned.
	var enopkg error
	noneYet := true
	for _, si := range st.m.signers {
		ss := &signerState{}
		st.si[si] = ss
		if err := st.verifyOne(si, ss); err != nil {
			if errors.Is(err, compat.ENOPKG) {
				ss.unsupported = true
				enopkg, noneYet = err, false
				continue
			}
			return err
		}
		enopkg, noneYet = nil, false
	}
	if noneYet {
		return errno(compat.ENOPKG, "no SignerInfo uses algorithms that can be checked")
	}
	return enopkg
}

// verifyOne is pkcs7_verify_one: digest, find an embedded signer certificate, check.
func (st *verifyState) verifyOne(si *signerInfo, ss *signerState) error {
	h := si.digest.hash
	if h == 0 || !h.Available() {
		return errno(compat.ENOPKG, "digest %s not available", si.digest.name)
	}
	hh := h.New()
	hh.Write(st.content)
	digest := hh.Sum(nil)
	if si.authattrs != nil {
		if si.msgDigest == nil {
			return errno(compat.EKEYREJECTED, "no messageDigest attribute")
		}
		if len(si.msgDigest) != len(digest) {
			return errno(compat.EBADMSG, "messageDigest attribute has %d bytes, %s gives %d", len(si.msgDigest), si.digest.name, len(digest))
		}
		if !bytes.Equal(si.msgDigest, digest) {
			return errno(compat.EKEYREJECTED, "messageDigest attribute does not match the content")
		}
		// The signature covers the attributes, re-tagged from [0] IMPLICIT to SET OF.
		hh.Reset()
		hh.Write([]byte{0x31})
		hh.Write(si.authattrs[1:])
		digest = hh.Sum(nil)
	}
	ss.digest = digest

	// pkcs7_find_key: embedded certificates are matched by issuer+serial id only.
	for _, c := range st.m.certs {
		if bytes.Equal(c.id, si.kid) {
			ss.signer = c
			break
		}
	}
	if ss.signer == nil {
		return nil
	}
	cert := ss.signer.cert
	if si.hasSigningTime && (si.signingTime.Before(cert.notBefore) || si.signingTime.After(cert.notAfter)) {
		return errno(compat.EKEYREJECTED, "message signed at %s, outside the embedded certificate's validity", si.signingTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if err := publicKeyVerify(cert.pub, si, digest); err != nil {
		return err
	}
	return st.verifyChain(ss.signer)
}

// verifyChain is pkcs7_verify_sig_chain over the embedded certificates, following
// authorityKeyIdentifier → subjectKeyIdentifier links.
func (st *verifyState) verifyChain(x *embeddedCert) error {
	for _, c := range st.certs {
		c.seen = false
	}
	for {
		xs := st.certs[x]
		xs.seen = true
		if x.unsupportedSig {
			return nil
		}
		if x.selfSigned {
			xs.signer = x
			return nil
		}
		auth := x.cert.authIDs
		var p *embeddedCert
		switch {
		case auth[0] != nil:
			for _, c := range st.m.certs {
				if bytes.Equal(c.id, auth[0]) {
					p = c
					break
				}
			}
			if p != nil && auth[1] != nil && !bytes.Equal(p.skid, auth[1]) {
				return errno(compat.EKEYREJECTED, "embedded certificate %q: issuer matched by serial but not by keyIdentifier", x.cert.subject)
			}
		case auth[1] != nil:
			for _, c := range st.m.certs {
				if len(c.skid) > 0 && bytes.Equal(c.skid, auth[1]) {
					p = c
					break
				}
			}
		}
		if p == nil {
			return nil // top of the chain we have
		}
		if st.certs[p].seen {
			return nil // loop
		}
		if err := verifyCertBy(p.cert.pub, x.cert); err != nil {
			return fmt.Errorf("cms: embedded certificate %q: signature by %q does not verify: %w", x.cert.subject, p.cert.subject, err)
		}
		if p == x {
			xs.signer = p
			return nil
		}
		xs.signer = p
		x = p
	}
}

// errNoKey is the sentinel for "no key in the keyring" inside validateTrust.
var errNoKey = errno(compat.ENOKEY, "no matching key")

// findKey is find_asymmetric_key(keyring, id0, id1, NULL, false).
func (st *verifyState) findKey(id0, id1 []byte) (*trustedKey, error) {
	lookup := id0
	if lookup == nil {
		lookup = id1
	}
	if len(lookup) == 0 {
		// asymmetric_key_hex_to_key_id("") fails the keyring search with EINVAL.
		return nil, errno(compat.EINVAL, "empty key identifier (signer identifier form does not match the SignerInfo version)")
	}
	for i := range st.trust {
		k := &st.trust[i]
		if !bytes.Equal(k.id0, lookup) && !(len(k.id1) > 0 && bytes.Equal(k.id1, lookup)) {
			continue
		}
		if id0 != nil && id1 != nil && (len(k.id1) == 0 || !bytes.Equal(k.id1, id1)) {
			return nil, errno(compat.EKEYREJECTED, "key matches the first id but not the subjectKeyIdentifier")
		}
		return k, nil
	}
	return nil, errNoKey
}

// validateTrust is pkcs7_validate_trust.
func (st *verifyState) validateTrust() error { return st.validateTrustEach(nil) }

// validateTrustEach is pkcs7_validate_trust, calling verified(i) for each signer i that
// validated (sinfo->verified).
func (st *verifyState) validateTrustEach(verified func(i int)) error {
	for _, c := range st.certs {
		c.seen = false
	}
	// cached starts as the no-key error, built only if it is the answer (noKey).
	var cached error
	noKey := true
	sawENOPKG := false
	for i, si := range st.m.signers {
		err := st.validateTrustOne(si)
		switch {
		case err == nil:
			if verified != nil {
				verified(i)
			}
			cached, noKey = nil, false
		case errors.Is(err, compat.ENOKEY):
			continue
		case errors.Is(err, compat.ENOPKG):
			if (noKey || cached != nil) && !sawENOPKG {
				cached, noKey = err, false
				sawENOPKG = true
			}
		default:
			return err
		}
	}
	if noKey {
		return st.noKeyError()
	}
	return cached
}

// newVerifyState prepares the verification of message m over content against trust: the
// trusted keys as the kernel would have loaded them (a certificate it could not load is left
// out).
func newVerifyState(m *message, content []byte, trust []*x509.Certificate) *verifyState {
	st := &verifyState{m: m, content: content, si: map[*signerInfo]*signerState{}, certs: map[*embeddedCert]*certState{}}
	for _, c := range m.certs {
		st.certs[c] = &certState{}
	}
	for _, c := range trust {
		if c == nil {
			continue
		}
		id0, err := certKeyID(c)
		if err != nil {
			continue // the kernel would not have loaded it
		}
		pub, err := parseSPKI(c.RawSubjectPublicKeyInfo)
		if err != nil {
			continue // the kernel would not have loaded it
		}
		st.trust = append(st.trust, trustedKey{cert: c, pub: pub, id0: id0, id1: c.SubjectKeyId})
	}
	return st
}

func (st *verifyState) noKeyError() error {
	if len(st.m.signers) == 0 {
		return errno(compat.ENOKEY, "no signer")
	}
	si := st.m.signers[0]
	id := "skid:" + hex.EncodeToString(si.skid)
	if si.form == IssuerSerial {
		id = "issuer:" + nameString(si.issuerRaw) + ",serial:" + hex.EncodeToString(si.rawSerial)
	}
	return errno(compat.ENOKEY, "PKCS#7 signature not signed with a trusted key (signer %s; %d certificate(s) in the keyring)", id, len(st.trust))
}

// validateTrustOne is pkcs7_validate_trust_one.
func (st *verifyState) validateTrustOne(si *signerInfo) error {
	ss := st.si[si]
	if ss.unsupported {
		return errno(compat.ENOPKG, "unsupported crypto (cached)")
	}
	// What the matched key must verify: the SignerInfo's signature, or a certificate's.
	var subject *embeddedCert // nil: the SignerInfo signature
	var last *embeddedCert
	var key *trustedKey
	var x *embeddedCert
	for x = ss.signer; x != nil; x = st.certs[x].signer {
		xs := st.certs[x]
		if xs.seen {
			if xs.verified {
				return nil
			}
			return errNoKey
		}
		xs.seen = true
		if k, err := st.findKey(x.id, x.skid); err == nil {
			key = k
			goto matched
		}
		if xs.signer == x {
			return errno(compat.ENOKEY, "self-signed certificate %q embedded in the signature is not in the keyring", x.cert.subject)
		}
		last = x
		subject = x
	}
	if last != nil && (last.cert.authIDs[0] != nil || last.cert.authIDs[1] != nil) {
		k, err := st.findKey(last.cert.authIDs[0], last.cert.authIDs[1])
		if err == nil {
			key, x = k, last
			goto matched
		}
		if !errors.Is(err, compat.ENOKEY) {
			return err
		}
	}
	// Last resort: a trusted key that matches the SignerInfo directly.
	{
		k, err := st.findKey(si.kid, nil)
		if err != nil {
			if errors.Is(err, compat.ENOKEY) {
				return st.noKeyError()
			}
			return err
		}
		key, x, subject = k, nil, nil
	}

matched:
	var err error
	if subject == nil {
		err = publicKeyVerify(key.pub, si, ss.digest)
	} else {
		err = verifyCertBy(key.pub, subject.cert)
	}
	if err != nil {
		return fmt.Errorf("cms: signature rejected by trusted key %q (%v): %w", key.cert.Subject.String(), unwrapMessage(err), compat.EKEYREJECTED)
	}
	if x != nil {
		st.certs[x].verified = true
		for p := ss.signer; p != nil && p != x; p = st.certs[p].signer {
			st.certs[p].verified = true
		}
	}
	return nil
}

// unwrapMessage strips the "cms: " prefix and the errno suffix of an inner error, for
// nesting its text in another message.
func unwrapMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "cms: ")
	var e compat.Errno
	if errors.As(err, &e) {
		s = strings.TrimSuffix(s, ": "+e.Error())
	}
	return s
}

// publicKeyVerify is public_key_verify_signature for a SignerInfo signature over digest.
func publicKeyVerify(pub *kernelPubKey, si *signerInfo, digest []byte) error {
	return kernelVerify(pub, si.pkeyAlgo, signerEncoding(si.pkeyAlgo), si.digest.name, si.digest.hash, si.signature, digest)
}

// digestInfoPrefix returns the DER DigestInfo header (everything before the digest bytes).
// The result is shared: callers must not modify it.
func digestInfoPrefix(h crypto.Hash) ([]byte, error) {
	if p := digestInfoPrefixes()[h]; p != nil {
		return p, nil
	}
	return nil, errno(compat.ENOPKG, "no PKCS#1 DigestInfo for %v", h)
}

// digestInfoPrefixes holds the DigestInfo header of every digest the kernel knows and Go
// computes (kernelDigests), built once.
var digestInfoPrefixes = sync.OnceValue(func() map[crypto.Hash][]byte {
	out := map[crypto.Hash][]byte{}
	for _, d := range kernelDigests {
		if d.hash == 0 {
			continue
		}
		h := d.hash
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(algorithmIdentifier(d.oid, true))
			b.AddASN1OctetString(make([]byte, h.Size()))
		})
		full := b.BytesOrPanic()
		out[h] = full[: len(full)-h.Size() : len(full)-h.Size()]
	}
	return out
})
