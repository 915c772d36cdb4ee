// Package fsverity computes, signs and checks fs-verity file digests, for loader executables
// that a BPF LSM gate trusts by their fs-verity digest and a PKCS#7 signature.
//
// The file digest is the one the kernel (fs/verity/) reports with FS_IOC_MEASURE_VERITY and
// fsverity-utils prints with `fsverity digest`: the hash of the 256-byte
// fsverity_descriptor {version 1, hash_algorithm, log2(block size), salt size, 4 zero
// bytes, le64 file size, root hash (64 bytes, zero-padded), salt (32 bytes, zero-padded),
// 144 zero bytes}. The root hash is that of a Merkle tree over the file's blocks: every
// block (the last zero-padded) is hashed with the salt, zero-padded to the hash's input
// block size, prepended; the hashes are packed into blocks of the same size, zero-padded,
// and hashed again, level after level, until one hash remains. An empty file's root hash is
// all zeros. The defaults are those of `fsverity digest`: SHA-256, 4096-byte blocks, no salt.
//
// What is signed is the fsverity_formatted_digest: "FSVerity" ‖ le16 hash algorithm ‖ le16
// digest size ‖ digest. [Sign] writes the detached PKCS#7 SignedData `fsverity sign` writes
// (OpenSSL's PKCS7_sign profile: signer named by issuer and serial, digest algorithm equal
// to the fs-verity hash and encoded with NULL parameters, no certificates, no signed
// attributes), byte-identical for RSA. [Verify] checks such a signature as the kernel's
// verify_pkcs7_signature does (fs-verity built-in signatures and the BPF kfunc
// bpf_verify_pkcs7_signature both call it with VERIFYING_UNSPECIFIED_SIGNATURE), using the
// kernel model of internal/cms and returning its errno.
//
// The kernel's BPF selftest gate (tools/testing/selftests/bpf/progs/test_sig_in_xattr.c)
// reads the signature from the extended attribute [DefaultXattr] ("user.sig") and the
// digest with bpf_get_fsverity_digest; [ReadXattr] and [WriteXattr] move signatures in and
// out of such attributes, and [Measure] asks the kernel for an fs-verity file's digest.
package fsverity

