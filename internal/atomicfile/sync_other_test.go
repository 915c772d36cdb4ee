//go:build !unix

package atomicfile

func flushAll() {}
