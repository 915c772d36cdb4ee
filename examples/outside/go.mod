module example.com/outside

go 1.26.0

require github.com/bpfsig/bpfsig v0.0.0

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/bpfsig/bpfsig => ../..