import (
	"crypto"
	_ "crypto/sha256" // the two fs-verity hashes
	_ "crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// HashAlgorithm is an fs-verity hash algorithm number (FS_VERITY_HASH_ALG_*).
type HashAlgorithm uint8

const (
	SHA256 HashAlgorithm = 1 // FS_VERITY_HASH_ALG_SHA256
	SHA512 HashAlgorithm = 2 // FS_VERITY_HASH_ALG_SHA512
)

// String returns "sha256" or "sha512" as fsverity-utils names them.
func (a HashAlgorithm) String() string {
	switch a {
	case SHA256:
		return "sha256"
	case SHA512:
		return "sha512"
	}
	return fmt.Sprintf("hash-alg-%d", uint8(a))
}

// Hash returns the Go hash, or 0 for an unknown algorithm.
func (a HashAlgorithm) Hash() crypto.Hash {
	switch a {
	case SHA256:
		return crypto.SHA256
	case SHA512:
		return crypto.SHA512
	}
	return 0
}

// Size returns the digest size in bytes, or 0 for an unknown algorithm.
func (a HashAlgorithm) Size() int {
	if h := a.Hash(); h != 0 {
		return h.Size()
	}
	return 0
}

// ParseHashAlgorithm parses "sha256" or "sha512" (case-sensitive, as fsverity-utils).
func ParseHashAlgorithm(s string) (HashAlgorithm, error) {
	switch s {
	case "sha256":
		return SHA256, nil
	case "sha512":
		return SHA512, nil
	}
	return 0, fmt.Errorf("fsverity: unknown hash algorithm %q (available: sha256 sha512)", s)
}

// DefaultBlockSize is the block size `fsverity digest` uses by default.
const DefaultBlockSize = 4096

// MaxSaltSize is the size of the descriptor's salt field.
const MaxSaltSize = 32

// MaxBlockSize bounds the block size this package accepts (fsverity-utils accepts any power
// of two; the kernel only 1024 up to the page size).
const MaxBlockSize = 1 << 24

// DescriptorSize is sizeof(struct fsverity_descriptor) without the signature.
const DescriptorSize = 256

// Params are the Merkle tree parameters. The zero value is the default of `fsverity
// digest`: SHA-256, 4096-byte blocks, no salt.
type Params struct {
	Algorithm HashAlgorithm // 0 means SHA256
	BlockSize int           // 0 means DefaultBlockSize; a power of two ≥ 2 × the digest size
	Salt      []byte        // at most MaxSaltSize bytes
}

func (p Params) normalize() (Params, error) {
	if p.Algorithm == 0 {
		p.Algorithm = SHA256
	}
	if p.BlockSize == 0 {
		p.BlockSize = DefaultBlockSize
	}
	ds := p.Algorithm.Size()
	if ds == 0 {
		return p, fmt.Errorf("fsverity: unknown hash algorithm %d", uint8(p.Algorithm))
	}
	if p.BlockSize < 0 || bits.OnesCount(uint(p.BlockSize)) != 1 {
		return p, fmt.Errorf("fsverity: block size %d is not a power of two", p.BlockSize)
	}
	if p.BlockSize < 2*ds {
		return p, fmt.Errorf("fsverity: block size (%d) too small for hash algorithm %s", p.BlockSize, p.Algorithm)
	}
	if p.BlockSize > MaxBlockSize {
		return p, fmt.Errorf("fsverity: block size %d exceeds %d", p.BlockSize, MaxBlockSize)
	}
	if len(p.Salt) > MaxSaltSize {
		return p, fmt.Errorf("fsverity: salt of %d bytes exceeds %d", len(p.Salt), MaxSaltSize)
	}
	return p, nil
}

// FileDigest is an fs-verity file digest and its algorithm (struct fsverity_digest).
type FileDigest struct {
	Algorithm HashAlgorithm
	Digest    []byte
}

// String returns the digest as `fsverity digest` prints it: "sha256:HEX".
func (d *FileDigest) String() string {
	return d.Algorithm.String() + ":" + hex.EncodeToString(d.Digest)
}

// ParseFileDigest parses "ALG:HEX" as `fsverity digest` and `fsverity measure` print it.
func ParseFileDigest(s string) (*FileDigest, error) {
	name, h, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("fsverity: digest %q is not ALG:HEX", s)
	}
	a, err := ParseHashAlgorithm(name)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != a.Size() {
		return nil, fmt.Errorf("fsverity: digest %q: want %d hex bytes for %s", s, a.Size(), a)
	}
	return &FileDigest{Algorithm: a, Digest: b}, nil
}

// FormattedDigestMagic starts an fsverity_formatted_digest.
const FormattedDigestMagic = "FSVerity"

// Formatted returns the fsverity_formatted_digest the kernel verifies a built-in signature
// against: "FSVerity" ‖ le16 algorithm ‖ le16 digest size ‖ digest.
func (d *FileDigest) Formatted() []byte {
	b := make([]byte, 0, len(FormattedDigestMagic)+4+len(d.Digest))
	b = append(b, FormattedDigestMagic...)
	b = binary.LittleEndian.AppendUint16(b, uint16(d.Algorithm))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(d.Digest)))
	return append(b, d.Digest...)
}

func (d *FileDigest) check() error {
	if d == nil {
		return errors.New("fsverity: no digest")
	}
	if n := d.Algorithm.Size(); n == 0 || len(d.Digest) != n {
		return fmt.Errorf("fsverity: digest of %d bytes for algorithm %s", len(d.Digest), d.Algorithm)
	}
	return nil
}

// Descriptor returns the 256-byte fsverity_descriptor (sig_size 0) whose hash is the file
// digest, for a file of size bytes with the given root hash.
func Descriptor(p Params, size uint64, rootHash []byte) ([]byte, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, err
	}
	if len(rootHash) != p.Algorithm.Size() {
		return nil, fmt.Errorf("fsverity: root hash of %d bytes for %s", len(rootHash), p.Algorithm)
	}
	return descriptor(p, size, rootHash), nil
}

