package bpfsig

import "os"

func readRegular(path string, limit int64) ([]byte, error) {
	_ = limit
	return os.ReadFile(path)
}
