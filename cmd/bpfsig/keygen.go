package main

import (
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/keygen"
	"github.com/bpfsig/bpfsig/pkcs11"
)

// keygenCommand is `bpfsig keygen`: a new signing key and its certificate, self-signed or
// delegated by a root (--issuer-key, --issuer-cert). The rules live in package keygen.
func keygenCommand() *cli.Command {
	names := make([]string, len(keygen.Algorithms))
	for i, a := range keygen.Algorithms {
		names[i] = string(a)
	}
	return &cli.Command{
		Name:  "keygen",
		Usage: "make a signing key and a certificate the kernel accepts (self-signed or delegated)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "algo", Value: string(keygen.RSA2048), Usage: strings.Join(names, "|")},
			&cli.StringFlag{Name: "subject", Usage: "certificate common name (default \"" + keygen.DefaultSubject + "\")"},
			&cli.IntFlag{Name: "days", Value: keygen.DefaultDays, Usage: "validity in days"},
			&cli.StringFlag{Name: "key-out", Usage: "write the private key to `K` (mode 0600; must not exist)"},
			&cli.StringFlag{Name: "cert-out", Usage: "write the certificate to `C` (must not exist)"},
			&cli.BoolFlag{Name: "der", Usage: "write DER instead of PEM"},
			&cli.BoolFlag{Name: "ca", Usage: "make a root that can delegate (CA:TRUE, keyCertSign)"},
			&cli.StringFlag{Name: "issuer-key", Usage: "sign a delegated certificate with the root key `RK` (file or pkcs11: URI)"},
			&cli.StringFlag{Name: "issuer-cert", Usage: "the root's certificate `RC`"},
			&cli.StringFlag{Name: "pkcs11-module", Usage: "PKCS#11 module for a pkcs11: --issuer-key (else module-path= or $" + pkcs11.EnvModule + ")"},
			&cli.BoolFlag{Name: "json", Usage: "print what was made as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usage("keygen: no arguments expected, got %q", c.Args().First())
			}
			keyOut, certOut := c.String("key-out"), c.String("cert-out")
			if keyOut == "" || certOut == "" {
				return usage("keygen: --key-out and --cert-out are required")
			}
			alg, err := keygen.ParseAlgorithm(c.String("algo"))
			if err != nil {
				return usage("--algo: %v", err)
			}
			if c.Int("days") <= 0 {
				return usage("--days must be positive")
			}
			opts := keygen.CertOptions{Subject: c.String("subject"), Days: c.Int("days"), CA: c.Bool("ca")}
			ik, ic := c.String("issuer-key"), c.String("issuer-cert")
			if (ik == "") != (ic == "") {
				return usage("keygen: --issuer-key and --issuer-cert go together")
			}
			if ik != "" {
				if opts.CA {
					return usage("keygen: --ca with --issuer-key: delegated certificates are CA:FALSE")
				}
				issuer, closeIssuer, err := openIssuerKey(ik, c.String("pkcs11-module"))
				if err != nil {
					return err
				}
				defer closeIssuer()
				certs, err := keys.LoadCertificates(ic)
				if err != nil {
					return failed("keygen: --issuer-cert: %v", err)
				}
				opts.Issuer, opts.IssuerCert = issuer, certs[0]
			}
			key, cert, err := keygen.Generate(alg, opts)
			if err != nil {
				return failed("%v", err)
			}
			if err := keygen.WriteFiles(keyOut, certOut, key, cert, c.Bool("der")); err != nil {
				return failed("%v", err)
			}
			out := struct {
				Key        string `json:"key"`
				Cert       string `json:"cert"`
				Algorithm  string `json:"algorithm"`
				Subject    string `json:"subject"`
				Issuer     string `json:"issuer"`
				Delegated  bool   `json:"delegated"`
				CA         bool   `json:"ca"`
				SKID       string `json:"subject_key_id"`
				AKID       string `json:"authority_key_id"`
				NotAfter   string `json:"not_after"`
				SerialHex  string `json:"serial"`
				SigningAlg string `json:"signature_algorithm"`
			}{keyOut, certOut, string(alg), cert.Subject.String(), cert.Issuer.String(), ik != "", cert.IsCA,
				hex.EncodeToString(cert.SubjectKeyId), hex.EncodeToString(cert.AuthorityKeyId),
				cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z"), cert.SerialNumber.Text(16), cert.SignatureAlgorithm.String()}
			w := c.App.Writer
			if c.Bool("json") {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			kind := "self-signed"
			if out.Delegated {
				kind = "delegated by " + out.Issuer
			}
			if out.CA {
				kind += ", CA"
			}
			fmt.Fprintf(w, "key %s (%s)\ncertificate %s: %s, %s, skid %s, valid until %s\n",
				keyOut, alg, certOut, out.Subject, kind, out.SKID, out.NotAfter)
			return nil
		},
	}
}

// openIssuerKey loads the root key from a file or a PKCS#11 token.
func openIssuerKey(arg, module string) (crypto.Signer, func(), error) {
	if pkcs11.IsURI(arg) {
		k, err := pkcs11.Open(arg, pkcs11.Options{ModulePath: module})
		if err != nil {
			if errors.Is(err, pkcs11.ErrUsage) {
				return nil, nil, usage("--issuer-key: %v", err)
			}
			return nil, nil, failed("--issuer-key: %v", err)
		}
		return k, func() { k.Close() }, nil
	}
	s, err := keys.LoadSigner(arg)
	if err != nil {
		return nil, nil, failed("--issuer-key: %v", err)
	}
	return s, func() {}, nil
}
