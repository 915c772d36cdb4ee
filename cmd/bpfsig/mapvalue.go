package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/mapvalue"
)

// mapvalueCommand is `bpfsig mapvalue sign|verify|inspect`: BPF_F_VERIFY_ELEM map values.
func mapvalueCommand() *cli.Command {
	return &cli.Command{
		Name:  "mapvalue",
		Usage: "signed BPF map values (BPF_F_VERIFY_ELEM, sign-file format)",
		Subcommands: []*cli.Command{
			mapvalueSignCommand(),
			mapvalueVerifyCommand(),
			mapvalueInspectCommand(),
		},
	}
}

func mapvalueSignCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign DATA into a map value: be32 len ‖ data ‖ PKCS#7 ‖ module_signature ‖ marker ‖ unverified",
		ArgsUsage: "DATA",
		Flags: []cli.Flag{
			keyFlag, signCert,
			&cli.StringFlag{Name: "signer-id", Value: "issuer-serial", Usage: "signer identifier: issuer-serial (sign-file) or skid (sign-file -k)"},
			&cli.StringFlag{Name: "hash", Value: "sha256", Usage: "PKCS#7 digest: sha256, sha384 or sha512 (sign-file's hash argument)"},
			&cli.IntFlag{Name: "value-size", Usage: "zero-pad the value to the map's value_size `N`"},
			&cli.StringFlag{Name: "unverified", Usage: "append the unsigned bytes of `FILE` after the marker"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the value to `VALUE`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("mapvalue sign: want exactly one DATA file")
			}
			out := c.String("out")
			if out == "" {
				return usage("mapvalue sign: -o VALUE is required")
			}
			form, err := mapvalue.ParseSignerID(c.String("signer-id"))
			if err != nil {
				return usage("--signer-id: %v", err)
			}
			h, ok := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}[c.String("hash")]
			if !ok {
				return usage("--hash must be sha256, sha384 or sha512")
			}
			if n := c.Int("value-size"); n < 0 || n > mapvalue.MaxValueSize {
				return usage("--value-size %d: want 0..%d", n, mapvalue.MaxValueSize)
			}
			if err := notFlagFiles(c, out, "-o", "key", "cert", "unverified"); err != nil {
				return err
			}
			if err := notAnInput(out, "-o", "DATA file", c.Args().First()); err != nil {
				return err
			}
			s, err := loadSignerFrom(c, c.String("key"), c.String("cert"))
			if err != nil {
				return err
			}
			in := c.Args().First()
			data, err := mvReadFile(in, mapvalue.MaxValueSize)
			if err != nil {
				return failed("%v", err)
			}
			var unv []byte
			if p := c.String("unverified"); p != "" {
				if unv, err = mvReadFile(p, mapvalue.MaxValueSize); err != nil {
					return failed("%v", err)
				}
			}
			v, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{SignerID: form, Digest: h, Unverified: unv, ValueSize: c.Int("value-size")})
			if err != nil {
				return failed("%s: %v", in, err)
			}
			if err := atomicfile.WriteFile(out, v, 0o644); err != nil {
				return failed("%v", err)
			}
			p, _ := mapvalue.Parse(v)
			fprintf(c.App.Writer, "%s: %d bytes (length word %d: data %d, PKCS#7 %d, module_signature %d, marker %d; unverified and padding %d)\n",
				out, len(v), p.Length, len(p.Data), len(p.Signature), mapvalue.ModuleSignatureSize, len(mapvalue.Marker), len(p.Unverified))
			return nil
		},
	}
}

// mapvalueResult is one value's line of `bpfsig mapvalue verify`.
type mapvalueResult struct {
	File        string `json:"file"`
	FileB64     string `json:"file_base64,omitempty"` // set when File is not valid UTF-8
	OK          bool   `json:"ok"`
	Errno       string `json:"errno"`
	Check       string `json:"check,omitempty"`
	Reason      string `json:"reason,omitempty"`
	VerifiedLen *int   `json:"verified_len"`
	Signer      string `json:"signer,omitempty"`
	SignerID    string `json:"signer_id,omitempty"`
	Algorithm   string `json:"algorithm,omitempty"`
	Digest      string `json:"digest,omitempty"`
	Error       string `json:"error,omitempty"`
}

func mapvalueVerifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "judge map values as bpf_map_verify_value_sig would (errno, verified length, signer)",
		ArgsUsage: "VALUE...",
		Flags:     []cli.Flag{certFlag, keyringFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("mapvalue verify: no VALUE given")
			}
			trust, err := loadTrust(c, "cert", "keyring")
			if err != nil {
				return err
			}
			var rs []*mapvalueResult
			allOK := true
			for _, p := range c.Args().Slice() {
				r := verifyValueFile(p, trust.Certs)
				allOK = allOK && r.OK
				rs = append(rs, r)
			}
			return emit(c, rs, printValueResult, allOK)
		},
	}
}