func descriptor(p Params, size uint64, root []byte) []byte {
	d := make([]byte, DescriptorSize)
	d[0] = 1
	d[1] = byte(p.Algorithm)
	d[2] = byte(bits.TrailingZeros(uint(p.BlockSize)))
	d[3] = byte(len(p.Salt))
	binary.LittleEndian.PutUint64(d[8:], size)
	copy(d[16:80], root)
	copy(d[80:112], p.Salt)
	return d
}

// Compute reads exactly size bytes from r and returns their fs-verity file digest. A reader
// that ends early is an error (io.ErrUnexpectedEOF).
func Compute(r io.Reader, size int64, p Params) (*FileDigest, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("fsverity: negative size %d", size)
	}
	root, err := rootHash(r, uint64(size), p)
	if err != nil {
		return nil, err
	}
	h := p.Algorithm.Hash().New()
	h.Write(descriptor(p, uint64(size), root))
	return &FileDigest{Algorithm: p.Algorithm, Digest: h.Sum(nil)}, nil
}

// rootHash computes the Merkle tree root hash level by level, keeping one pending block per
// level: a level's block is hashed into the next level when the next hash would not fit.
func rootHash(r io.Reader, size uint64, p Params) ([]byte, error) {
	h := p.Algorithm.Hash().New()
	ds := h.Size()
	root := make([]byte, ds)
	if size == 0 {
		return root, nil
	}
	bs := uint64(p.BlockSize)
	var salt []byte
	if len(p.Salt) > 0 {
		n := (len(p.Salt) + h.BlockSize() - 1) / h.BlockSize() * h.BlockSize()
		salt = make([]byte, n)
		copy(salt, p.Salt)
	}
	perBlock := bs / uint64(ds)
	levels := 0
	for blocks := (size + bs - 1) / bs; blocks > 1; blocks = (blocks + perBlock - 1) / perBlock {
		levels++
	}
	// pending[i] is level i's block being filled; pending[levels] is the root hash.
	pending := make([][]byte, levels+1)
	filled := make([]int, levels+1)
	for i := range levels {
		pending[i] = make([]byte, bs)
	}
	pending[levels] = root
	// hashInto hashes block (salt first) into level lvl and reports whether that level's
	// block is now full.
	hashInto := func(block []byte, lvl int) (bool, error) {
		if lvl > levels || filled[lvl]+ds > len(pending[lvl]) {
			return false, errors.New("fsverity: internal error: Merkle tree overflow")
		}
		h.Reset()
		h.Write(salt)
		h.Write(block)
		h.Sum(pending[lvl][filled[lvl]:filled[lvl]])
		filled[lvl] += ds
		return uint64(filled[lvl]+ds) > bs, nil
	}
	// flush zero-pads level lvl's block and hashes it into the next level, propagating.
	var flush func(lvl int) error
	flush = func(lvl int) error {
		clear(pending[lvl][filled[lvl]:])
		full, err := hashInto(pending[lvl], lvl+1)
		filled[lvl] = 0
		if err != nil || !full {
			return err
		}
		return flush(lvl + 1)
	}
	data := make([]byte, bs)
	for off := uint64(0); off < size; off += bs {
		n := min(bs, size-off)
		if _, err := io.ReadFull(r, data[:n]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("fsverity: reading at offset %d: %w", off, err)
		}
		clear(data[n:])
		full, err := hashInto(data, 0)
		if err != nil {
			return nil, err
		}
		if full {
			if err := flush(0); err != nil {
				return nil, err
			}
		}
	}
	for lvl := range levels {
		if filled[lvl] != 0 {
			if err := flush(lvl); err != nil {
				return nil, err
			}
		}
	}
	if filled[levels] != ds {
		return nil, errors.New("fsverity: internal error: no root hash")
	}
	return root, nil
}

// DigestFile computes the fs-verity digest of the file at path.
func DigestFile(path string, p Params) (*FileDigest, error) {
	f, st, err := fsio.Open(path) // a FIFO or device is refused, never waited on
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := Compute(f, st.Size(), p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}
