package main

// TEMPORARY: replaced when internal/bpfsys and internal/oracle land.

import (
	"crypto/x509"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/compat"
)

type oracleAnswer struct {
	Kernel      string `json:"kernel"`
	KernelErrno string `json:"kernel_errno"`
	ModelErrno  string `json:"model_errno"`
}

func askOracle(c *cli.Context, rs []*verifyResult, as []*compat.Artifact, trust []*x509.Certificate) error {
	return failed("--oracle: not available yet")
}
func oracleCommand() *cli.Command { return &cli.Command{Name: "oracle"} }
