package mapvalue

import "golang.org/x/sys/unix"

// The errnos bpf_map_verify_value_sig returns itself (the PKCS#7 ones come from the
// kernel model in internal/cms). Linux values; kept in one place for the portable-errno
// conversion.
var (
	errENOENT  error = unix.ENOENT
	errEINVAL  error = unix.EINVAL
	errEBADMSG error = unix.EBADMSG
	errENOPKG  error = unix.ENOPKG
)
