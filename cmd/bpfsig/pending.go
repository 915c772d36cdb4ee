package main

// TEMPORARY: replaced when internal/bpfsys and internal/oracle land.

import (
	"crypto/x509"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/compat"
)

type liveColumn struct {
	Kernel  string `json:"kernel"`
	Summary string `json:"summary"`
}

type liveCell struct {
	Scenario string `json:"scenario"`
	Column   string `json:"column"`
	Model    string `json:"model"`
	Live     string `json:"live"`
	Agree    bool   `json:"agree"`
}

type oracleAnswer struct {
	Kernel      string `json:"kernel"`
	KernelErrno string `json:"kernel_errno"`
	ModelErrno  string `json:"model_errno"`
}

func liveAsIs(a *compat.Artifact) *liveColumn { return nil }
func liveTamper(a *compat.Artifact, s *compat.Signer, scs []compat.Scenario) ([]liveCell, error) {
	return nil, nil
}
func askOracle(c *cli.Context, rs []*verifyResult, as []*compat.Artifact, trust []*x509.Certificate) error {
	return failed("--oracle: not available yet")
}
func probeCommand() *cli.Command  { return &cli.Command{Name: "probe"} }
func loadCommand() *cli.Command   { return &cli.Command{Name: "load"} }
func oracleCommand() *cli.Command { return &cli.Command{Name: "oracle"} }
