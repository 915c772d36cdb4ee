package compat

import (
	"bytes"
	"fmt"
)

// Report is what `bpfsig inspect` says about one skeleton. Nothing in it is verified against a
// trust set; it describes the content.
type Report struct {
	File           string     `json:"file"`
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
	Error          string     `json:"error"`
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

// Inspect describes a.
func Inspect(a *Artifact) *Report {
	d := Detect(a)
	r := &Report{
		File: a.Path, Name: a.File.Name(), Scheme: d.Scheme, Generation: d.Generation.String(), Evidence: d.Evidence,
		InsnBytes: len(a.Insn()), InsnSlots: len(a.Insn()) / 8, DataBytes: len(a.Data()),
		Maps: a.File.Maps(), Progs: a.File.Progs(), OverrideBlocks: []Override{},
	}
	ih, dh := a.InsnHash(), a.DataHash()
	r.InsnSHA256, r.DataSHA256 = hexs(ih[:]), hexs(dh[:])
	if a.LoaderErr != nil {
		r.Error = a.LoaderErr.Error()
	}
	if c := a.Check(); c != nil {
		r.EmbeddedHash = hexs(c.Hash[:])
		ok := c.Hash == dh
		r.MetadataHashOK = &ok
		r.CheckSlots = []int{c.Start, c.Start + c.Len - 1}
	}
	if a.Loader != nil {
		for _, b := range a.Loader.Overrides() {
			r.OverrideBlocks = append(r.OverrideBlocks, Override{Kind: b.Kind.String(), Map: OverrideMap(a, b), Slots: [2]int{b.Start, b.Start + b.Len - 1}})
		}
	}
	if e := a.ExclHash(); e != nil {
		r.ExclHash = hexs(e)
		ok := bytes.Equal(e, ih[:])
		r.ExclHashOK = &ok
	}
	if m, ok := a.SignatureMaps(); ok {
		r.SignatureMaps = m
	}
	if a.Signed() {
		ref := &SignerRef{Size: len(a.Sig())}
		if s, err := a.Signature(); err != nil {
			ref.Error = err.Error()
			if r.Error == "" {
				r.Error = fmt.Sprintf("opts_sig: %v", err)
			}
		} else {
			ref.IDForm, ref.ID = s.SignerID.String(), signerID(s.SignerString())
			ref.Algorithm, ref.Digest = s.AlgorithmName(), s.DigestName()
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
