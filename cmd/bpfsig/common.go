package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/pkcs11" // pkcs11: key URIs (cgo)
)

var (
	certFlag    = &cli.StringSliceFlag{Name: "cert", Usage: "trusted certificate `FILE` (PEM or DER; repeatable)"}
	keyringFlag = &cli.StringSliceFlag{Name: "keyring", Usage: "directory of trusted certificates (every certificate in `DIR`; repeatable)"}
	jsonFlag    = &cli.BoolFlag{Name: "json", Usage: "print JSON"}
	keyFlag     = &cli.StringFlag{Name: "key", Usage: "private key `FILE` (PEM or DER: PKCS#1, PKCS#8, SEC1)"}
	signCert    = &cli.StringFlag{Name: "cert", Usage: "the signer's certificate `FILE`"}
	signerID    = &cli.StringFlag{Name: "signer-id", Value: "skid", Usage: "signer identifier: skid (bpftool) or issuer-serial (sign-file)"}
	p11Module   = &cli.StringFlag{Name: "pkcs11-module", Usage: "PKCS#11 module `PATH` for pkcs11: keys (or BPFSIG_PKCS11_MODULE)"}
)

// loadTrust reads the trust set from --cert and --keyring; at least one is required.
func loadTrust(c *cli.Context, certName, dirName string) (*bpfsig.Trust, error) {
	files, dirs := c.StringSlice(certName), c.StringSlice(dirName)
	if len(files) == 0 && len(dirs) == 0 {
		return nil, usage("a trust set is required: --%s FILE or --%s DIR", certName, dirName)
	}
	t, err := bpfsig.LoadTrustFrom(files, dirs)
	if err != nil {
		return nil, failed("%v", err)
	}
	if len(t.Certs) == 0 {
		return nil, failed("the trust set is empty (no certificate in %v %v)", files, dirs)
	}
	return restrictTrust(c, t)
}

var restrictFlag = &cli.StringSliceFlag{Name: "restrict-to", Usage: "treat the trust set as a keyring restricted to keys signed by ROOT (`FILE`, repeatable), like keyctl restrict_keyring … key_or_keyring:ROOT"}

// restrictTrust applies --restrict-to: certificates no root signed are refused into the
// keyring (named on stderr, with the reason) and their signatures then fail with ENOKEY.
func restrictTrust(c *cli.Context, t *bpfsig.Trust) (*bpfsig.Trust, error) {
	paths := c.StringSlice("restrict-to")
	if len(paths) == 0 {
		return t, nil
	}
	roots, err := bpfsig.LoadTrustFrom(paths, nil)
	if err != nil {
		return nil, failed("--restrict-to: %v", err)
	}
	if len(roots.Certs) == 0 {
		return nil, failed("--restrict-to %v: no certificate", paths)
	}
	kept, refused := t.RestrictTo(roots.Certs)
	for _, r := range refused {
		fmt.Fprintf(c.App.ErrWriter, "bpfsig: --restrict-to: %v\n", r)
	}
	return kept, nil
}

// notFlagFiles refuses an output (flag) that names, by any spelling or link, a file the
// run reads through one of the flags named (--key, --cert, --policy, …; a PKCS#11 URI names
// no file): writing there would replace a key, a certificate or a policy with the output.
func notFlagFiles(c *cli.Context, out, flag string, names ...string) error {
	for _, name := range names {
		vals := c.StringSlice(name)
		if len(vals) == 0 && c.String(name) != "" {
			vals = []string{c.String(name)}
		}
		for _, v := range vals {
			if pkcs11.IsURI(v) {
				continue
			}
			if err := notAnInput(out, flag, "--"+name+" file", v); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadSigner reads --key and --cert (names given) and checks they belong together.
func loadSigner(c *cli.Context, keyName, certName string) (*bpfsig.Signer, error) {
	kp, cp := c.String(keyName), c.String(certName)
	if kp == "" {
		return nil, usage("signing needs --%s (and --%s)", keyName, certName)
	}
	return loadSignerFrom(c, kp, cp)
}

// loadSignerFrom reads a key (file or key URI) and certificate and checks they belong
// together; the --signer-id flag picks the CMS signer identifier.
func loadSignerFrom(c *cli.Context, kp, cp string) (*bpfsig.Signer, error) {
	if kp == "" {
		return nil, usage("signing needs a key and a certificate")
	}
	form, err := compat.ParseSignerIDForm(c.String("signer-id"))
	if err != nil {
		return nil, usage("--signer-id: %v", err)
	}
	opts := []bpfsig.SignerOption{bpfsig.WithSignerID(form), bpfsig.WithWarnings(func(w string) { logrus.Warn(w) })}
	if m := c.String("pkcs11-module"); m != "" {
		opts = append(opts, bpfsig.WithBackendOption("module-path", m))
	}
	s, err := bpfsig.LoadSigner(kp, cp, opts...)
	if errors.Is(err, pkcs11.ErrUsage) {
		return nil, usage("%v", err)
	}
	if err != nil {
		return nil, failed("%v", err)
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

// emit prints the per-file results rs as JSON or, one by one, as text, and fails (exit 1) unless
// allOK. The output goes through one buffer, written in large blocks; as before buffering, a
// failed write fails a JSON document and is not reported for text.
func emit[T any](c *cli.Context, rs []T, print func(io.Writer, T), allOK bool) error {
	w := bufio.NewWriterSize(c.App.Writer, outBufferSize)
	if c.Bool("json") {
		if err := writeJSON(w, rs); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	} else {
		for _, r := range rs {
			print(w, r)
		}
		w.Flush()
	}
	if !allOK {
		return failed("")
	}
	return nil
}

// outBufferSize is the size of the buffer per-file output is written through.
const outBufferSize = 64 << 10
