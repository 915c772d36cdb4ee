package hornet

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// Verdict is Hornet's enum lsm_integrity_verdict (include/linux/security.h, Hornet v7 patches
// 04 and 05), the value Hornet passes to the bpf_prog_load_post_integrity hook.
type Verdict int

// The verdicts, with their kernel values.
const (
	None       Verdict = iota // LSM_INT_VERDICT_NONE: never produced by Hornet
	OK                        // signature and every listed map verified
	Unsigned                  // no signature (attr->signature == 0)
	PartialSig                // signature verified, no Hornet attribute in a verified signer
	UnknownKey                // attr->keyring_id names no keyring
	Unexpected                // a listed map's hash differs from the signed one
	Fault                     // a listed map could not be checked (no map fd, not frozen, no hash op)
	BadSig                    // signature unparsable, failing, or its Hornet attribute malformed
)

var verdictNames = [...]string{"NONE", "OK", "UNSIGNED", "PARTIALSIG", "UNKNOWNKEY", "UNEXPECTED", "FAULT", "BADSIG"}

// String returns the verdict's short name ("OK", "BADSIG", ...).
func (v Verdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// KernelName returns the kernel's name of the verdict ("LSM_INT_VERDICT_OK").
func (v Verdict) KernelName() string { return "LSM_INT_VERDICT_" + v.String() }

// FD is what the loader's fd_array holds at one index, as far as Hornet looks at it. The zero
// value is a frozen ARRAY map whose one element holds Value, which is what a light skeleton's
// loader passes ("__loader.map", frozen before BPF_PROG_LOAD).
type FD struct {
	Value []byte
	// Absent: the loader put nothing usable there. Hornet reads fd_array[index] from user
	// memory with no bound (fd_array_cnt is not consulted); for a light skeleton, whose
	// fd_array is &map_fd, any index but 0 reads past it. Modelled as a failed read or a
	// closed fd: FAULT.
	Absent bool
	// NotMap: an open fd that is not a BPF map (f_op != &bpf_map_fops): FAULT.
	NotMap bool
	// Unfrozen: BPF_MAP_FREEZE was not called (map->frozen false): FAULT.
	Unfrozen bool
	// NoHash: a map type without map_get_hash (v7's base has it for ARRAY only): FAULT.
	NoHash bool
}

// Load is what BPF_PROG_LOAD hands Hornet's bpf_prog_load_integrity hook.
type Load struct {
	// Insn is the program (prog->insnsi, prog->len * 8 bytes): the signed content.
	Insn []byte
	// Signature is the attr->signature buffer; nil models attr->signature == 0, an empty
	// non-nil slice a pointer with attr->signature_size == 0.
	Signature []byte
	// FDArray is the loader's fd_array; an index past its end is Absent.
	FDArray []FD
	// UnknownKeyring: attr->keyring_id is not a system keyring id (0, 1, 2) and
	// lookup_user_key fails for it. The zero value is a keyring holding the trust
	// certificates.
	UnknownKeyring bool
}

// Result is Hornet's judgement of a Load.
type Result struct {
	Verdict Verdict
	// Reason says which check of hornet_check_program / hornet_verify_hashes decided, in one
	// line, naming the kernel function.
	Reason string
	// Err is the underlying failure (a cms error wrapping the kernel's errno, or the decode
	// error), nil for OK, UNSIGNED and UNKNOWNKEY.
	Err error
	// Entries are the attribute's entries as Hornet decoded them (nil when it did not).
	Entries []Entry
	// signed is what hornet_verify_hashes copied into the program's security blob
	// (signed_hashes): the hash of each entry that matched, up to the first failure.
	signed [][]byte
}

// Verify is Check for a light-skeleton-style load: every map in maps is a frozen ARRAY map
// at fd_array[Index] holding Value (other indices absent), the keyring holds trust.
func Verify(insn []byte, maps []Map, sig []byte, trust []*x509.Certificate) Verdict {
	return Check(LoadOf(insn, maps, sig), trust).Verdict
}

// LoadOf builds the Load a light skeleton's loader makes: the maps frozen ARRAY maps at their
// indices, the gaps absent. An index outside 0..255 is dropped: Hornet reads one octet, so it
// can never look there.
func LoadOf(insn []byte, maps []Map, sig []byte) Load {
	l := Load{Insn: insn, Signature: sig}
	for _, m := range maps {
		if m.Index < 0 || m.Index > 255 {
			continue
		}
		for len(l.FDArray) <= int(m.Index) {
			l.FDArray = append(l.FDArray, FD{Absent: true})
		}
		l.FDArray[m.Index] = FD{Value: m.Value}
	}
	return l
}

// Check follows Hornet v7's hornet_check_program and hornet_verify_hashes
// (security/hornet/hornet_lsm.c) step by step; trust stands in for the keyring:
//
//  1. attr->signature == 0: UNSIGNED.
//  2. attr->signature_size == 0: BADSIG.
//  3. pkcs7_parse_message fails: BADSIG (before the keyring is looked at).
//  4. the keyring id resolves to nothing (lookup_user_key): UNKNOWNKEY.
//  5. verify_pkcs7_message_sig(insn, msg, keyring, VERIFYING_BPF_SIGNATURE) fails for any
//     reason (digest mismatch, no trusted key — ENOKEY is BADSIG, not UNKNOWNKEY — bad
//     signature, unsupported algorithm): BADSIG.
//  6. pkcs7_get_authattr(msg, OID_hornet_data) finds nothing in the first verified signer
//     that has authenticated attributes and decodes (a signer without any, such as bpftool's
//     -noattr signatures, ends the search): PARTIALSIG. The last value of the last Hornet
//     attribute of that signer is the one read.
//  7. asn1_ber_decoder(hornet_decoder) fails (see kernel.go; an empty map set fails too): BADSIG.
//  8. for each entry in encoding order, skipping empty hashes: fd_array[index] unreadable or
//     not an fd, not a map, not frozen, no map_get_hash, or map_get_hash failing: FAULT;
//     the map's hash differs from the entry's: UNEXPECTED. The first failing entry decides.
//  9. otherwise OK.
//
// Hornet returns 0 to the syscall with every verdict (only -ENOMEM, and -EFAULT for an
// unreadable signature buffer, are its own errors, not modelled): whether the load fails is
// up to the LSM receiving the verdict. Note also that on kernels whose BPF core verifies
// signatures itself (6.18+), bpf_prog_verify_signature runs before security_bpf_prog_load,
// so a signature that fails there never reaches Hornet; see [CoreCheck].
func Check(l Load, trust []*x509.Certificate) Result {
	if l.Signature == nil {
		return Result{Verdict: Unsigned, Reason: "no signature (attr->signature == 0)"}
	}
	if len(l.Signature) == 0 {
		return Result{Verdict: BadSig, Reason: "attr->signature_size == 0"}
	}
	if _, err := cms.Parse(l.Signature); err != nil {
		return Result{Verdict: BadSig, Reason: "pkcs7_parse_message failed", Err: err}
	}
	if l.UnknownKeyring {
		return Result{Verdict: UnknownKey, Reason: "lookup_user_key(attr->keyring_id) failed"}
	}
	_, signers, err := cms.VerifySigners(l.Insn, l.Signature, trust)
	if err != nil {
		return Result{Verdict: BadSig, Reason: "verify_pkcs7_message_sig failed", Err: err}
	}
	data, found := authAttr(signers)
	if !found {
		return Result{Verdict: PartialSig, Reason: "pkcs7_get_authattr(OID_hornet_data): -ENODATA (the verified signer carries no Hornet attribute)"}
	}
	kentries, err := kernelEntries(data)
	if err != nil {
		return Result{Verdict: BadSig, Reason: "asn1_ber_decoder(hornet_decoder) failed", Err: err}
	}
	entries := make([]Entry, len(kentries))
	for i, e := range kentries {
		entries[i] = Entry{Index: int64(e.index), Hash: bytes.Clone(e.hash)}
	}
	res := Result{Verdict: OK, Reason: "signature and every listed map verified", Entries: entries}
	for i, e := range kentries {
		if e.skip {
			continue
		}
		fault := func(why string) Result {
			res.Verdict = Fault
			res.Reason = fmt.Sprintf("hornet_verify_hashes: entry %d, fd_array[%d]: %s", i, e.index, why)
			res.Err = fmt.Errorf("hornet: %s", res.Reason)
			return res
		}
		var fd FD
		if e.index < len(l.FDArray) {
			fd = l.FDArray[e.index]
		} else {
			fd = FD{Absent: true}
		}
		switch {
		case fd.Absent:
			return fault("no fd there (copy_from_bpfptr_offset or fd_empty)")
		case fd.NotMap:
			return fault("not a BPF map (f_op != &bpf_map_fops)")
		case fd.Unfrozen:
			return fault("map not frozen")
		case fd.NoHash:
			return fault("map type has no map_get_hash")
		}
		if h := MapHash(fd.Value); !bytes.Equal(h[:], e.hash) {
			res.Verdict = Unexpected
			res.Reason = fmt.Sprintf("hornet_verify_hashes: entry %d, fd_array[%d]: map hash %x, signed %x", i, e.index, h, e.hash)
			res.Err = errors.New("hornet: " + res.Reason)
			return res
		}
		res.signed = append(res.signed, bytes.Clone(e.hash))
	}
	return res
}

// ErrRunDenied is Hornet's refusal of BPF_PROG_RUN from user space: the syscall fails with
// EPERM.
var ErrRunDenied = errors.New("hornet: BPF_PROG_RUN denied (EPERM)")

// RunCheck is Hornet's BPF_PROG_RUN hook (hornet_bpf → hornet_check_prog_maps) for a program
// loaded with result r; used are the program's used maps (prog->aux->used_maps: for a light
// skeleton's loader, the one map it references, fd_array[0]). At load Hornet recorded the
// hash of each entry that matched, up to the first failing one (nothing for UNSIGNED,
// PARTIALSIG, UNKNOWNKEY or BADSIG, nor for skipped entries). With nothing recorded the run is
// allowed. Otherwise each used map that is frozen and has a hash op must hash to one of the
// recorded hashes, and the number of such maps must equal the number recorded; else
// ErrRunDenied. Runs from the kernel are
// not checked (not modelled).
func RunCheck(used []FD, r Result) error {
	if len(r.signed) == 0 {
		return nil
	}
	covered := 0
	for i, m := range used {
		if m.Absent || m.NotMap || m.Unfrozen || m.NoHash {
			continue
		}
		h := MapHash(m.Value)
		found := false
		for _, s := range r.signed {
			if bytes.Equal(s, h[:]) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: used map %d hashes to %x, which the signature does not list", ErrRunDenied, i, h)
		}
		covered++
	}
	if covered != len(r.signed) {
		return fmt.Errorf("%w: %d frozen used maps for %d signed hashes", ErrRunDenied, covered, len(r.signed))
	}
	return nil
}

// authAttr is pkcs7_get_authattr(msg, OID_hornet_data) over the signers' verify results.
func authAttr(signers []cms.SignerResult) ([]byte, bool) {
	for _, s := range signers {
		if !s.Verified {
			continue
		}
		if !s.HasAuthAttrs {
			// asn1_ber_decoder over no data fails: the loop breaks with nothing found.
			return nil, false
		}
		var data []byte
		found := false
		for _, a := range s.Attributes {
			if !bytes.Equal(a.RawType, oidContents) {
				continue
			}
			for _, v := range a.Values {
				data, found = contentsOf(v), true // pkcs7_aa_note_attr: the last one wins
			}
		}
		if found {
			return data, true
		}
	}
	return nil, false
}

// contentsOf returns the contents octets of one DER element (as parsed by cms, which only
// keeps well-formed values).
func contentsOf(elem []byte) []byte {
	if len(elem) < 2 {
		return nil
	}
	l := int(elem[1])
	hdr := 2
	if l >= 0x80 {
		hdr += l - 0x80
	}
	if hdr > len(elem) {
		return nil
	}
	return elem[hdr:]
}

// CoreCheck is what a kernel's BPF core (bpf_prog_verify_signature, Linux 6.18's scheme)
// returns for the same signature over Insn, before any LSM runs: nil, or the cms error
// wrapping the errno the syscall fails with (EINVAL over 8192 bytes, EBADMSG, ENOKEY,
// EKEYREJECTED, ...). A nil Signature is not checked there (nil).
func CoreCheck(l Load, trust []*x509.Certificate) error {
	if l.Signature == nil {
		return nil
	}
	_, err := cms.Verify(l.Insn, l.Signature, trust)
	return err
}
