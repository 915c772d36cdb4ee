package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/fsverity"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/kerrno"
)

// loaderCommand is `bpfsig loader digest|sign|verify`: fs-verity-signed trusted loader
// executables.
func loaderCommand() *cli.Command {
	return &cli.Command{
		Name:  "loader",
		Usage: "fs-verity digests and signatures of trusted loader executables",
		Subcommands: []*cli.Command{
			loaderDigestCommand(),
			loaderSignCommand(),
			loaderVerifyCommand(),
		},
	}
}

// merkleFlags are fsverity-utils' Merkle tree options.
func merkleFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "hash-alg", Value: "sha256", Usage: "Merkle tree hash: sha256 or sha512"},
		&cli.IntFlag{Name: "block-size", Value: fsverity.DefaultBlockSize, Usage: "Merkle tree block size (a power of two)"},
		&cli.StringFlag{Name: "salt", Usage: "salt as `HEX` (up to 32 bytes)"},
	}
}

func merkleParams(c *cli.Context) (fsverity.Params, error) {
	a, err := fsverity.ParseHashAlgorithm(c.String("hash-alg"))
	if err != nil {
		return fsverity.Params{}, usage("--hash-alg: %v", err)
	}
	salt, err := hex.DecodeString(c.String("salt"))
	if err != nil {
		return fsverity.Params{}, usage("--salt: not hex: %v", err)
	}
	p := fsverity.Params{Algorithm: a, BlockSize: c.Int("block-size"), Salt: salt}
	if c.Int("block-size") <= 0 {
		return p, usage("--block-size %d: want a positive power of two", c.Int("block-size"))
	}
	// Validate once up front so a bad option is a usage error, not a per-file failure.
	if _, err := fsverity.Compute(nil, 0, p); err != nil {
		return p, usage("%v", err)
	}
	return p, nil
}

func loaderDigestCommand() *cli.Command {
	return &cli.Command{
		Name:      "digest",
		Usage:     "print fs-verity file digests as `fsverity digest` does (ALG:HEX FILE)",
		ArgsUsage: "FILE...",
		Flags:     append(merkleFlags(), &cli.BoolFlag{Name: "compact", Usage: "print only the hex digest"}),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("loader digest: no FILE given")
			}
			p, err := merkleParams(c)
			if err != nil {
				return err
			}
			for _, f := range c.Args().Slice() {
				d, err := fsverity.DigestFile(f, p)
				if err != nil {
					return failed("%v", err)
				}
				if c.Bool("compact") {
					fprintf(c.App.Writer, "%x\n", d.Digest)
				} else {
					fprintf(c.App.Writer, "%s %s\n", d, f)
				}
			}
			return nil
		},
	}
}

func loaderSignCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign a file's fsverity_formatted_digest as `fsverity sign` does; write it to -o and/or an xattr",
		ArgsUsage: "FILE",
		Flags: append(merkleFlags(), keyFlag, signCert,
			&cli.StringFlag{Name: "signer-id", Value: "issuer-serial", Usage: "signer identifier: issuer-serial (fsverity sign) or skid"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the detached PKCS#7 signature to `SIG`"},
			&cli.StringFlag{Name: "xattr", Usage: "also store the signature in the extended attribute `NAME` (the selftest gate reads " + fsverity.DefaultXattr + ")"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("loader sign: want exactly one FILE")
			}
			out, xattr := c.String("out"), c.String("xattr")
			if out == "" && xattr == "" {
				return usage("loader sign: give -o SIG, --xattr NAME or both")
			}
			if out != "" {
				// -o onto the executable would replace it with its own signature.
				if err := notAnInput(out, "-o", "file to sign", c.Args().First()); err != nil {
					return err
				}
				if err := notFlagFiles(c, out, "-o", "key", "cert"); err != nil {
					return err
				}
			}
			p, err := merkleParams(c)
			if err != nil {
				return err
			}
			s, err := loadSignerFrom(c, c.String("key"), c.String("cert"))
			if err != nil {
				return err
			}
			f := c.Args().First()
			d, err := fsverity.DigestFile(f, p)
			if err != nil {
				return failed("%v", err)
			}
			sig, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{SubjectKeyID: c.String("signer-id") == "skid"})
			if err != nil {
				return failed("%s: %v", f, err)
			}
			if out != "" {
				if err := atomicfile.WriteFile(out, sig, 0o644); err != nil {
					return failed("%v", err)
				}
			}
			if xattr != "" {
				if err := fsverity.WriteXattr(f, xattr, sig); err != nil {
					return failed("%v", err)
				}
			}
			fprintf(c.App.Writer, "Signed file '%s' (%s)\n", f, d)
			return nil
		},
	}
}

