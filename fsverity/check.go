package fsverity

import (
	"crypto/x509"
	"errors"
	"fmt"
)

// Digest sources reported by [CheckFile].
const (
	SourceKernel   = "fs-verity" // FS_IOC_MEASURE_VERITY on an fs-verity file
	SourceComputed = "computed"  // recomputed from the file's contents
)

// CheckOptions says how [CheckFile] finds the signature and the trusted keys.
type CheckOptions struct {
	// Trust stands in for the keyring the gate verifies against.
	Trust []*x509.Certificate
	// Signature, when non-nil, is the detached PKCS#7 signature; otherwise it is read from
	// the extended attribute Xattr.
	Signature []byte
	// Xattr is the attribute holding the signature; "" means DefaultXattr.
	Xattr string
	// Params are the Merkle tree parameters for a recomputed digest (an fs-verity file's
	// kernel-reported digest carries its own).
	Params Params
}

// FileCheck is what [CheckFile] found.
type FileCheck struct {
	Digest *FileDigest
	// DigestSource is SourceKernel or SourceComputed.
	DigestSource string
	// MeasureError says why the kernel's digest was not used (nil with SourceKernel).
	MeasureError error
	// SignatureSource is "file" (CheckOptions.Signature) or "xattr NAME".
	SignatureSource string
	SignatureSize   int
	// Signer is set whenever the signature parsed.
	Signer *Signer
}

// CheckFile judges the loader executable at path as a BPF LSM gate that trusts fs-verity
// digests does: the file digest is the one the kernel reports for an fs-verity file
// (FS_IOC_MEASURE_VERITY), else recomputed from the contents; the signature comes from
// opts.Signature or the extended attribute; the verdict is the kernel model's
// verify_pkcs7_signature over the fsverity_formatted_digest (see [Verify]). A missing
// attribute wraps [ErrNoXattr]; a rejected signature wraps the kernel's errno. The
// FileCheck is returned with every error after the digest was known.
func CheckFile(path string, opts CheckOptions) (*FileCheck, error) {
	fc := &FileCheck{}
	d, err := Measure(path)
	switch {
	case err == nil:
		fc.Digest, fc.DigestSource = d, SourceKernel
	case errors.Is(err, ErrNotVerity):
		fc.MeasureError = err
		d, err = DigestFile(path, opts.Params)
		if err != nil {
			return nil, err
		}
		fc.Digest, fc.DigestSource = d, SourceComputed
	default:
		return nil, err
	}
	sig := opts.Signature
	if sig != nil {
		fc.SignatureSource = "file"
	} else {
		name := opts.Xattr
		if name == "" {
			name = DefaultXattr
		}
		fc.SignatureSource = "xattr " + name
		sig, err = ReadXattr(path, name)
		if err != nil {
			return fc, err
		}
	}
	fc.SignatureSize = len(sig)
	fc.Signer, err = Verify(fc.Digest, sig, opts.Trust)
	if err != nil {
		return fc, fmt.Errorf("%s: %w", path, err)
	}
	return fc, nil
}
