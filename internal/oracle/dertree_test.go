package oracle

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// derNode is one TLV of a definite-length DER/BER encoding, kept as a tree so that mutation
// tests can change one element and re-encode the lengths of everything around it.
type derNode struct {
	tag      []byte // identifier octets, as encoded
	value    []byte // primitive content
	children []*derNode
	cons     bool
}

var errDER = errors.New("der: malformed")

// parseDER parses b as a sequence of TLVs (definite lengths only).
func parseDER(b []byte) ([]*derNode, error) {
	var out []*derNode
	for len(b) > 0 {
		n, rest, err := parseTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		b = rest
	}
	return out, nil
}

func parseTLV(b []byte) (*derNode, []byte, error) {
	if len(b) < 2 {
		return nil, nil, errDER
	}
	i := 1
	if b[0]&0x1f == 0x1f {
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return nil, nil, errDER
	}
	n := &derNode{tag: bytes.Clone(b[:i]), cons: b[0]&0x20 != 0}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 3 || i+k > len(b) {
			return nil, nil, errDER
		}
		l = 0
		for _, c := range b[i : i+k] {
			l = l<<8 | int(c)
		}
		i += k
	}
	if i+l > len(b) {
		return nil, nil, errDER
	}
	content := b[i : i+l]
	if n.cons {
		kids, err := parseDER(content)
		if err != nil {
			return nil, nil, err
		}
		n.children = kids
	} else {
		n.value = bytes.Clone(content)
	}
	return n, b[i+l:], nil
}

func (n *derNode) encode() []byte {
	var content []byte
	if n.cons {
		for _, c := range n.children {
			content = append(content, c.encode()...)
		}
	} else {
		content = n.value
	}
	out := append(bytes.Clone(n.tag), derLength(len(content))...)
	return append(out, content...)
}

func derLength(l int) []byte {
	switch {
	case l < 0x80:
		return []byte{byte(l)}
	case l < 0x100:
		return []byte{0x81, byte(l)}
	case l < 0x10000:
		return []byte{0x82, byte(l >> 8), byte(l)}
	default:
		return []byte{0x83, byte(l >> 16), byte(l >> 8), byte(l)}
	}
}

// at follows child indexes from n.
func (n *derNode) at(path ...int) (*derNode, error) {
	cur := n
	for _, i := range path {
		if i < 0 || i >= len(cur.children) {
			return nil, fmt.Errorf("%w: no child %d", errDER, i)
		}
		cur = cur.children[i]
	}
	return cur, nil
}

// walk visits n and its descendants in encoding order.
func (n *derNode) walk(f func(*derNode)) {
	f(n)
	for _, c := range n.children {
		c.walk(f)
	}
}

// clone deep-copies n.
func (n *derNode) clone() *derNode {
	c := &derNode{tag: bytes.Clone(n.tag), value: bytes.Clone(n.value), cons: n.cons}
	for _, k := range n.children {
		c.children = append(c.children, k.clone())
	}
	return c
}

func TestDERTreeRoundTrip(t *testing.T) {
	for _, name := range []string{"legacy-v2.sig", "attrs.sig", "embedded-cert.sig", "nodetach.sig", "ecdsa-p256.sig"} {
		b, err := selftestFS.ReadFile("testdata/selftest/" + name)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := parseDER(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(nodes) != 1 {
			t.Fatalf("%s: %d top-level nodes", name, len(nodes))
		}
		if got := nodes[0].encode(); !bytes.Equal(got, b) {
			t.Errorf("%s: re-encoding differs", name)
		}
		if got := nodes[0].clone().encode(); !bytes.Equal(got, b) {
			t.Errorf("%s: clone re-encoding differs", name)
		}
	}
	for _, bad := range [][]byte{{0x30}, {0x30, 0x05, 0x01}, {0x30, 0x84, 1, 1, 1, 1}, {0x30, 0x80, 0, 0}} {
		if _, err := parseDER(bad); !errors.Is(err, errDER) {
			t.Errorf("parseDER(%x) = %v, want errDER", bad, err)
		}
	}
	if got := derLength(0x1234); !bytes.Equal(got, []byte{0x82, 0x12, 0x34}) {
		t.Errorf("derLength(0x1234) = %x", got)
	}
}
