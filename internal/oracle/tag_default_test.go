//go:build !oracle

package oracle

const oracleTag = false