func verifyValueFile(path string, trust []*x509.Certificate) *mapvalueResult {
	r := &mapvalueResult{File: path, FileB64: fsio.RawName(path)}
	b, err := mvReadFile(path, mapvalue.MaxValueSize)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	res, err := mapvalue.Verify(b, trust)
	if res != nil {
		r.Signer, r.Algorithm, r.Digest = res.Signer, res.Algorithm, res.Digest
		if r.Signer != "" {
			r.SignerID = res.SignerID.String()
		}
	}
	if err != nil {
		r.Errno = kerrno.Name(err)
		var me *mapvalue.Error
		if errors.As(err, &me) {
			r.Check, r.Reason = string(me.Check), me.Reason
		} else {
			r.Reason = err.Error()
		}
		return r
	}
	r.OK = true
	n := res.VerifiedLen
	r.VerifiedLen = &n
	return r
}

func printValueResult(w io.Writer, r *mapvalueResult) {
	switch {
	case r.Error != "":
		fprintf(w, "%s: ERROR %s\n", r.File, r.Error)
	case r.OK:
		fprintf(w, "%s: OK verified %d bytes, signer %s (%s), %s/%s\n", r.File, *r.VerifiedLen, r.Signer, r.SignerID, r.Algorithm, r.Digest)
	default:
		fprintf(w, "%s: REJECTED %s at %s: %s\n", r.File, r.Errno, r.Check, r.Reason)
	}
}

func mapvalueInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show the layout of map values",
		ArgsUsage: "VALUE...",
		Flags:     []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("mapvalue inspect: no VALUE given")
			}
			type inspectJSON struct {
				File   string                    `json:"file"`
				B64    string                    `json:"file_base64,omitempty"`
				Size   int                       `json:"size"`
				Length uint32                    `json:"length"`
				Parts  []mapvalue.Part           `json:"parts"`
				Info   *mapvalue.ModuleSignature `json:"module_signature,omitempty"`
				Signer string                    `json:"signer,omitempty"`
				Errno  string                    `json:"errno,omitempty"`
				Error  string                    `json:"error,omitempty"`
			}
			var out []inspectJSON
			bad := false
			for _, p := range c.Args().Slice() {
				j := inspectJSON{File: p, B64: fsio.RawName(p)}
				b, err := mvReadFile(p, mapvalue.MaxValueSize)
				if err != nil {
					j.Error, bad = err.Error(), true
					out = append(out, j)
					continue
				}
				v, err := mapvalue.Parse(b)
				j.Size, j.Length, j.Parts = v.Size, v.Length, v.Parts()
				if err != nil {
					j.Errno, j.Error, bad = kerrno.Name(err), err.Error(), true
				} else {
					info := v.Info
					j.Info = &info
					if s, err := cms.Parse(v.Signature); err == nil {
						j.Signer = s.SignerString() + " " + s.AlgorithmName() + "/" + s.DigestName()
					} else {
						j.Signer = "unparsable PKCS#7: " + err.Error()
					}
				}
				out = append(out, j)
			}
			if c.Bool("json") {
				if err := writeJSON(c.App.Writer, out); err != nil {
					return err
				}
			} else {
				w := c.App.Writer
				for _, j := range out {
					fprintf(w, "%s: %d bytes, length word %d\n", j.File, j.Size, j.Length)
					for _, p := range j.Parts {
						fprintf(w, "  %-17s offset %6d  size %6d\n", p.Name, p.Offset, p.Size)
					}
					if j.Info != nil {
						fprintf(w, "  module_signature: algo %d hash %d id_type %d signer_len %d key_id_len %d sig_len %d\n",
							j.Info.Algo, j.Info.Hash, j.Info.IDType, j.Info.SignerLen, j.Info.KeyIDLen, j.Info.SigLen)
					}
					if j.Signer != "" {
						fprintf(w, "  signer: %s\n", j.Signer)
					}
					if j.Error != "" {
						fprintf(w, "  invalid: %s\n", j.Error)
					}
				}
			}
			if bad {
				return failed("")
			}
			return nil
		},
	}
}

// mvReadFile reads a regular file of at most max bytes (mapvalue and loader commands); a FIFO,
// device, socket or directory is refused at once (fsio.ReadFile), never waited on.
func mvReadFile(path string, max int64) ([]byte, error) {
	b, err := fsio.ReadFile(path, max)
	var tl *fsio.TooLargeError
	if errors.As(err, &tl) && tl.Size >= 0 {
		return nil, fmt.Errorf("%s: %d bytes exceeds the largest array map value (%d)", path, tl.Size, max)
	}
	return b, err
}
