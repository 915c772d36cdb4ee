package pkcs11

import (
	"crypto"
	"crypto/x509"

	"github.com/bpfsig/bpfsig"
)

// Importing the package makes bpfsig.LoadSigner accept pkcs11: URIs as keys; the option
// "module-path" (bpfsig.WithBackendOption) is the --pkcs11-module flag.
func init() {
	bpfsig.RegisterKeyBackend("pkcs11", func(uri string, opts map[string]string) (crypto.Signer, *x509.Certificate, error) {
		k, err := Open(uri, Options{ModulePath: opts["module-path"]})
		if err != nil {
			return nil, nil, err
		}
		return k, k.Certificate(), nil
	})
}
