package bpfsig

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/fsio"
)

// Report describes one skeleton's content, as `bpfsig inspect --json` prints it. Nothing in it is verified against a
// trust set; it describes the content.
type Report struct {
	File           string     `json:"file"`
	FileBase64     string     `json:"file_base64,omitempty"` // File's bytes when it is not valid UTF-8
	Name           string     `json:"name,omitempty"`
	Scheme         Scheme     `json:"scheme,omitempty"`
	Generation     string     `json:"generation"`
	Evidence       []string   `json:"evidence,omitempty"`
	InsnBytes      int        `json:"insn_bytes"`
	InsnSlots      int        `json:"insn_slots"`
	DataBytes      int        `json:"data_bytes"`
	InsnSHA256     string     `json:"insn_sha256,omitempty"`
	DataSHA256     string     `json:"data_sha256,omitempty"`
	CheckSlots     []int      `json:"check_slots,omitempty"` // first and last slot of the check block
	EmbeddedHash   string     `json:"embedded_hash"`
	MetadataHashOK *bool      `json:"metadata_hash_ok"`
	ExclHash       string     `json:"excl_hash"`
	ExclHashOK     *bool      `json:"excl_hash_ok"`
	OverrideBlocks []Override `json:"override_blocks"`
	SignatureMaps  []int32    `json:"signature_maps,omitempty"`
	SignerInfo     *SignerRef `json:"signer"`
	Maps           []string   `json:"maps,omitempty"`
	Progs          []string   `json:"progs,omitempty"`
	// Loader is what the loader creates; Findings what bpfsig sees statically.
	Loader   *LoaderSummary   `json:"loader,omitempty"`
	Findings []compat.Finding `json:"findings"`
	// Status is the scheme's standing (for example "refused upstream"), when it has one.
	Status string `json:"status,omitempty"`
	Error  string `json:"error"`
}

// Override is one host-override block.
type Override struct {
	Kind  string `json:"kind"`
	Map   string `json:"map"`
	Slots [2]int `json:"slots"`
}

// SignerRef describes the signature's signer as the CMS names it.
type SignerRef struct {
	IDForm    string `json:"id_form"`
	ID        string `json:"id"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
	Size      int    `json:"signature_size"`
	Error     string `json:"error,omitempty"`
}

// Inspect describes the skeleton's content. Nothing in the report is verified against a trust
// set.
func (s *Skeleton) Inspect() *Report {
	d := s.doc
	det, detErr := d.Detect()
	r := &Report{
		File: d.Path(), FileBase64: fsio.RawName(d.Path()), Name: d.Name(), Scheme: det.Scheme, Generation: d.CheckGeneration().String(), Evidence: slices.Clone(det.Evidence),
		InsnBytes: len(d.Insn()), InsnSlots: len(d.Insn()) / 8, DataBytes: len(d.Data()),
		Maps: d.File().Maps(), Progs: d.File().Progs(), OverrideBlocks: []Override{},
	}
	if detErr != nil {
		r.Error = detErr.Error()
	} else if st, err := s.strategy(); err == nil {
		r.Status = st.Info().Status
	}
	r.Findings = []compat.Finding{}
	if d.LoaderError() == nil {
		if ls, fs, err := s.Findings(""); err != nil {
			r.Error = err.Error()
		} else {
			r.Loader, r.Findings = &ls, fs
		}
	}
	ih, dh := d.InsnHash(), d.DataHash()
	r.InsnSHA256, r.DataSHA256 = hex.EncodeToString(ih[:]), hex.EncodeToString(dh[:])
	if err := d.LoaderError(); err != nil {
		r.Error = err.Error()
	}
	if c := d.Check(); c != nil {
		r.EmbeddedHash = hex.EncodeToString(c.Hash[:])
		ok := c.Hash == dh
		r.MetadataHashOK = &ok
		r.CheckSlots = []int{c.Start, c.Start + c.Len - 1}
	}
	for _, b := range d.Overrides() {
		r.OverrideBlocks = append(r.OverrideBlocks, Override{Kind: b.Kind.String(), Map: d.OverrideMap(b), Slots: [2]int{b.Start, b.Start + b.Len - 1}})
	}
	if e := d.ExclHash(); e != nil {
		r.ExclHash = hex.EncodeToString(e)
		ok := bytes.Equal(e, ih[:])
		r.ExclHashOK = &ok
	}
	if m, ok := d.SignatureMaps(); ok {
		r.SignatureMaps = m
	}
	if d.Signed() {
		ref := &SignerRef{Size: len(d.Sig())}
		if sig, err := d.Signature(); err != nil {
			ref.Error = err.Error()
			if r.Error == "" {
				r.Error = fmt.Sprintf("opts_sig: %v", err)
			}
		} else {
			ref.IDForm, ref.ID = sig.SignerID.String(), signerID(sig.SignerString())
			ref.Algorithm, ref.Digest = sig.AlgorithmName(), sig.DigestName()
		}
		r.SignerInfo = ref
	}
	return r
}

// signerID strips the "form:" prefix SignerString puts before a subject key identifier.
func signerID(s string) string {
	if len(s) > 5 && s[:5] == "skid:" {
		return s[5:]
	}
	return s
}
