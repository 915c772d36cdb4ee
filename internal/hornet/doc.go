// Package hornet signs light skeletons the way Hornet's gen_sig does and judges them the way
// the Hornet LSM does (Blaise Boscaccy, "Reintroduce Hornet LSM", v7 of 2026-05-07:
// security/hornet/hornet_lsm.c, hornet.asn1, scripts/hornet/gen_sig.c and write-sig.sh,
// Documentation/admin-guide/LSM/Hornet.rst, plus James Bottomley's pkcs7_get_authattr).
//
// Status: see [Status]. Hornet was never merged; Linus Torvalds had it dropped from
// linux-next in June 2026. No released kernel runs it; this package is a model of the
// posted code, checked against the real gen_sig, OpenSSL and a real kernel's PKCS#7 code.
//
// # What a Hornet-signed skeleton looks like
//
// The skeleton is generated as a signed one by bpftool (`bpftool gen skeleton -S -k KEY -i
// CERT -L`), so its header lines are a bpftool -S skeleton's: the `__s32 keyring_id;` field,
// opts_sig and opts_excl_hash literals, and opts.signature, opts.signature_sz,
// opts.excl_prog_hash, opts.excl_prog_hash_sz and opts.keyring_id assignments; there are no
// opts_signature_maps lines (unlike the hash-chain scheme) and the loader keeps its check
// block. Then write-sig.sh replaces the opts_sig literal with gen_sig's signature, on one line
// ([WriteSig]). The map list travels inside the signature, not in the header or in any
// bpf_attr field: BPF_PROG_LOAD passes only signature, signature_size and keyring_id, and
// fd_array = &map_fd as for any light skeleton. The signature is recognised by content
// ([IsHornet]): a signed attribute of type 2.25.316487325684022475439036912669789383960.
//
// # The signature
//
// A detached CMS SignedData over the loader instructions (opts_insn) only, written by
// OpenSSL's CMS_sign/CMS_add1_signer(NOCERTS|PARTIAL|BINARY|NOSMIMECAP|DETACHED)/CMS_final:
// version 1, SHA-256, signer by issuer and serial number, no certificates, and the signed
// attributes, in DER SET OF order,
//
//	contentType   id-data
//	signingTime   the time gen_sig ran (OpenSSL adds it; [Sign] only with SignOptions.SigningTime)
//	messageDigest SHA-256(insn)
//	2.25.316487325684022475439036912669789383960  SET { MapSet }
//
//	MapSet ::= SEQUENCE { maps SET OF Map }          -- gen_sig's MAP_SET, DER-sorted
//	Map    ::= SEQUENCE { index INTEGER, sha OCTET STRING }  -- fd_array index, SHA-256(map file)
//
// The kernel hands Hornet the contents of the attribute's value, that is the SET OF Map,
// which Hornet's hornet.asn1 calls HornetData. Hornet accepts only one-octet indices (0..127
// in DER; 0x80..0xff are read as 128..255), hashes of 32 octets or 0 (skip), and 1 to 63
// entries: gen_sig without --add writes an empty SET, which Hornet's decoder rejects. The kernel's PKCS#7 parser ignores the attribute, so a 6.18 kernel (and the VM
// oracle) accepts the signature as an ordinary one over the instructions.
//
// # Verdicts
//
// [Check] follows hornet_check_program: no signature → UNSIGNED; empty or unparsable → BADSIG;
// unknown keyring → UNKNOWNKEY; verify_pkcs7_message_sig failing (also ENOKEY) → BADSIG; no
// Hornet attribute in the verified signer → PARTIALSIG; attribute not decodable → BADSIG; a
// listed map missing, not a map, not frozen or without a hash op → FAULT; hash mismatch →
// UNEXPECTED; else OK. Hornet itself returns 0 to the syscall for every verdict and leaves the
// decision to the LSM that receives it; on kernels with BPF signature checking (6.18+) the
// core's own check ([CoreCheck]) runs first and fails the load before Hornet for a bad
// signature. At BPF_PROG_RUN Hornet rechecks the program's used maps ([RunCheck]).
//
// Map hashes differ in one corner: gen_sig hashes the map file as given, the kernel hashes the
// ARRAY element padded to 8 bytes ([MapHash]); for an opts_data whose length is not a multiple
// of 8 Hornet reports UNEXPECTED. bpftool pads opts_data, so real skeletons are not affected.
package hornet
