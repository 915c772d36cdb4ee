// Package deps pins the module's dependencies while the packages that use them are written.
// Temporary: removed once every dependency has a real importer.
package deps

import (
	_ "github.com/cilium/ebpf"
	_ "github.com/cilium/ebpf/asm"
	_ "github.com/sirupsen/logrus"
	_ "github.com/smallstep/pkcs7"
	_ "github.com/urfave/cli/v2"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/cryptobyte"
	_ "golang.org/x/sys/unix"
)
