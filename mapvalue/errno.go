package mapvalue

import "github.com/bpfsig/bpfsig/compat"

// The errnos bpf_map_verify_value_sig returns itself (the PKCS#7 ones come from the
// kernel model in internal/cms), with their Linux values on every platform.
var (
	errENOENT  error = compat.ENOENT
	errEINVAL  error = compat.EINVAL
	errEBADMSG error = compat.EBADMSG
	errENOPKG  error = compat.ENOPKG
)