// loaderResult is one file's line of `bpfsig loader verify`.
type loaderResult struct {
	File            string `json:"file"`
	FileB64         string `json:"file_base64,omitempty"` // set when File is not valid UTF-8
	OK              bool   `json:"ok"`
	Errno           string `json:"errno"`
	Digest          string `json:"digest,omitempty"`
	DigestSource    string `json:"digest_source,omitempty"`
	SignatureSource string `json:"signature_source,omitempty"`
	SignatureSize   int    `json:"signature_size,omitempty"`
	Signer          string `json:"signer,omitempty"`
	Reason          string `json:"reason,omitempty"`
}

func loaderVerifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check loader executables as an fs-verity signature gate does",
		ArgsUsage: "FILE...",
		Flags: append(merkleFlags(), certFlag, keyringFlag, jsonFlag,
			&cli.StringFlag{Name: "sig", Usage: "detached signature `SIG` (default: the extended attribute)"},
			&cli.StringFlag{Name: "xattr", Value: fsverity.DefaultXattr, Usage: "extended attribute `NAME` holding the signature"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("loader verify: no FILE given")
			}
			if c.String("sig") != "" && c.NArg() != 1 {
				return usage("loader verify: --sig goes with exactly one FILE")
			}
			p, err := merkleParams(c)
			if err != nil {
				return err
			}
			trust, err := loadTrust(c, "cert", "keyring")
			if err != nil {
				return err
			}
			opts := fsverity.CheckOptions{Trust: trust.Certs, Xattr: c.String("xattr"), Params: p}
			if sp := c.String("sig"); sp != "" {
				if opts.Signature, err = mvReadFile(sp, fsverity.MaxXattrSize); err != nil {
					return failed("%v", err)
				}
			}
			var rs []*loaderResult
			allOK := true
			for _, f := range c.Args().Slice() {
				r := &loaderResult{File: f, FileB64: fsio.RawName(f)}
				fc, err := fsverity.CheckFile(f, opts)
				if fc != nil {
					r.Digest, r.DigestSource, r.SignatureSource, r.SignatureSize = fc.Digest.String(), fc.DigestSource, fc.SignatureSource, fc.SignatureSize
					if fc.Signer != nil {
						r.Signer = fc.Signer.ID + " " + fc.Signer.Algorithm + "/" + fc.Signer.Digest
					}
				}
				if err != nil {
					r.Errno, r.Reason = kerrno.Name(err), err.Error()
					if errors.Is(err, fsverity.ErrNoXattr) {
						r.Reason = fmt.Sprintf("%s: unsigned (no %s attribute)", f, opts.Xattr)
					}
				} else {
					r.OK = true
				}
				allOK = allOK && r.OK
				rs = append(rs, r)
			}
			return emit(c, rs, printLoaderResult, allOK)
		},
	}
}

func printLoaderResult(w io.Writer, r *loaderResult) {
	if r.OK {
		fprintf(w, "%s: OK %s (digest %s), signature from %s (%s bytes), signer %s\n",
			r.File, r.Digest, r.DigestSource, r.SignatureSource, strconv.Itoa(r.SignatureSize), r.Signer)
		return
	}
	e := r.Errno
	if e == "" {
		e = "ERROR"
	}
	if r.Digest != "" {
		fprintf(w, "%s: REJECTED %s %s (digest %s, signature from %s): %s\n", r.File, e, r.Digest, r.DigestSource, r.SignatureSource, r.Reason)
		return
	}
	fprintf(w, "%s: REJECTED %s: %s\n", r.File, e, r.Reason)
}
