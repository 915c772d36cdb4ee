package main

import (
	"encoding/pem"
	"os"
	"testing"

	"github.com/bpfsig/bpfsig/internal/testfix"
)

// writeOtherCert writes the certificate of a key that signed nothing here.
func writeOtherCert(t *testing.T, path string) {
	der := testfix.P256Signer(t).Cert.Raw
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
