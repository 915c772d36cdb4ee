package fsverity

import "errors"

// DefaultXattr is the extended attribute a BPF LSM gate reads a file's signature from: the
// kernel's BPF selftest (test_sig_in_xattr.c) reads "user.sig" with bpf_get_file_xattr.
const DefaultXattr = "user.sig"

// MaxXattrSize is XATTR_SIZE_MAX, the largest extended attribute value Linux stores.
const MaxXattrSize = 65536

// ErrNoXattr reports a file without the requested extended attribute.
var ErrNoXattr = errors.New("fsverity: no such extended attribute")

// ErrNotVerity reports a file that does not have fs-verity enabled (or a filesystem that
// does not support it), so the kernel has no digest to report.
var ErrNotVerity = errors.New("fsverity: file does not have fs-verity enabled")
