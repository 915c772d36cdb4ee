package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/keys"
)

var (
	certFlag    = &cli.StringSliceFlag{Name: "cert", Usage: "trusted certificate `FILE` (PEM or DER; repeatable)"}
	keyringFlag = &cli.StringSliceFlag{Name: "keyring", Usage: "directory of trusted certificates (every certificate in `DIR`; repeatable)"}
	jsonFlag    = &cli.BoolFlag{Name: "json", Usage: "print JSON"}
	keyFlag     = &cli.StringFlag{Name: "key", Usage: "private key `FILE` (PEM or DER: PKCS#1, PKCS#8, SEC1)"}
	signCert    = &cli.StringFlag{Name: "cert", Usage: "the signer's certificate `FILE`"}
	signerID    = &cli.StringFlag{Name: "signer-id", Value: "skid", Usage: "signer identifier: skid (bpftool) or issuer-serial (sign-file)"}
)

// loadTrust reads the trust set from --cert and --keyring; at least one is required.
func loadTrust(c *cli.Context, certName, dirName string) ([]*x509.Certificate, error) {
	files, dirs := c.StringSlice(certName), c.StringSlice(dirName)
	if len(files) == 0 && len(dirs) == 0 {
		return nil, usage("a trust set is required: --%s FILE or --%s DIR", certName, dirName)
	}
	t, err := keys.LoadTrust(files, dirs)
	if err != nil {
		return nil, failed("%v", err)
	}
	if len(t.Certs) == 0 {
		return nil, failed("the trust set is empty (no certificate in %v %v)", files, dirs)
	}
	return t.Certs, nil
}

// loadSigner reads --key and --cert (names given) and checks they belong together.
func loadSigner(c *cli.Context, keyName, certName string) (*compat.Signer, error) {
	kp, cp := c.String(keyName), c.String(certName)
	if kp == "" || cp == "" {
		return nil, usage("signing needs --%s and --%s", keyName, certName)
	}
	return loadSignerFrom(c, kp, cp)
}

// loadSignerFrom reads a key and certificate file and checks they belong together; the
// --signer-id flag picks the CMS signer identifier.
func loadSignerFrom(c *cli.Context, kp, cp string) (*compat.Signer, error) {
	if kp == "" || cp == "" {
		return nil, usage("signing needs a key and a certificate")
	}
	if w, err := keys.CheckKeyFileMode(kp); err != nil {
		return nil, failed("%v", err)
	} else if w != "" {
		logrus.Warn(w)
	}
	k, err := keys.LoadSigner(kp)
	if err != nil {
		return nil, failed("%v", err)
	}
	certs, err := keys.LoadCertificates(cp)
	if err != nil {
		return nil, failed("%v", err)
	}
	if len(certs) == 0 {
		return nil, failed("%s: no certificate", cp)
	}
	if err := keys.MatchKey(k, certs[0]); err != nil {
		return nil, failed("%s and %s: %v", kp, cp, err)
	}
	s := &compat.Signer{Key: k, Cert: certs[0]}
	switch c.String("signer-id") {
	case "", "skid":
		s.CMS.SignerID = cms.SubjectKeyID
	case "issuer-serial":
		s.CMS.SignerID = cms.IssuerSerial
	default:
		return nil, usage("--signer-id must be skid or issuer-serial")
	}
	return s, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func fprintf(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format, args...) }
